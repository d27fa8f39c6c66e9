"""The runs behind chapter 3: every student of ``chapters.03_sts`` at every seed, the English-only
baseline, and the teacher, evaluated on STS17 (and Tatoeba for the students' own languages).

The notebook and a background job (``python -m mlkd_utils.chapters.ch3_sts --profile cpu``) call the same
function; runs and their scores are cached in the run folders, so whichever comes second costs
seconds.
"""

from __future__ import annotations

import argparse
import logging

import pandas as pd
from tqdm.auto import tqdm

from mlkd_utils.baselines import teacher_folder
from mlkd_utils.config import Profile, load_profile
from mlkd_utils.distill import distill, training_elsewhere
from mlkd_utils.english_baseline import NAME as ENGLISH_BASELINE
from mlkd_utils.english_baseline import train_english_baseline
from mlkd_utils.evaluation import STSB_MT_LANGUAGES, pair_scores, paired_bootstrap_difference, spearman_x100
from mlkd_utils.experiments import LazyModel, evaluate_model, evaluate_run, train_and_evaluate
from mlkd_utils.io import atomic_write_text, stable_hash
from mlkd_utils.models import load_sentence_model, model_fingerprint
from mlkd_utils.paths import data_root, runs_dir
from mlkd_utils.results import record_run

log = logging.getLogger(__name__)

CHAPTER = "03_sts"


def planned_runs(profile: Profile, chapter: str = CHAPTER) -> list[tuple[str, int]]:
    """(student, seed) in the order they are trained: every student at the first seed before any
    second seed, so an interrupted session still has one complete table. Students listed in
    ``one_seed`` (the long e5 runs) train at the first seed only: their seed spread is measured on
    shorter runs of the same recipe instead."""
    spec = profile.chapter(chapter)
    students = spec.get("students", [])
    seeds = spec.get("seeds", profile.seeds)
    one_seed = set(spec.get("one_seed", []))
    return [(name, seed) for i, seed in enumerate(seeds) for name in students if i == 0 or name not in one_seed]


def run_sts_study(
    profile: Profile,
    chapter: str = CHAPTER,
    include_sweeps: bool = False,
    seeds: list[int] | None = None,
    baseline: bool = True,
) -> pd.DataFrame:
    """Train what is missing, evaluate what is not cached; one row per run (name, seed, run id)."""
    rows = [_teacher(profile, chapter)]
    plan = planned_runs(profile, chapter)
    first_seed = plan[0][1] if plan else profile.seeds[0]
    if seeds is not None:  # a share of the plan, for several worker processes
        plan = [(name, seed) for name, seed in plan if seed in seeds]
    # a run that another process is training (a long e5 run in its own job) waits until the end,
    # so this job does every other run first instead of blocking on that run's lock
    busy = [(name, seed) for name, seed in plan if training_elsewhere(profile, name, seed)]
    if busy:
        log.info("trained by another process, left for the end: %s", busy)

    def run(name: str, seed: int) -> None:
        cfg = profile.student_config(name)
        result, _ = train_and_evaluate(profile, name, chapter, seed, tatoeba_languages=cfg.languages)
        rows.append({"model": name, "seed": seed, "run_id": result.run_dir.name})

    for name, seed in tqdm([p for p in plan if p not in busy], desc="students (name x seed)"):
        if baseline and seed != first_seed and not any(r["model"] == ENGLISH_BASELINE for r in rows):
            rows.append(_english_baseline(profile, chapter, first_seed))  # after one complete seed
        run(name, seed)
    if baseline and not any(r["model"] == ENGLISH_BASELINE for r in rows):
        rows.append(_english_baseline(profile, chapter, first_seed))
    if include_sweeps:  # chapter 2's settings study, queued behind this chapter in background jobs
        for name in [s for s in profile.students if s.startswith("sweep-")]:
            train_and_evaluate(profile, name, "02_distillation", profile.seeds[0], tasks=("sts17",))
    for name, seed in busy:  # now wait for them (their lock), then score them
        run(name, seed)
    return pd.DataFrame(rows)


def run_stsb_mt(profile: Profile, chapter: str = CHAPTER) -> None:
    """The machine-translated STS benchmark for the teacher, the English-only baseline (all its
    languages) and the first seed of each student (English plus the student's own languages)."""
    teacher = LazyModel(lambda: load_sentence_model(profile.teacher))
    evaluate_model(teacher, "teacher", profile, chapter, ("stsb_mt",), cache_dir=teacher_folder(profile))
    plan = planned_runs(profile, chapter)
    first_seed = plan[0][1] if plan else profile.seeds[0]
    evaluate_run(train_english_baseline(profile, first_seed), profile, chapter, ("stsb_mt",))
    for name in profile.chapter(chapter).get("students", []):
        langs = ["en", *[lang for lang in profile.student_config(name).languages if lang in STSB_MT_LANGUAGES]]
        evaluate_run(distill(profile, name, first_seed), profile, chapter, ("stsb_mt",), stsb_languages=langs)


def paired_pairs(profile: Profile, name: str, seed: int) -> dict[str, pd.DataFrame]:
    """Per-pair gold and cosine on every STS17 file for the teacher and one student run (cached as
    CSV in their folders): the input of the scatter plot and of the paired comparison."""
    result = distill(profile, name, seed)
    out = {}
    for label, folder, load in (
        ("teacher", teacher_folder(profile), lambda: load_sentence_model(profile.teacher)),
        (f"{name} (seed {seed})", result.run_dir, result.load_model),
    ):
        cap = {"max_pairs": profile.sts17_max_pairs} if profile.sts17_max_pairs is not None else {}
        key = stable_hash({"bf16": str(profile.bf16_inference), "data_root": str(data_root()), **cap})
        path = folder / "eval" / f"sts17-pairs-{key}.csv"
        if not path.is_file():
            frame = pair_scores(
                load(),
                batch_size=profile.encode_batch_size,
                bf16=profile.bf16_inference,
                max_pairs=profile.sts17_max_pairs,
            )
            atomic_write_text(path, frame.to_csv(index=False))
        out[label] = pd.read_csv(path)
    return out


def paired_differences(pairs: dict[str, pd.DataFrame], n_boot: int = 1000) -> pd.DataFrame:
    """Student minus teacher per STS17 file with a paired bootstrap 95% interval; ``real`` when the
    interval excludes zero."""
    (a_label, a), (b_label, b) = pairs.items()
    rows = []
    for subset, da in a.groupby("subset", sort=False):
        db = b[b.subset == subset].sort_values("pair")
        da = da.sort_values("pair")
        diff, lo, hi = paired_bootstrap_difference(
            da.cosine.to_numpy(), db.cosine.to_numpy(), da.gold.to_numpy(), n_boot=n_boot
        )
        rows.append(
            {
                "subset": subset,
                a_label: spearman_x100(da.cosine.to_numpy(), da.gold.to_numpy()),
                b_label: spearman_x100(db.cosine.to_numpy(), db.gold.to_numpy()),
                "difference": diff,
                "ci_low": lo,
                "ci_high": hi,
                "real": lo > 0 or hi < 0,
            }
        )
    return pd.DataFrame(rows).set_index("subset").round(1)


def _teacher(profile: Profile, chapter: str) -> dict:
    folder = teacher_folder(profile)
    teacher = LazyModel(lambda: load_sentence_model(profile.teacher))
    evaluate_model(teacher, "teacher", profile, chapter, ("sts17",), cache_dir=folder)
    if profile.student_init != "teacher":  # the untrained student initialisation, mean pooling
        init = LazyModel(lambda: load_sentence_model(profile.student_init))
        init_folder = runs_dir(profile.name) / f"init-{model_fingerprint(profile.student_init)[:12]}"
        evaluate_model(init, f"{profile.student_init} (untrained)", profile, chapter, ("sts17",), cache_dir=init_folder)
    return {"model": "teacher", "seed": None, "run_id": ""}


def _english_baseline(profile: Profile, chapter: str, seed: int) -> dict:
    result = train_english_baseline(profile, seed)
    evaluate_run(result, profile, chapter, ("sts17",))
    record_run(profile.name, result.run_dir.name, {"chapter": chapter, "seed": seed, "training": result.info})
    return {"model": ENGLISH_BASELINE, "seed": seed, "run_id": result.run_dir.name}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--sweeps", action="store_true", help="also chapter 2's settings study, at the end")
    parser.add_argument("--seeds", type=int, nargs="*", help="only these seeds (split the plan over processes)")
    parser.add_argument("--no-baseline", action="store_true", help="leave the English-only baseline to another process")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    study = run_sts_study(
        load_profile(args.profile), include_sweeps=args.sweeps, seeds=args.seeds, baseline=not args.no_baseline
    )
    print(study.to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
