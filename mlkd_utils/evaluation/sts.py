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

from mlkd_utils.data.sts import STS17_SUBSETS, STSData, load_sts17
from mlkd_utils.encode import encode


def spearman_x100(x: np.ndarray, y: np.ndarray) -> float:
    rx, ry = rankdata(x), rankdata(y)
    return float(np.corrcoef(rx, ry)[0, 1] * 100)


def bootstrap_spearman_ci(
    pred: np.ndarray, gold: np.ndarray, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    n = len(gold)
    idx = rng.integers(0, n, size=(n_boot, n))
    px = np.apply_along_axis(rankdata, 1, pred[idx])
    gy = np.apply_along_axis(rankdata, 1, gold[idx])
    px -= px.mean(axis=1, keepdims=True)
    gy -= gy.mean(axis=1, keepdims=True)
    denom = np.sqrt((px**2).sum(1) * (gy**2).sum(1))
    rho = np.where(denom > 0, (px * gy).sum(1) / np.where(denom > 0, denom, 1), 0.0) * 100
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


def evaluate_sts17(
    model: SentenceTransformer,
    subsets: list[str] | None = None,
    batch_size: int = 128,
    bf16: bool | str = "auto",
    n_boot: int = 1000,
) -> pd.DataFrame:
    """One row per STS17 file: ``subset, spearman, ci_low, ci_high, n``."""
    subsets = subsets or STS17_SUBSETS
    data = [load_sts17(s) for s in subsets]
    rows = []
    for d, cos in zip(data, cosine_scores(model, data, batch_size, bf16)):
        gold = np.asarray(d.scores)
        lo, hi = bootstrap_spearman_ci(cos, gold, n_boot=n_boot) if n_boot else (np.nan, np.nan)
        rows.append(
            {"subset": d.subset, "spearman": spearman_x100(cos, gold), "ci_low": lo, "ci_high": hi, "n": len(d)}
        )
    return pd.DataFrame(rows)
