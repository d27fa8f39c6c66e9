"""The runs behind chapter 3: every student of ``chapters.03_sts`` at every seed, the English-only
baseline, and the teacher, evaluated on STS17 (and Tatoeba for the students' own languages).

The notebook and a background job (``python -m mlkd_utils.chapters.ch3_sts --profile cpu``) call the same
function; runs and their scores are cached in the run folders, so whichever comes second costs
seconds.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass

import pandas as pd
from tqdm.auto import tqdm

from mlkd_utils import prose, tables
from mlkd_utils.baselines import teacher_folder
from mlkd_utils.config import Profile, load_profile
from mlkd_utils.data.sts import CROSSLINGUAL, MONOLINGUAL
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


def _single_language(profile: Profile, names: list[str]) -> dict[str, str]:
    """Bilingual students and their one language."""
    return {n: profile.student_config(n).languages[0] for n in names if len(profile.student_config(n).languages) == 1}


@dataclass
class _Tables:
    """What the Reading reads: the chapter's tables, computed once."""

    full: pd.DataFrame  # the ten files and their average
    cross: pd.Series  # the paper's seven cross-lingual files, averaged
    noise: float  # the largest seed sd of a cross-lingual average
    e5: str  # multilingual-e5-small as it is, when scored
    e5_rows: list[str]

    @property
    def top(self) -> str:
        return max(self.e5_rows, key=lambda m: self.cross[m])


def reading(
    profile: Profile,
    metrics: pd.DataFrame,
    models: list[str],
    english_students: list[str],
    e5_students: list[str],
    baselines: list[str],
    tatoeba: pd.DataFrame | None = None,
    diff: pd.DataFrame | None = None,
    best: str = "",
) -> prose.Reading:
    """The chapter's findings, read from its tables (see :mod:`mlkd_utils.prose`)."""
    spread = tables.seed_spread(metrics, CROSSLINGUAL, models)
    multi = spread[spread.seeds > 1]
    full = tables.sts_table(metrics, MONOLINGUAL + CROSSLINGUAL, models)
    t = _Tables(
        full=full,
        cross=tables.table2(metrics, models)["avg"],
        noise=float(multi["std"].max()) if len(multi) else 0.0,
        e5="multilingual-e5-small" if "multilingual-e5-small" in full.index else "",
        e5_rows=[m for m in e5_students if m in full.index],
    )
    r = prose.Reading("ch3_sts.reading")
    if t.e5_rows:
        _multilingual_start(r, t)
        _english_cost(r, t)
        _pair_or_ten(r, t, profile)
    _english_start(r, t, metrics, profile, [m for m in english_students if m in t.cross.index])
    _reference_rows(r, t, [b for b in baselines if b in t.cross.index and not b.startswith("multilingual-e5")])
    _noise(r, metrics, models, multi, diff, best)
    if tatoeba is not None:
        _tatoeba(r, t, tatoeba)
    _goals(r, t, profile.chapter(CHAPTER).get("goals", {}))
    return r


def _multilingual_start(r: prose.Reading, t: _Tables) -> None:
    top, cross, full = t.top, t.cross, t.full
    text = (
        f"The best student that starts from multilingual-e5-small, `{top}`, averages {prose.fmt(cross[top])} over "
        f"the paper's seven cross-lingual files and {prose.fmt(full.loc[top, 'avg'])} over all ten, against "
        f"{prose.fmt(cross.get('teacher', float('nan')))} for the teacher."
    )
    if t.e5:
        files = [s for s in MONOLINGUAL + CROSSLINGUAL if s in full.columns]
        lower = [s.upper() for s in files if full.loc[top, s] <= full.loc[t.e5, s]]
        text += (
            f" multilingual-e5-small as it is averages {prose.fmt(cross[t.e5])} cross-lingually: the student is "
            f"{prose.gap(cross[top], cross[t.e5], t.noise)} it (a seed moves such an average by up to "
            f"{prose.fmt(t.noise)} points), and higher on {prose.count(len(files) - len(lower), len(files), 'files')}"
            + (f" (not on {prose.names(lower)})." if lower else ".")
        )
        start = "multilingual-e5-small (no prefix)"
        if start in cross.index:
            text += (
                f" The same weights without the prefix, the students' actual start, average {prose.fmt(cross[start])} "
                f"cross-lingually and {prose.fmt(full.loc[start, 'avg'])} over the ten files: the student is "
                f"{prose.gap(cross[top], cross[start], t.noise)} its start."
            )
    quoted = tables.quoted_rows()
    text += (
        " For scale: "
        + "; ".join(f"{name} {prose.fmt(float(row['cross-lingual avg']))}" for name, row in quoted.iterrows())
        + "."
    )
    r.add("The multilingual start is what works.", text)
    r.add(
        "Each e5 student.",
        "; ".join(
            f"`{m}` {prose.fmt(cross[m])} cross-lingual, {prose.fmt(full.loc[m, 'avg'])} over ten files, "
            f"EN-EN {prose.fmt(full.loc[m, 'en-en'])}"
            for m in t.e5_rows
        )
        + ".",
    )


def _english_cost(r: prose.Reading, t: _Tables) -> None:
    full = t.full
    en = [full.loc[m, "en-en"] for m in t.e5_rows]
    refs = [m for m in ("teacher", t.e5) if m in full.index]
    below = "teacher" in full.index and all(v < full.loc["teacher", "en-en"] - t.noise for v in en)
    r.add(
        "What English pays.",
        f"EN-EN of the e5 students: {prose.span(en)}, against "
        + " and ".join(f"{prose.fmt(full.loc[m, 'en-en'])} for {_as_is(m)}" for m in refs)
        + (
            ". Every e5 student ends below the teacher on English: in the steps this profile gives, the "
            "student learns the teacher's English geometry back only in part."
            if below
            else ". English similarity stays within the noise of the teacher's."
        ),
    )


def _as_is(model: str) -> str:
    return "the teacher" if model == "teacher" else f"{model} as it is"


def _pair_or_ten(r: prose.Reading, t: _Tables, profile: Profile) -> None:
    singles = _single_language(profile, t.e5_rows)
    many = [m for m in t.e5_rows if m not in singles]
    parts = []
    for name, lang in singles.items():
        pair = tables.own_pair(lang)
        if many and pair in t.full.columns:
            m = max(many, key=lambda x: t.full.loc[x, pair])
            parts.append(
                f"On {pair.upper()} the bilingual `{name}` scores {prose.fmt(t.full.loc[name, pair])}, "
                f"the ten-language `{m}` {prose.fmt(t.full.loc[m, pair])}"
            )
    if parts:
        r.add(
            "One pair or ten languages.",
            ". ".join(parts) + ". The steps and pairs of each run are in chapter "
            "2's cost table: a bilingual run spends all of its steps on one pair.",
        )


def _english_start(r: prose.Reading, t: _Tables, metrics: pd.DataFrame, profile: Profile, eng: list[str]) -> None:
    if not eng:
        return
    gains = tables.own_pair_gains(metrics, {n: [lang] for n, lang in _single_language(profile, eng).items()})
    text = ""
    if len(gains):
        beyond = int((gains.gain > gains["student sd"].fillna(0)).sum())
        text += (
            f"On the file of its own pair, each English-start bilingual student ends {prose.span(gains.gain)} "
            f"points from the teacher (student minus teacher, mean over seeds; "
            f"{prose.count(beyond, len(gains), 'gains')} are positive by more than that student's seed sd). "
        )
    text += (
        f"Averaged over the seven cross-lingual files they end at {prose.span(t.cross[eng])}, against the "
        f"teacher's {prose.fmt(t.cross.get('teacher', float('nan')))}"
    )
    if t.e5_rows:
        text += f"; the lowest e5 student is at {prose.fmt(min(t.cross[t.e5_rows]))}"
    r.add("Without a multilingual start.", text + ". The paragraph before this section says why.")


def _reference_rows(r: prose.Reading, t: _Tables, others: list[str]) -> None:
    teacher = t.cross.get("teacher", float("nan"))
    if ENGLISH_BASELINE in t.cross.index:
        b = t.cross[ENGLISH_BASELINE]
        r.add(
            "English-only training.",
            f"Fine-tuned on the English STS benchmark alone, the teacher's "
            f"cross-lingual average becomes {prose.fmt(b)}, {prose.gap(b, teacher, t.noise)} the teacher's: "
            + (
                "training on English alone does not align languages."
                if abs(b - teacher) <= max(t.noise, 3.0)
                else "English data alone moved it."
            ),
        )
    if others and t.e5_rows:
        top = t.top
        r.add(
            "mUSE.",
            " ".join(
                f"{b} averages {prose.fmt(t.cross[b])} cross-lingually, {prose.gap(t.cross[b], t.cross[top], t.noise)} "
                f"`{top}`."
                for b in others
            )
            + " mUSE was trained on translation pairs and question-answer data of many languages, with STS-like "
            "tasks among them (the paper's caveat): a reference row, not a distilled competitor.",
        )


def _noise(
    r: prose.Reading,
    metrics: pd.DataFrame,
    models: list[str],
    multi: pd.DataFrame,
    diff: pd.DataFrame | None,
    best: str,
) -> None:
    text = ""
    if len(multi):
        text += (
            f"Over seeds, a student's cross-lingual average has a standard deviation of "
            f"{prose.span(multi['std'])} points ({len(multi)} students with several seeds). "
        )
    d = tables.select(metrics, task="sts17", metric="spearman", model=models).dropna(subset=["ci_low", "ci_high"])
    if len(d):
        half = float(((d.ci_high - d.ci_low) / 2).median())
        text += f"One file's bootstrap 95% interval reaches {prose.fmt(half)} points either side (median). "
    if diff is not None and len(diff):
        real = diff[diff.real]
        listed = ", ".join(f"{s.upper()} {prose.signed(v)}" for s, v in real.difference.items())
        text += (
            f"Paired on the same sentence pairs, `{best}` differs from the teacher beyond the 95% interval on "
            f"{prose.count(len(real), len(diff), 'files')}" + (f": {listed}." if listed else ".")
        )
    if text:
        r.add("How large a difference must be.", text)


def _tatoeba(r: prose.Reading, t: _Tables, tatoeba: pd.DataFrame) -> None:
    if not t.e5 or t.e5 not in tatoeba.index:
        return
    parts, deltas = [], []
    for m in [m for m in t.e5_rows if m in tatoeba.index]:
        own = tatoeba.loc[m].dropna()
        if len(own):
            deltas.append(float((own - tatoeba.loc[t.e5, own.index]).mean()))
            parts.append(f"`{m}` {prose.signed(deltas[-1])} points (mean over {len(own)} languages)")
    if not parts:
        return
    if max(abs(d) for d in deltas) < 2:
        verdict = (
            "every e5 student stays within two points of where it started: at this budget, distilling "
            "towards an English STS teacher costs e5 almost none of its exact-translation retrieval."
        )
    elif max(deltas) < 0:
        verdict = (
            "distilling towards an English STS teacher asks for similar sentences to be close, not for the "
            "translation to be the nearest of all, and costs retrieval, as the paper reports."
        )
    else:
        verdict = "some e5 students gain retrieval and others lose it: no single direction."
    r.add(
        "Exact translations.",
        "Tatoeba accuracy of the e5 students against multilingual-e5-small as it is: "
        + "; ".join(parts)
        + ". So "
        + verdict,
    )


def _goals(r: prose.Reading, t: _Tables, goals: dict[str, float]) -> None:
    """``goals`` maps a column (``cross-lingual``, ``ten files`` or an STS17 file), optionally prefixed
    ``model:``, to the value the profile aims at; the best e5 student is meant where no model is named."""
    if not goals or not t.e5_rows:
        return
    checks = []
    for key, target in goals.items():
        model, column = key.split(":", 1) if ":" in key else (t.top, key)
        if model not in t.full.index:
            continue
        col = {"cross-lingual": None, "ten files": "avg"}.get(column, column)
        value = t.cross[model] if col is None else t.full.loc[model, col]
        who = "" if model == t.top else f"`{model}` "
        checks.append(f"{who}{column} >= {prose.fmt(target)}: {prose.fmt(value)}, {prose.against(value, target)}")
    if checks:
        r.add(
            "Against the profile's goals",
            f"(`chapters.{CHAPTER}.goals`, for `{t.top}` unless named): " + "; ".join(checks) + ".",
        )


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
