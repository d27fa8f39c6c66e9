"""Scoring models on the mining benchmarks: BUCC (the staged zh-en sample or the official files), the
BUCC-style benchmark drawn from WMT, and Tatoeba in every staged language.

Chapters 4 and 6 both mine with these functions, so they live here rather than in either chapter.
A :class:`Miner` is a model with an embedding cache: encoding is the only expensive step, mining
itself (faiss k-NN, margins, thresholds) is recomputed from the cached embeddings in seconds. The
benchmarks are configured under ``chapters.04_bucc`` of the profile (k, splits, sizes).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sentence_transformers import SentenceTransformer

from mlkd_utils.baselines import baseline_folder, teacher_folder
from mlkd_utils.baselines import label as baseline_label
from mlkd_utils.config import Profile
from mlkd_utils.data.bucc import BUCCData, load_bucc
from mlkd_utils.data.bucc_style import build_bucc_style
from mlkd_utils.data.tatoeba import tatoeba_languages
from mlkd_utils.encode import resolve_bf16
from mlkd_utils.evaluation.tatoeba import evaluate_tatoeba
from mlkd_utils.experiments import _cached
from mlkd_utils.io import stable_hash
from mlkd_utils.mining.bucc import MiningResult, mine_and_score, split_bucc
from mlkd_utils.mining.cache import cached_mine
from mlkd_utils.mining.margin import RETRIEVAL_MODES, SCORINGS
from mlkd_utils.models import load_encoder, load_sentence_model, model_fingerprint
from mlkd_utils.paths import data_root
from mlkd_utils.results import to_rows, write_metrics
from mlkd_utils.teacher_cache import TeacherCache

#: The profile section that configures the benchmarks (chapter 4's).
SECTION = "04_bucc"
DEFAULTS = {
    "students": [],
    #: Systems mined as they are (``mlkd_utils.baselines``); None: the profile's ``baselines``.
    "baselines": None,
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
    return {**DEFAULTS, **profile.chapter(SECTION)}


@dataclass
class Miner:
    """One model with an embedding cache: ``embed(texts)`` encodes each distinct list once.

    ``source`` is the cache or a function that makes it: a trained student's weights are loaded only
    when something is not cached yet, so a restored run record renders without them."""

    label: str
    seed: int | None
    run_id: str
    folder: object
    source: TeacherCache | Callable[[], TeacherCache] | None
    #: Languages it was trained on besides English (empty for the teacher).
    languages: tuple[str, ...] = ()
    #: Another chapter's student (chapter 6's objectives): mined here from the embeddings that chapter
    #: cached, but left out of the 112-language Tatoeba sweep (~20 minutes per model on the cpu profile).
    guest: bool = False
    _made: TeacherCache | None = field(default=None, init=False, repr=False)

    @property
    def cache(self) -> TeacherCache:
        if self._made is None:
            self._made = self.source() if callable(self.source) else self.source
        return self._made

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.cache.raw_embeddings(texts, show_progress_bar=len(texts) > 5000)


def teacher_miner(profile: Profile) -> Miner:
    """The teacher, its embeddings cached under its fingerprint (shared by chapters 4 and 6)."""
    fp = model_fingerprint(profile.teacher)
    return Miner(
        "teacher",
        None,
        "",
        teacher_folder(profile),
        lambda: _cache(profile, load_sentence_model(profile.teacher), f"teacher-{fp[:12]}"),
    )


def baseline_miner(profile: Profile, name: str) -> Miner:
    """A system scored as it is (multilingual-e5-small with its prefix, mUSE): its embeddings cached
    under its weights' fingerprint, its scores in the folder the other chapters use for it."""
    model_id = f"baseline-{name.replace('/', '_')}-{model_fingerprint(name)[:12]}"
    return Miner(
        baseline_label(name),
        None,
        "",
        baseline_folder(profile, name),
        lambda: _cache(profile, load_encoder(name), model_id),
    )


def run_miner(profile: Profile, label: str, result, languages: tuple[str, ...], guest: bool = False) -> Miner:
    run_id = result.run_dir.name
    return Miner(
        label,
        result.info.get("seed"),
        run_id,
        result.run_dir,
        lambda: _cache(profile, result.load_model(), run_id),
        languages,
        guest,
    )


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


#: Part of every cached mining result's key once above 1: raise it when a change to the margin, the
#: threshold or the scoring would change a result, so that no kept result of the old code is served.
MINING_VERSION = 1


def splits_fingerprint(splits: dict[str, BUCCData]) -> str:
    """What a mining result depends on in the data: every sentence and gold pair of both splits."""
    return stable_hash(
        {
            name: [d.pair, sorted(d.source.items()), sorted(d.english.items()), sorted(d.gold)]
            for name, d in splits.items()
        }
    )


def mine(
    miner: Miner,
    splits: dict[str, BUCCData],
    k: int,
    mode: str = "max",
    scoring: str = "ratio",
    index: str = "flat",
    nprobe: int = 16,
    need_candidates: bool = True,
) -> MiningResult:
    """Mine the test split with the threshold tuned on the tune split; kept in the miner's folder, so a
    second call (or a fresh machine with the run's record) needs no encoding. Without
    ``need_candidates`` only the scores are asked for (the candidates may come back empty)."""
    key = {
        "splits": splits_fingerprint(splits),
        "k": k,
        "mode": mode,
        "scoring": scoring,
        "index": index,
        "nprobe": nprobe if index != "flat" else None,
        "model": miner.run_id or miner.label,
        **({"version": MINING_VERSION} if MINING_VERSION > 1 else {}),
    }
    return cached_mine(
        miner.folder,
        key,
        splits["test"],
        lambda: mine_and_score(
            splits["tune"], splits["test"], miner.embed, k=k, mode=mode, scoring=scoring, index=index, nprobe=nprobe
        ),
        need_candidates=need_candidates,
    )


def run_mining(
    profile: Profile,
    ms: list[Miner],
    chapter: str = SECTION,
    all_modes: bool = True,
    only: list[str] | None = None,
) -> pd.DataFrame:
    """P/R/F1 on every benchmark (or those named in ``only``; max retrieval, ratio margin) and, for the
    real BUCC corpora, every retrieval mode and scoring (``all_modes``); written to the tidy metrics of
    ``chapter`` as tasks ``mining`` and ``mining_modes``."""
    s = settings(profile)
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
                # another chapter's student (a guest) is read at the chapter's main setting only: its
                # scores come from that chapter's cache, and a restored record has no weights for more
                if bench_name.startswith("BUCC ") and all_modes and not m.guest
                else [("max", "ratio")]
            )
            for mode, scoring in combos:
                # the candidates of the real BUCC corpus are kept: the chapters plot them
                keep = bench_name.startswith("BUCC ") and (mode, scoring) == ("max", "ratio")
                r = mine(m, splits, s["k"], mode, scoring, need_candidates=keep)
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
    guests = {m.label for m in ms if m.guest}
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
        if not all_modes or model in guests:
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
    ms: list[Miner],
    chapter: str = SECTION,
    languages: list[str] | None = None,
    max_sentences: int | None = None,
) -> pd.DataFrame:
    """Tatoeba accuracy (cosine and margin) in every staged language (or ``languages``, LASER codes),
    cached per model; ``max_sentences`` per language defaults to this chapter's setting."""
    s = settings(profile)
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

        def run(m=m):
            return evaluate_tatoeba(
                m.cache.teacher_raw,  # without Normalize: cosine is unchanged
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
