"""STS 2017: Spearman correlation (x100) between cosine similarity and the gold scores.

All sentences of all requested files are encoded in one call (deduplicated), which is faster than
one encoder call per file and gives the same vectors. The 95% interval is a percentile bootstrap
over the sentence pairs of each file: 250 pairs make intervals of several points, which is what
a reader needs to know before reading a difference into a table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sentence_transformers import SentenceTransformer

from mlkd_utils.data.sts import STS17_SUBSETS, STSData, load_sts17, load_stsb
from mlkd_utils.encode import encode
from mlkd_utils.errors import ConfigError, DataFormatError


def spearman_x100(x: np.ndarray, y: np.ndarray) -> float:
    rx, ry = rankdata(x), rankdata(y)
    return float(np.corrcoef(rx, ry)[0, 1] * 100)


def _spearman_rows(pred: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Spearman x100 of each row pair, all rows at once (a row of tied values gives 0)."""
    px, gy = rankdata(pred, axis=1), rankdata(gold, axis=1)
    px -= px.mean(axis=1, keepdims=True)
    gy -= gy.mean(axis=1, keepdims=True)
    denom = np.sqrt((px**2).sum(1) * (gy**2).sum(1))
    return np.where(denom > 0, (px * gy).sum(1) / np.where(denom > 0, denom, 1), 0.0) * 100


def bootstrap_spearman_ci(
    pred: np.ndarray, gold: np.ndarray, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    n = len(gold)
    idx = rng.integers(0, n, size=(n_boot, n))
    rho = _spearman_rows(pred[idx], gold[idx])
    alpha = (1 - level) / 2
    return float(np.quantile(rho, alpha)), float(np.quantile(rho, 1 - alpha))


def cosine_scores(
    model: SentenceTransformer, data: list[STSData], batch_size: int = 128, bf16: bool | str = "auto"
) -> list[np.ndarray]:
    unique = sorted({s for d in data for s in (*d.sentences1, *d.sentences2)})
    index = {s: i for i, s in enumerate(unique)}
    emb = encode(model, unique, batch_size=batch_size, bf16=bf16)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True).clip(min=1e-12)
    out = []
    for d in data:
        a = emb[[index[s] for s in d.sentences1]]
        b = emb[[index[s] for s in d.sentences2]]
        out.append((a * b).sum(1))
    return out


#: Languages of the machine-translated STS benchmark (``stsb_multi_mt``), plus the English original.
STSB_MT_LANGUAGES = ["en", "de", "es", "fr", "it", "nl", "ru", "zh"]


def evaluate_sts(
    model: SentenceTransformer,
    data: list[STSData],
    batch_size: int = 128,
    bf16: bool | str = "auto",
    n_boot: int = 1000,
) -> pd.DataFrame:
    """One row per file: ``subset, spearman, ci_low, ci_high, n`` (95% percentile bootstrap)."""
    rows = []
    for d, cos in zip(data, cosine_scores(model, data, batch_size, bf16)):
        gold = np.asarray(d.scores)
        lo, hi = bootstrap_spearman_ci(cos, gold, n_boot=n_boot) if n_boot else (np.nan, np.nan)
        rows.append(
            {"subset": d.subset, "spearman": spearman_x100(cos, gold), "ci_low": lo, "ci_high": hi, "n": len(d)}
        )
    return pd.DataFrame(rows)


def load_sts17_files(subsets: list[str] | None = None, max_pairs: int | None = None) -> list[STSData]:
    """The STS17 files, each cut to its first ``max_pairs`` pairs (the quick profile's smoke test:
    encoding is most of an evaluation's time, and CI needs the path, not the number)."""
    data = [load_sts17(s) for s in subsets or STS17_SUBSETS]
    if max_pairs is None:
        return data
    return [
        STSData(d.subset, d.sentences1[:max_pairs], d.sentences2[:max_pairs], d.scores[:max_pairs], d.source)
        for d in data
    ]


def stsb_dev_pairs(pairs: list[str], max_pairs: int | None = None) -> list[STSData]:
    """Dev STS from the STS benchmark's dev split, for choosing recipes without the test files:
    ``en-en`` is STSb dev, ``en-xx`` pairs its English sentence 1 with the machine-translated
    sentence 2 of ``stsb_multi_mt`` (same rows, same gold scores), a cross-lingual dev set."""
    out = []
    english = load_stsb("dev", "en") if pairs else None
    for pair in pairs:
        first, _, second = pair.partition("-")
        if first != "en" or not second:
            raise ConfigError(f"dev_stsb pair {pair!r}: expected en-en or en-xx")
        other = english if second == "en" else load_stsb("dev", second)
        if len(other) != len(english) or other.scores != english.scores:
            raise DataFormatError(f"stsb_multi_mt {second}-dev does not follow STSb dev row by row")
        # evenly spaced rows: STSb dev is ordered by genre (captions, news, forums), keep all three
        n = len(english) if max_pairs is None else min(max_pairs, len(english))
        rows = np.linspace(0, len(english) - 1, n).round().astype(int)
        out.append(
            STSData(
                f"stsb-dev-{pair}",
                [english.sentences1[i] for i in rows],
                [other.sentences2[i] for i in rows],
                [english.scores[i] for i in rows],
                "stsb",
            )
        )
    return out


def evaluate_sts17(
    model: SentenceTransformer,
    subsets: list[str] | None = None,
    batch_size: int = 128,
    bf16: bool | str = "auto",
    n_boot: int = 1000,
    max_pairs: int | None = None,
) -> pd.DataFrame:
    """One row per STS17 file: ``subset, spearman, ci_low, ci_high, n``."""
    return evaluate_sts(model, load_sts17_files(subsets, max_pairs), batch_size, bf16, n_boot)


def evaluate_stsb_mt(
    model: SentenceTransformer,
    languages: list[str] | None = None,
    max_pairs: int | None = None,
    batch_size: int = 128,
    bf16: bool | str = "auto",
    n_boot: int = 1000,
) -> pd.DataFrame:
    """STS benchmark test split: English original and its machine translations (``subset`` = language).

    Machine-translated gold pairs keep the English scores, so translation errors count against the
    model: a second, larger same-language test (1,379 pairs) than STS17's 250, not a cleaner one.
    """
    data = []
    for lang in languages or STSB_MT_LANGUAGES:
        d = load_stsb("test", lang)
        n = len(d) if max_pairs is None else min(max_pairs, len(d))
        data.append(STSData(lang, d.sentences1[:n], d.sentences2[:n], d.scores[:n], d.source))
    return evaluate_sts(model, data, batch_size, bf16, n_boot)


def pair_scores(
    model: SentenceTransformer,
    subsets: list[str] | None = None,
    batch_size: int = 128,
    bf16: bool | str = "auto",
    max_pairs: int | None = None,
) -> pd.DataFrame:
    """Gold score and cosine of every pair of the STS17 files (long format: subset, pair, gold, cosine),
    for scatter plots and paired comparisons of two models on the same pairs."""
    data = load_sts17_files(subsets, max_pairs)
    frames = [
        pd.DataFrame({"subset": d.subset, "pair": np.arange(len(d)), "gold": d.scores, "cosine": cos})
        for d, cos in zip(data, cosine_scores(model, data, batch_size, bf16))
    ]
    return pd.concat(frames, ignore_index=True)


def paired_bootstrap_difference(
    pred_a: np.ndarray, pred_b: np.ndarray, gold: np.ndarray, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> tuple[float, float, float]:
    """Spearman(b) - Spearman(a) on the same pairs, with a percentile bootstrap interval.

    Resampling the pairs once for both models keeps their correlation: two overlapping
    per-model intervals can still hide a real difference, and this interval does not.
    """
    rng = np.random.default_rng(seed)
    n = len(gold)
    idx = rng.integers(0, n, size=(n_boot, n))  # the same draws as n_boot calls of size n
    diffs = _spearman_rows(pred_b[idx], gold[idx]) - _spearman_rows(pred_a[idx], gold[idx])
    alpha = (1 - level) / 2
    point = spearman_x100(pred_b, gold) - spearman_x100(pred_a, gold)
    return point, float(np.quantile(diffs, alpha)), float(np.quantile(diffs, 1 - alpha))
