"""The runs behind chapter 3: every student of ``chapters.03_sts`` at every seed, the English-only
baseline, and the teacher, evaluated on STS17 (and Tatoeba for the students' own languages).

The notebook and a background job (``python -m mlkd_utils.sts_study --profile cpu``) call the same
function; runs and their scores are cached in the run folders, so whichever comes second costs
seconds.
"""

from __future__ import annotations

import argparse
import logging

import pandas as pd
from tqdm.auto import tqdm

from mlkd_utils.config import Profile, load_profile
from mlkd_utils.english_baseline import NAME as ENGLISH_BASELINE
from mlkd_utils.english_baseline import train_english_baseline
from mlkd_utils.experiments import LazyModel, evaluate_model, train_and_evaluate
from mlkd_utils.models import load_sentence_model, model_fingerprint
from mlkd_utils.paths import runs_dir
from mlkd_utils.results import record_run

log = logging.getLogger(__name__)

CHAPTER = "03_sts"


def planned_runs(profile: Profile, chapter: str = CHAPTER) -> list[tuple[str, int]]:
    """(student, seed) in the order they are trained: every student at the first seed before any
    second seed, so an interrupted session still has one complete table."""
    spec = profile.chapter(chapter)
    students = spec.get("students", [])
    seeds = spec.get("seeds", profile.seeds)
    return [(name, seed) for seed in seeds for name in students]


def run_sts_study(profile: Profile, chapter: str = CHAPTER, include_sweeps: bool = False) -> pd.DataFrame:
    """Train what is missing, evaluate what is not cached; one row per run (name, seed, run id)."""
    rows = [_teacher(profile, chapter)]
    plan = planned_runs(profile, chapter)
    first_seed = plan[0][1] if plan else profile.seeds[0]
    for name, seed in tqdm(plan, desc="students (name x seed)"):
        if seed != first_seed and not any(r["model"] == ENGLISH_BASELINE for r in rows):
            rows.append(_english_baseline(profile, chapter, first_seed))  # after one complete seed
        cfg = profile.student_config(name)
        result, _ = train_and_evaluate(profile, name, chapter, seed, tatoeba_languages=cfg.languages)
        rows.append({"model": name, "seed": seed, "run_id": result.run_dir.name})
    if not any(r["model"] == ENGLISH_BASELINE for r in rows):
        rows.append(_english_baseline(profile, chapter, first_seed))
    if include_sweeps:  # chapter 2's settings study, queued behind this chapter in background jobs
        for name in [s for s in profile.students if s.startswith("sweep-")]:
            train_and_evaluate(profile, name, "02_distillation", profile.seeds[0], tasks=("sts17",))
    return pd.DataFrame(rows)


def _teacher(profile: Profile, chapter: str) -> dict:
    folder = runs_dir(profile.name) / f"teacher-{model_fingerprint(profile.teacher)[:12]}"
    teacher = LazyModel(lambda: load_sentence_model(profile.teacher))
    evaluate_model(teacher, "teacher", profile, chapter, ("sts17",), cache_dir=folder)
    if profile.student_init != "teacher":  # the untrained student initialisation, mean pooling
        init = LazyModel(lambda: load_sentence_model(profile.student_init))
        evaluate_model(init, f"{profile.student_init} (untrained)", profile, chapter, ("sts17",), cache_dir=folder)
    return {"model": "teacher", "seed": None, "run_id": ""}


def _english_baseline(profile: Profile, chapter: str, seed: int) -> dict:
    result = train_english_baseline(profile, seed)
    model = LazyModel(result.load_model)
    evaluate_model(
        model,
        ENGLISH_BASELINE,
        profile,
        chapter,
        ("sts17",),
        seed=seed,
        run_id=result.run_dir.name,
        cache_dir=result.run_dir,
    )
    record_run(profile.name, result.run_dir.name, {"chapter": chapter, "seed": seed, "training": result.info})
    return {"model": ENGLISH_BASELINE, "seed": seed, "run_id": result.run_dir.name}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--sweeps", action="store_true", help="also chapter 2's settings study, at the end")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print(run_sts_study(load_profile(args.profile), include_sweeps=args.sweeps).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
