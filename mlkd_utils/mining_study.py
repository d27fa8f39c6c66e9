"""The runs behind chapter 4: bitext mining (BUCC zh-en, the BUCC-style benchmark) and Tatoeba in
all staged languages, for the teacher and the students named in ``chapters.04_bucc``.

Encoding is the only expensive step, so embeddings are cached per (model, sentence list) on disk;
mining itself (faiss k-NN, margins, thresholds) is recomputed from them in seconds. A background
job (``python -m mlkd_utils.mining_study --profile cpu``) and the notebook call the same functions.
"""

from __future__ import annotations

import argparse
import logging
import random
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sentence_transformers import SentenceTransformer

from mlkd_utils.config import Profile, load_profile
from mlkd_utils.data.bucc import BUCCData, load_bucc
from mlkd_utils.data.bucc_style import build_bucc_style
from mlkd_utils.data.tatoeba import tatoeba_languages
from mlkd_utils.distill import distill
from mlkd_utils.encode import resolve_bf16
from mlkd_utils.evaluation.tatoeba import evaluate_tatoeba
from mlkd_utils.experiments import _cached
from mlkd_utils.mining.bucc import MiningResult, mine_and_score, split_bucc
from mlkd_utils.mining.knn import knn_search
from mlkd_utils.mining.margin import RETRIEVAL_MODES, SCORINGS, mine_candidates
from mlkd_utils.models import load_sentence_model, model_fingerprint
from mlkd_utils.paths import data_root
from mlkd_utils.results import to_rows, write_metrics
from mlkd_utils.sts_study import teacher_folder
from mlkd_utils.teacher_cache import TeacherCache

log = logging.getLogger(__name__)

CHAPTER = "04_bucc"
DEFAULTS = {
    "students": [],
    "seed": 42,
    "k": 4,
    "split_seed": 0,
    "bucc_max_sentences": None,
    #: BUCC corpora: one split cut in two halves, or the official protocol when both files exist,
    #: e.g. ``{pair: de-en, tune: sample, test: training}`` with the official BUCC 2018 downloads.
    "bucc": [{"pair": "zh-en", "split": "sample"}],
    "tatoeba_all_max_sentences": None,
    "timing_sizes": [10_000, 50_000, 150_000],
    "nprobe": 16,
}


def settings(profile: Profile) -> dict:
    return {**DEFAULTS, **profile.chapter(CHAPTER)}


@dataclass
class Miner:
    """One model with an embedding cache: ``embed(texts)`` encodes each distinct list once."""

    label: str
    seed: int | None
    run_id: str
    folder: object
    cache: TeacherCache
    #: Languages it was trained on besides English (empty for the teacher).
    languages: tuple[str, ...] = ()
    #: Another chapter's student (chapter 6's objectives): mined here from the embeddings that chapter
    #: cached, but left out of the 112-language Tatoeba sweep (~20 minutes per model on the cpu profile).
    guest: bool = False

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.cache.raw_embeddings(texts, show_progress_bar=len(texts) > 5000)


def miners(profile: Profile, objectives: bool = True) -> list[Miner]:
    """The teacher and the first-seed run of every student of the chapter (trained if missing), then
    with ``objectives`` every finished chapter-6 student of that seed (never trained here): the
    translation-ranking objectives mined next to the distilled students."""
    s = settings(profile)
    out = [teacher_miner(profile)]
    for name in s["students"]:
        result = distill(profile, name, s["seed"])
        out.append(_miner(profile, name, result, tuple(profile.student_config(name).languages)))
    if objectives:
        from mlkd_utils import objective_study  # it builds on this module

        known = {m.run_id for m in out}
        for label, result, langs in objective_study.finished_students(profile, s["seed"]):
            if result.run_dir.name not in known:
                out.append(_miner(profile, label, result, langs, guest=True))
    return out


def teacher_miner(profile: Profile) -> Miner:
    """The teacher, its embeddings cached under its fingerprint (shared by chapters 4 and 6)."""
    teacher = load_sentence_model(profile.teacher)
    fp = model_fingerprint(profile.teacher)
    return Miner("teacher", None, "", teacher_folder(profile), _cache(profile, teacher, f"teacher-{fp[:12]}"))


def _miner(profile: Profile, label: str, result, languages: tuple[str, ...], guest: bool = False) -> Miner:
    model = result.load_model()
    run_id = result.run_dir.name
    cache = _cache(profile, model, run_id)
    return Miner(label, result.info.get("seed"), run_id, result.run_dir, cache, languages, guest)


def _cache(profile: Profile, model: SentenceTransformer, model_id: str) -> TeacherCache:
    return TeacherCache(model, model_id, batch_size=profile.encode_batch_size, bf16=profile.bf16_inference)


def bucc_splits(profile: Profile, spec: dict) -> dict[str, BUCCData]:
    """Tune and test corpora of one BUCC entry: the official files when ``spec`` names a tune and a
    test split, else one split (the staged zh-en sample) cut into disjoint halves."""
    s = settings(profile)
    if "tune" in spec and "test" in spec:
        return {"tune": load_bucc(spec["pair"], spec["tune"]), "test": load_bucc(spec["pair"], spec["test"])}
    data = load_bucc(spec["pair"], spec.get("split", "sample"))
    if s["bucc_max_sentences"]:
        data = _subsample(data, s["bucc_max_sentences"], s["split_seed"])
    return split_bucc(data, seed=s["split_seed"])


def _subsample(data: BUCCData, n: int, seed: int) -> BUCCData:
    """At most ``n`` sentences per side (quick profile only): a quarter of them gold pairs (all the
    gold when fewer), the rest random others, so the sample still has distractors to mine past."""
    rng = random.Random(seed)
    gold = list(data.gold)
    if len(gold) > n // 4:
        chosen = set(rng.sample(sorted(gold), max(1, n // 4)))
        gold = [g for g in data.gold if g in chosen]
    gold_src, gold_en = {s for s, _ in gold}, {e for _, e in gold}
    every_gold = {i for pair in data.gold for i in pair}  # a dropped pair's sentences are no distractors

    def pick(sentences: dict[str, str], keep: set[str]) -> dict[str, str]:
        others = sorted(set(sentences) - every_gold)
        chosen = keep | set(rng.sample(others, max(0, min(len(others), n - len(keep)))))
        return {k: v for k, v in sentences.items() if k in chosen}

    return BUCCData(data.pair, pick(data.source, gold_src), pick(data.english, gold_en), gold)


def benchmarks(profile: Profile) -> dict[str, dict[str, BUCCData]]:
    """``BUCC zh-en`` plus ``BUCC-style <lang>``: name -> {tune, test}."""
    out = {f"BUCC {spec['pair']}": bucc_splits(profile, spec) for spec in settings(profile)["bucc"]}
    for lang in profile.bucc_style.languages:
        out[f"BUCC-style {lang}"] = build_bucc_style(profile.bucc_style, lang)
    return out


def mine(
    miner: Miner,
    splits: dict[str, BUCCData],
    k: int,
    mode: str = "max",
    scoring: str = "ratio",
    index: str = "flat",
    nprobe: int = 16,
) -> MiningResult:
    return mine_and_score(
        splits["tune"], splits["test"], miner.embed, k=k, mode=mode, scoring=scoring, index=index, nprobe=nprobe
    )


def run_mining(
    profile: Profile,
    ms: list[Miner] | None = None,
    chapter: str = CHAPTER,
    all_modes: bool = True,
    only: list[str] | None = None,
) -> pd.DataFrame:
    """P/R/F1 on every benchmark (or those named in ``only``; max retrieval, ratio margin) and, for the
    real BUCC corpora, every retrieval mode and scoring (``all_modes``); written to the tidy metrics of
    ``chapter`` as tasks ``mining`` and ``mining_modes``."""
    s = settings(profile)
    ms = ms or miners(profile)
    rows = []
    benches = benchmarks(profile)
    unknown = sorted(set(only or []) - set(benches))
    if unknown:
        from mlkd_utils.errors import ConfigError

        raise ConfigError(f"unknown mining benchmarks {unknown}; known: {sorted(benches)}")
    for bench_name, splits in benches.items():
        if only and bench_name not in only:
            continue
        for m in ms:
            combos = (
                [(mode, sc) for mode in RETRIEVAL_MODES for sc in SCORINGS]
                if bench_name.startswith("BUCC ") and all_modes
                else [("max", "ratio")]
            )
            for mode, scoring in combos:
                r = mine(m, splits, s["k"], mode, scoring)
                rows.append(
                    {
                        "model": m.label,
                        "seed": m.seed,
                        "run_id": m.run_id,
                        "benchmark": bench_name,
                        "mode": mode,
                        "scoring": scoring,
                        "precision": r.precision,
                        "recall": r.recall,
                        "f1": r.f1,
                        "threshold": r.threshold,
                        "tune_f1": r.tune_f1,
                        "n_gold": r.n_gold,
                    }
                )
    frame = pd.DataFrame(rows)
    for (model, seed, run_id), d in frame.groupby(["model", "seed", "run_id"], dropna=False):
        main = d[(d["mode"] == "max") & (d.scoring == "ratio")].rename(columns={"benchmark": "subset"})
        write_metrics(
            profile.name,
            to_rows(
                main,
                chapter=chapter,
                model=model,
                task="mining",
                metrics=["precision", "recall", "f1"],
                seed=_seed(seed),
                run_id=run_id,
            ),
        )
        modes = d[d.benchmark.str.startswith("BUCC ")]
        if not all_modes:
            continue
        modes = modes.assign(subset=modes.benchmark + ": " + modes["mode"] + " / " + modes.scoring)
        write_metrics(
            profile.name,
            to_rows(
                modes,
                chapter=chapter,
                model=model,
                task="mining_modes",
                metrics=["f1"],
                seed=_seed(seed),
                run_id=run_id,
            ),
        )
    return frame


def _seed(seed) -> int | None:
    return None if seed is None or pd.isna(seed) else int(seed)


def run_tatoeba_all(
    profile: Profile,
    ms: list[Miner] | None = None,
    chapter: str = CHAPTER,
    languages: list[str] | None = None,
    max_sentences: int | None = None,
) -> pd.DataFrame:
    """Tatoeba accuracy (cosine and margin) in every staged language (or ``languages``, LASER codes),
    cached per model; ``max_sentences`` per language defaults to this chapter's setting."""
    s = settings(profile)
    ms = ms or miners(profile)
    langs = list(languages) if languages else tatoeba_languages()
    cap = max_sentences or s["tatoeba_all_max_sentences"]
    frames = []
    for m in ms:
        key = {
            "languages": langs,
            "max": cap,
            "margin_k": 4,
            "bf16": resolve_bf16(profile.bf16_inference),
            "data_root": str(data_root()),
        }
        model = m.cache.teacher_raw  # without Normalize: cosine is unchanged

        def run(model=model):
            return evaluate_tatoeba(
                model,
                langs,
                cap,
                profile.encode_batch_size,
                profile.bf16_inference,
                margin=True,
                progress=True,
            )

        df = _cached(run, m.folder, "tatoeba_all", key)
        write_metrics(
            profile.name,
            to_rows(
                df,
                chapter=chapter,
                model=m.label,
                task="tatoeba_all",
                metrics=["accuracy", "margin_accuracy"],
                seed=m.seed,
                run_id=m.run_id,
            ),
        )
        frames.append(df.assign(model=m.label))
    return pd.concat(frames, ignore_index=True)


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--timing", action="store_true", help="also time exact vs IVF search (quiet machine)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    profile = load_profile(args.profile)
    ms = miners(profile)
    print(run_mining(profile, ms).to_string())
    print(run_tatoeba_all(profile, ms).groupby("model")[["accuracy", "margin_accuracy"]].mean())
    if args.timing:
        print(run_timing(profile).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


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
    step, and how often IVF finds the exact nearest neighbour."""
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
        r = mine(miner, splits, k, index=index, nprobe=nprobe)
        rows.append(
            {
                "index": index,
                "F1": r.f1,
                "mining seconds (test split)": seconds,
                "nearest neighbour = exact (%)": 100.0
                if index == "flat"
                else float((exact[:, 0] == approx[:, 0]).mean() * 100),
            }
        )
    return pd.DataFrame(rows).set_index("index").round(2)


def false_positives(result: MiningResult, n: int = 12) -> pd.DataFrame:
    """The highest-scoring accepted candidates that the gold calls non-parallel, as text."""
    c = result.candidates
    fp = c[(c.score > result.threshold) & ~c.gold].head(n)
    return fp[["score", "source", "english"]].round(3).reset_index(drop=True)


def tatoeba_summary(df: pd.DataFrame, profile: Profile, trained_on: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Mean accuracy over the languages each model was distilled on and over the rest; a model's
    languages come from ``trained_on`` or else from the profile's student of that name."""
    from mlkd_utils.config import TATOEBA_CODES

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
            print("no timing recorded yet: run `python -m mlkd_utils.mining_study --timing` on a quiet machine")
            return pd.DataFrame()
        return run_timing(profile)
    t = d.pivot_table(index="subset", values="value", columns="metric").reset_index()
    t["n_per_side"] = t.subset.astype(int)
    return t.drop(columns="subset").sort_values("n_per_side").set_index("n_per_side").round(2)
