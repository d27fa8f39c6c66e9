"""Tatoeba retrieval accuracy (LASER's protocol, reported as 100 - error rate), both directions."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sentence_transformers import SentenceTransformer

from mlkd_utils.data.tatoeba import load_tatoeba
from mlkd_utils.encode import encode


def retrieval_accuracy(src: np.ndarray, tgt: np.ndarray) -> float:
    """Share of rows whose nearest neighbour (cosine) in ``tgt`` is the aligned row, x100."""
    src = src / np.linalg.norm(src, axis=1, keepdims=True).clip(min=1e-12)
    tgt = tgt / np.linalg.norm(tgt, axis=1, keepdims=True).clip(min=1e-12)
    nearest = (src @ tgt.T).argmax(axis=1)
    return float((nearest == np.arange(len(src))).mean() * 100)


def evaluate_tatoeba(
    model: SentenceTransformer,
    languages: list[str],
    max_sentences: int | None = None,
    batch_size: int = 128,
    bf16: bool | str = "auto",
) -> pd.DataFrame:
    """Rows ``subset`` (three-letter code), ``xx->en``, ``en->xx``, ``accuracy`` (their mean), ``n``."""
    rows = []
    for lang in languages:
        pair = load_tatoeba(lang, max_sentences)
        xx = encode(model, pair.source, batch_size, bf16)
        en = encode(model, pair.english, batch_size, bf16)
        a, b = retrieval_accuracy(xx, en), retrieval_accuracy(en, xx)
        rows.append({"subset": pair.lang, "xx->en": a, "en->xx": b, "accuracy": (a + b) / 2, "n": len(en)})
    return pd.DataFrame(rows)
