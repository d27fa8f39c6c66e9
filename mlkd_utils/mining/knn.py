"""k nearest neighbours by cosine with faiss: exact (``IndexFlatIP``) or approximate (``IndexIVFFlat``).

Vectors are L2-normalised first, so inner product is cosine. For databases too large for one
index, ``shards`` splits the database, searches each part and merges the per-part top-k, which
is exact for the flat index and is how the search spreads over GPUs or machines.
"""

from __future__ import annotations

import math

import faiss
import numpy as np

INDEX_TYPES = ("flat", "ivf")


def normalize(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True).clip(min=1e-12)


def build_index(db: np.ndarray, index: str = "flat", nlist: int | None = None) -> faiss.Index:
    """``nlist`` defaults to about 4*sqrt(n) cells, the usual faiss rule of thumb."""
    dim = db.shape[1]
    if index == "flat":
        idx = faiss.IndexFlatIP(dim)
    elif index == "ivf":
        nlist = nlist or max(1, min(len(db) // 39, int(4 * math.sqrt(len(db)))))
        idx = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        idx.train(db)
    else:
        raise ValueError(f"unknown index {index!r}; known: {INDEX_TYPES}")
    idx.add(db)
    return idx


def knn_search(
    queries: np.ndarray,
    db: np.ndarray,
    k: int,
    index: str = "flat",
    nlist: int | None = None,
    nprobe: int = 16,
    shards: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """(similarities, ids), each ``(len(queries), k)``, best first. Inputs need not be normalised."""
    q, d = normalize(queries), normalize(db)
    k = min(k, len(d))
    bounds = np.linspace(0, len(d), shards + 1).astype(int)
    sims, ids = [], []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        idx = build_index(d[lo:hi], index, nlist)
        if index == "ivf":
            idx.nprobe = min(nprobe, idx.nlist)
        s, i = idx.search(q, min(k, hi - lo))
        if (i < 0).any():
            raise ValueError(
                f"IVF search found fewer than {k} neighbours for some queries (nprobe={idx.nprobe} of "
                f"{idx.nlist} cells): raise nprobe or use the flat index"
            )
        sims.append(s)
        ids.append(i + lo)
    if shards == 1:
        return sims[0], ids[0]
    s, i = np.concatenate(sims, axis=1), np.concatenate(ids, axis=1)
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(s, order, 1), np.take_along_axis(i, order, 1)
