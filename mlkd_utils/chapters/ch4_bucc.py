"""The runs behind chapter 4: bitext mining (BUCC zh-en, the BUCC-style benchmark) and Tatoeba in
all staged languages, for the teacher and the students named in ``chapters.04_bucc``.

Encoding is the only expensive step, so embeddings are cached per (model, sentence list) on disk;
mining itself (faiss k-NN, margins, thresholds) is recomputed from them in seconds. A background
job (``python -m mlkd_utils.chapters.ch4_bucc --profile cpu``) and the notebook call the same functions.
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import pandas as pd

from mlkd_utils import prose, tables
from mlkd_utils.config import TATOEBA_CODES, Profile, load_profile
from mlkd_utils.data.bucc import BUCCData
from mlkd_utils.distill import DistillResult, distill
from mlkd_utils.errors import WeightsMissingError
from mlkd_utils.experiments import _cached
from mlkd_utils.mining.benchmark import (
    SECTION,
    Miner,
    baseline_miner,
    mine,
    run_miner,
    run_mining,
    run_tatoeba_all,
    settings,
    splits_fingerprint,
    teacher_miner,
)
from mlkd_utils.mining.bucc import MiningResult
from mlkd_utils.mining.knn import knn_search
from mlkd_utils.mining.margin import mine_candidates
from mlkd_utils.results import to_rows, write_metrics

log = logging.getLogger(__name__)

CHAPTER = SECTION


def miners(profile: Profile, guests: list[tuple[str, DistillResult, tuple[str, ...]]] = ()) -> list[Miner]:
    """The teacher, the systems scored as they are (e5-small, mUSE), the first-seed run of every
    student of the chapter (trained if missing), then every ``guest``: another chapter's finished
    student as (label, run, languages), e.g. chapter 6's objectives, mined next to the distilled
    students from the embeddings that chapter cached, never trained here. The notebook passes them,
    so this chapter does not import the other."""
    s = settings(profile)
    out = [teacher_miner(profile)]
    baselines = profile.baselines if s["baselines"] is None else s["baselines"]
    out += [baseline_miner(profile, name) for name in baselines]
    for name in s["students"]:
        result = distill(profile, name, s["seed"])
        out.append(run_miner(profile, name, result, tuple(profile.student_config(name).languages)))
    known = {m.run_id for m in out}
    for label, result, langs in guests:
        if result.run_dir.name not in known:
            out.append(run_miner(profile, label, result, langs, guest=True))
    return out


def prepare(
    profile: Profile, guests: list[tuple[str, DistillResult, tuple[str, ...]]] = (), worker: int = 0, workers: int = 1
) -> None:
    """The background job: mine every model and run the all-language Tatoeba for the chapter's own.
    A student recorded on another machine (no weights here) whose scores are not cached is trained
    again, forced; a guest without weights or cached scores is left out with a warning (its own
    chapter's job mines it). ``worker`` of ``workers`` takes every ``workers``-th model."""
    s = settings(profile)
    for m in miners(profile, guests)[worker::workers]:
        try:
            run_mining(profile, [m], CHAPTER)
            if not m.guest:
                run_tatoeba_all(profile, [m], CHAPTER)
        except WeightsMissingError:
            if m.guest:
                log.warning("%s: no weights here and no cached mining scores: left out", m.label)
                continue
            log.warning("%s has no weights here and scores to compute: training it again", m.label)
            result = distill(profile, m.label, s["seed"], force=True)
            m = run_miner(profile, m.label, result, m.languages)
            run_mining(profile, [m], CHAPTER)
            run_tatoeba_all(profile, [m], CHAPTER)


def time_knn(sizes: list[int], dim: int = 384, k: int = 4, nprobe: int = 16, seed: int = 0) -> pd.DataFrame:
    """Wall time of margin mining (both directions, max mode) with exact and IVF search on synthetic
    unit vectors, and the IVF's recall of the exact nearest neighbour. Clustered vectors stand in
    for sentence embeddings (uniform random ones make every neighbour equally far)."""
    import faiss

    rng = np.random.default_rng(seed)
    rows = []
    for n in sizes:
        centers = rng.normal(size=(max(16, n // 50), dim)).astype(np.float32)
        x = centers[rng.integers(0, len(centers), n)] + 0.5 * rng.normal(size=(n, dim)).astype(np.float32)
        y = x + 0.3 * rng.normal(size=(n, dim)).astype(np.float32)
        row = {"n_per_side": n, "dim": dim, "threads": faiss.omp_get_max_threads()}
        for index in ("flat", "ivf"):
            t0 = time.perf_counter()
            mine_candidates(x, y, k=k, mode="max", index=index, nprobe=nprobe)
            row[f"seconds_{index}"] = time.perf_counter() - t0
        q = x[: min(n, 2000)]
        _, exact = knn_search(q, y, 1)
        _, approx = knn_search(q, y, 1, index="ivf", nprobe=nprobe)
        row["ivf_recall_at_1"] = float((exact[:, 0] == approx[:, 0]).mean() * 100)
        rows.append(row)
        log.info("mining timing %s", row)
    return pd.DataFrame(rows)


def run_timing(profile: Profile) -> pd.DataFrame:
    s = settings(profile)
    df = time_knn(s["timing_sizes"], nprobe=s["nprobe"])
    rows = df.assign(subset=df.n_per_side.astype(str))
    write_metrics(
        profile.name,
        to_rows(
            rows,
            chapter=CHAPTER,
            model="faiss",
            task="mining_time",
            metrics=["seconds_flat", "seconds_ivf", "ivf_recall_at_1"],
            seed=None,
        ),
    )
    return df


def benchmark_sizes(benches: dict[str, dict[str, BUCCData]]) -> pd.DataFrame:
    """Sentences per side and gold pairs of every benchmark split: what a reader needs to judge F1."""
    rows = [
        {
            "benchmark": b,
            "split": split,
            "foreign sentences": len(d.source),
            "English sentences": len(d.english),
            "gold pairs": len(d.gold),
            "gold share of foreign side (%)": round(100 * len(d.gold) / max(1, len(d.source)), 1),
        }
        for b, splits in benches.items()
        for split, d in splits.items()
    ]
    return pd.DataFrame(rows).set_index(["benchmark", "split"])


def index_comparison(miner: Miner, splits: dict[str, BUCCData], k: int, nprobe: int) -> pd.DataFrame:
    """Exact against IVF search on real embeddings of one benchmark: F1, wall time of the mining
    step, and how often IVF finds the exact nearest neighbour. Kept in the miner's folder (the times
    are those of the machine that measured them), so a restored record renders without weights."""

    def run() -> pd.DataFrame:
        rows = []
        test = splits["test"]
        x = miner.embed(list(dict.fromkeys(test.source.values())))
        y = miner.embed(list(dict.fromkeys(test.english.values())))
        _, exact = knn_search(x, y, 1)
        _, approx = knn_search(x, y, 1, index="ivf", nprobe=nprobe)
        for index in ("flat", "ivf"):
            t0 = time.perf_counter()
            mine_candidates(x, y, k=k, index=index, nprobe=nprobe)
            seconds = time.perf_counter() - t0
            r = mine(miner, splits, k, index=index, nprobe=nprobe, need_candidates=False)
            rows.append(
                {
                    "subset": index,
                    "F1": r.f1,
                    "mining seconds (test split)": seconds,
                    "nearest neighbour = exact (%)": 100.0
                    if index == "flat"
                    else float((exact[:, 0] == approx[:, 0]).mean() * 100),
                }
            )
        return pd.DataFrame(rows)

    key = {"splits": splits_fingerprint(splits), "k": k, "nprobe": nprobe, "model": miner.run_id or miner.label}
    table = _cached(run, miner.folder, "index_comparison", key)
    return table.rename(columns={"subset": "index"}).set_index("index").round(2)


def false_positives(result: MiningResult, n: int = 12) -> pd.DataFrame:
    """The highest-scoring accepted candidates that the gold calls non-parallel, as text."""
    c = result.candidates
    fp = c[(c.score > result.threshold) & ~c.gold].head(n)
    return fp[["score", "source", "english"]].round(3).reset_index(drop=True)


def tatoeba_summary(df: pd.DataFrame, profile: Profile, trained_on: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Mean accuracy over the languages each model was distilled on and over the rest; a model's
    languages come from ``trained_on`` or else from the profile's student of that name."""
    rows = []
    for model, d in df.groupby("model", sort=False):
        if trained_on and model in trained_on:
            langs = trained_on[model]
        else:
            langs = profile.student_config(model).languages if model in profile.students else []
        seen = {TATOEBA_CODES[lang] for lang in langs}
        for group, part in (("distilled on", d[d.subset.isin(seen)]), ("never seen", d[~d.subset.isin(seen)])):
            if len(part):
                rows.append(
                    {
                        "model": model,
                        "languages": group,
                        "n languages": len(part),
                        "cosine accuracy": part.accuracy.mean(),
                        "margin accuracy": part.margin_accuracy.mean(),
                    }
                )
    return pd.DataFrame(rows).set_index(["model", "languages"]).round(1)


def timing_table(profile: Profile, metrics: pd.DataFrame) -> pd.DataFrame:
    """The recorded timing rows (the background job runs them on a quiet machine); run them here if
    there are none yet."""
    d = metrics[(metrics.task == "mining_time") & (metrics.chapter == CHAPTER)]
    if d.empty:
        if max(settings(profile)["timing_sizes"]) > 20_000:
            print("no timing recorded yet: run `python -m mlkd_utils.chapters.ch4_bucc --timing` on a quiet machine")
            return pd.DataFrame()
        return run_timing(profile)
    t = d.pivot_table(index="subset", values="value", columns="metric").reset_index()
    t["n_per_side"] = t.subset.astype(int)
    return t.drop(columns="subset").sort_values("n_per_side").set_index("n_per_side").round(2)


def reading(
    profile: Profile,
    mined: pd.DataFrame,
    miners: list[Miner],
    index_table: pd.DataFrame | None = None,
    tatoeba: pd.DataFrame | None = None,
    timing: pd.DataFrame | None = None,
) -> prose.Reading:
    """The chapter's findings from its tables: ``mined`` (every model, mode and scoring), the exact/IVF
    comparison, the Tatoeba summary and the timing table (see :mod:`mlkd_utils.prose`)."""
    r = prose.Reading("ch4_bucc.reading")
    main = mined[(mined["mode"] == "max") & (mined.scoring == "ratio")]
    f1 = main.pivot_table(index="model", columns="benchmark", values="f1", sort=False)
    own = [m.label for m in miners if not m.guest and m.label in f1.index]
    as_is = [m.label for m in miners if not m.run_id and m.label != "teacher" and m.label in f1.index]
    students = [m for m in own if m not in as_is and m != "teacher"]
    r.add(
        "Mining F1 (max retrieval, ratio margin).",
        " ".join(
            f"{b}: "
            + ", ".join(f"{m} {prose.fmt(f1.loc[m, b])}" for m in f1.loc[own, b].sort_values(ascending=False).index)
            + "."
            for b in f1.columns
        ),
    )
    if students and as_is:
        _claim(r, f1, students, as_is)
    e5 = "multilingual-e5-small"
    e5_students = [m for m in students if m.startswith("student-e5")]
    if e5 in f1.index and e5_students:
        r.add(
            "What distillation does to e5's mining.",
            "; ".join(
                f"`{m}` " + ", ".join(f"{b} {prose.signed(f1.loc[m, b] - f1.loc[e5, b])}" for b in f1.columns)
                for m in e5_students
            )
            + f" F1 points against {e5} as it is.",
        )
    guests = [m.label for m in miners if m.guest and m.label in f1.index]
    if guests:
        r.add(
            "Chapter 6's students.",
            " ".join(
                f"{b}: best `{f1.loc[guests, b].idxmax()}` {prose.fmt(f1.loc[guests, b].max())}, "
                f"worst `{f1.loc[guests, b].idxmin()}` {prose.fmt(f1.loc[guests, b].min())}."
                for b in f1.columns
            )
            + " Chapter 6 reads them against their STS scores.",
        )
    q = tables.quoted_bucc_rows()
    r.add(
        "Quoted for scale.",
        "; ".join(
            f"{name}: " + ", ".join(f"{lang} {prose.fmt(float(row[lang]))}" for lang in ("de", "fr", "ru", "zh"))
            for name, row in q.iterrows()
        )
        + " on the full official BUCC test sets, which are not staged here: not comparable cell by cell "
        "with our sample and our BUCC-style benchmark.",
    )
    _modes(r, mined)
    if index_table is not None and {"flat", "ivf"} <= set(index_table.index):
        flat, ivf = index_table.loc["flat"], index_table.loc["ivf"]
        r.add(
            "Exact against IVF on real embeddings.",
            f"F1 {prose.fmt(flat['F1'])} exact, {prose.fmt(ivf['F1'])} with "
            f"IVF, whose nearest neighbour is the exact one for {prose.fmt(ivf['nearest neighbour = exact (%)'])}% "
            f"of the queries; the mining step takes {prose.fmt(flat['mining seconds (test split)'], 2)} s exact and "
            f"{prose.fmt(ivf['mining seconds (test split)'], 2)} s with IVF at this size.",
        )
    if timing is not None and "n_per_side" in timing.columns:  # measured here, not read from the results
        timing = timing.set_index("n_per_side")
    if timing is not None and len(timing) and {"seconds_flat", "seconds_ivf"} <= set(timing.columns):
        n = int(timing.index.max())
        row = timing.loc[n]
        faster = timing[timing.seconds_ivf < timing.seconds_flat]
        r.add(
            "Scale.",
            f"At {n:,} sentences per side, exact mining takes {prose.fmt(row.seconds_flat)} s and IVF "
            f"{prose.fmt(row.seconds_ivf)} s ({prose.fmt(row.seconds_flat / row.seconds_ivf)}x), "
            "IVF recall of the exact "
            f"neighbour {prose.fmt(row.get('ivf_recall_at_1', float('nan')))}%. "
            + (
                f"IVF is faster from {int(faster.index.min()):,} per side on."
                if len(faster)
                else "IVF is not faster at any size measured."
            ),
        )
    if tatoeba is not None and len(tatoeba):
        _tatoeba(r, tatoeba, e5)
    goals = settings(profile).get("goals") or {}
    if goals and (e5_students or guests):
        checks = []
        # chapter 6's students start from e5 too: the goal is read for the distilled students and for
        # the best e5-start student of any objective, each named
        groups = [("best distilled e5 student", e5_students), ("best e5-start student of chapter 6", guests)]
        for bench, target in goals.items():
            if bench not in f1.columns:
                continue
            parts = []
            for what, models in groups:
                if models:
                    m = f1.loc[models, bench].idxmax()
                    v = f1.loc[m, bench]
                    parts.append(f"{what} `{m}` {prose.fmt(v)}, {prose.against(v, target)}")
            checks.append(f"{bench} F1 >= {prose.fmt(target)}: " + "; ".join(parts))
        if checks:
            r.add("Against the profile's goals", f"(`chapters.{CHAPTER}.goals`): " + "; ".join(checks) + ".")
    return r


def _claim(r: prose.Reading, f1: pd.DataFrame, students: list[str], as_is: list[str]) -> None:
    """The paper's claim: a distilled student loses to translation-trained systems on mining."""
    best_s = {b: f1.loc[students, b].idxmax() for b in f1.columns}
    best_t = {b: f1.loc[as_is, b].idxmax() for b in f1.columns}
    lost = [f1.loc[best_s[b], b] < f1.loc[best_t[b], b] for b in f1.columns]
    text = (
        f"The best distilled student is below the best system scored as it is ({prose.names(as_is)}, both "
        f"trained on translation pairs) on {prose.count(sum(lost), len(lost), 'benchmarks')}: "
        + "; ".join(
            f"{b} `{best_s[b]}` {prose.fmt(f1.loc[best_s[b], b])} against {best_t[b]} {prose.fmt(f1.loc[best_t[b], b])}"
            for b in f1.columns
        )
        + ". "
    )
    text += (
        "That is the paper's finding: distillation towards an STS teacher gives a space for similarity, "
        "and translation-trained systems mine better."
        if all(lost)
        else "So the paper's finding (translation-trained systems mine better) holds only in part here."
        if any(lost)
        else "So the paper's finding (translation-trained systems mine better) does not hold here."
    )
    if "teacher" in f1.index:
        gains = [f1.loc[best_s[b], b] - f1.loc["teacher", b] for b in f1.columns]
        text += (
            f" Against the teacher the best student's F1 differs by {prose.span(gains)} points (student minus teacher)."
        )
    r.add("Distilled students against translation-trained systems.", text)


def _modes(r: prose.Reading, mined: pd.DataFrame) -> None:
    bucc = next((b for b in mined.benchmark.unique() if b.startswith("BUCC ")), None)
    if bucc is None:
        return
    zh = mined[mined.benchmark == bucc]
    zh = zh[zh.groupby("model").f1.transform("size") > 1]  # guests are mined at the main setting only
    if zh.empty:
        return
    best = zh[(zh["mode"] == "max") & (zh.scoring == "ratio")].sort_values("f1").model.iloc[-1]
    d = zh[zh.model == best].set_index(["scoring", "mode"]).f1
    if ("cosine", "max") not in d.index:
        return
    top = d.idxmax()
    r.add(
        f"Scoring and retrieval mode ({bucc}, `{best}`).",
        f"Max retrieval with the ratio margin "
        f"{prose.fmt(d['ratio', 'max'])}, with plain cosine {prose.fmt(d['cosine', 'max'])}: the margin is "
        f"{prose.gap(d['ratio', 'max'], d['cosine', 'max'])} cosine. The best combination is {top[1]} with "
        f"{top[0]} scoring ({prose.fmt(d[top])}).",
    )


def _tatoeba(r: prose.Reading, tatoeba: pd.DataFrame, e5: str) -> None:
    t = tatoeba.reset_index()
    parts = []
    for model, d in t.groupby("model", sort=False):
        groups = {g: row for g, row in d.set_index("languages").iterrows()}
        seen, rest = groups.get("distilled on"), groups.get("never seen")
        part = f"`{model}`"
        if seen is not None:
            n = int(seen["n languages"])
            part += f" {prose.fmt(seen['cosine accuracy'])} on its {n} language{'s' if n != 1 else ''}"
        if rest is not None:
            sep = "," if seen is not None else ""
            where = "others" if seen is not None else "languages (none distilled on)"
            part += f"{sep} {prose.fmt(rest['cosine accuracy'])} on {int(rest['n languages'])} {where}"
        parts.append(part)
    r.add("Tatoeba, every staged language (cosine accuracy).", "; ".join(parts) + ".")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--timing", action="store_true", help="also time exact vs IVF search (quiet machine)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    profile = load_profile(args.profile)
    prepare(profile)
    if args.timing:
        print(run_timing(profile).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
