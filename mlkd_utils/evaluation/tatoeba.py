"""Tatoeba retrieval accuracy (LASER's protocol, reported as 100 - error rate), both directions."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sentence_transformers import SentenceTransformer

from mlkd_utils.data.tatoeba import load_tatoeba
from mlkd_utils.encode import encode
from mlkd_utils.mining.knn import normalize
from mlkd_utils.notebook import progress_bar


def retrieval_accuracy(src: np.ndarray, tgt: np.ndarray) -> float:
    """Share of rows whose nearest neighbour (cosine) in ``tgt`` is the aligned row, x100."""
    src, tgt = normalize(src), normalize(tgt)
    nearest = (src @ tgt.T).argmax(axis=1)
    return float((nearest == np.arange(len(src))).mean() * 100)


def margin_accuracy(src: np.ndarray, tgt: np.ndarray, k: int = 4) -> float:
    """Like :func:`retrieval_accuracy`, but candidates ranked by ratio margin (xSIM's margin mode):
    cosine divided by the mean cosine of both sentences to their k nearest neighbours."""
    src, tgt = normalize(src), normalize(tgt)
    sim = src @ tgt.T
    k = min(k, sim.shape[1], sim.shape[0])
    mean_src = -np.sort(-sim, axis=1)[:, :k].mean(1)
    mean_tgt = -np.sort(-sim, axis=0)[:k, :].mean(0)
    nearest = (sim / ((mean_src[:, None] + mean_tgt[None, :]) / 2)).argmax(axis=1)
    return float((nearest == np.arange(len(src))).mean() * 100)


def evaluate_tatoeba(
    model: SentenceTransformer,
    languages: list[str],
    max_sentences: int | None = None,
    batch_size: int = 128,
    bf16: bool | str = "auto",
    margin: bool = False,
    progress: bool = False,
) -> pd.DataFrame:
    """Rows ``subset`` (three-letter code), ``xx->en``, ``en->xx``, ``accuracy`` (their mean), ``n``;
    with ``margin`` also ``margin_accuracy`` (mean of both directions, ratio margin, k=4)."""
    from tqdm.auto import tqdm

    rows = []
    for lang in tqdm(languages, desc="Tatoeba languages", disable=not progress_bar(progress)):
        pair = load_tatoeba(lang, max_sentences)
        xx = encode(model, pair.source, batch_size, bf16)
        en = encode(model, pair.english, batch_size, bf16)
        a, b = retrieval_accuracy(xx, en), retrieval_accuracy(en, xx)
        row = {"subset": pair.lang, "xx->en": a, "en->xx": b, "accuracy": (a + b) / 2, "n": len(en)}
        if margin:
            row["margin_accuracy"] = (margin_accuracy(xx, en) + margin_accuracy(en, xx)) / 2
        rows.append(row)
    return pd.DataFrame(rows)
