"""k nearest neighbours by cosine with faiss: exact (``IndexFlatIP``) or approximate (``IndexIVFFlat``).

Vectors are L2-normalised first, so inner product is cosine. For databases too large for one
index, ``shards`` splits the database, searches each part and merges the per-part top-k, which
is exact for the flat index and is how the search spreads over GPUs or machines.

Margin scoring needs both directions (each x among the ys and each y among the xs); ``blocked``
(:func:`knn_both`) gets both, exactly, from one pass over the similarity matrix, where two faiss
searches compute every cosine twice.
"""

from __future__ import annotations

import math

import faiss
import numpy as np

INDEX_TYPES = ("flat", "ivf", "blocked")


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
    if index == "blocked":
        return knn_both(queries, db, k)[0]
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


def knn_both(
    x: np.ndarray, y: np.ndarray, k: int, block: int = 2048
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Exact k-NN of every x among the ys *and* of every y among the xs, from one matmul pass.

    Rows of the cosine matrix are computed ``block`` at a time: each block's row top-k is final
    (x -> y), and its column top-k is merged into a running top-k per y (y -> x). Same results as
    two exact searches (up to the order of exact ties) for half the multiply-adds.
    """
    import torch

    xt, yt = torch.from_numpy(normalize(x)), torch.from_numpy(normalize(y))
    kx, ky = min(k, len(y)), min(k, len(x))
    fwd_s, fwd_i = [], []
    col_s = torch.full((0, len(y)), -torch.inf)
    col_i = torch.zeros((0, len(y)), dtype=torch.long)
    with torch.inference_mode():
        for lo in range(0, len(x), block):
            sims = xt[lo : lo + block] @ yt.T
            s, i = sims.topk(kx, dim=1)
            fwd_s.append(s)
            fwd_i.append(i)
            s, i = sims.topk(min(ky, len(sims)), dim=0)
            both_s, both_i = torch.cat([col_s, s]), torch.cat([col_i, i + lo])
            col_s, pos = both_s.topk(min(ky, len(both_s)), dim=0)
            col_i = both_i.gather(0, pos)
    forward = (torch.cat(fwd_s).numpy(), torch.cat(fwd_i).numpy())
    backward = (np.ascontiguousarray(col_s.T.numpy()), np.ascontiguousarray(col_i.T.numpy()))
    return forward, backward
