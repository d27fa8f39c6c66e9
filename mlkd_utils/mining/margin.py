"""Ratio margin scoring (Artetxe & Schwenk 2019) and LASER's four candidate retrieval modes.

``margin(x, y) = cos(x, y) / (mean_kNN(x)/2 + mean_kNN(y)/2)``, where ``mean_kNN(x)`` is the mean
cosine of x to its k nearest neighbours on the other side. A pair scores high when the two are
closer to each other than to their other neighbours, which discounts "hub" sentences that are
close to everything; plain cosine (``scoring="cosine"``) is kept for comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlkd_utils.mining.knn import knn_both, knn_search

RETRIEVAL_MODES = ("forward", "backward", "intersection", "max")
SCORINGS = ("ratio", "cosine")


@dataclass
class Candidates:
    """Mined candidate pairs: row indices into x and y, and their scores (not yet thresholded)."""

    src: np.ndarray
    trg: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.src)


def mine_candidates(
    x: np.ndarray,
    y: np.ndarray,
    k: int = 4,
    mode: str = "max",
    scoring: str = "ratio",
    index: str = "flat",
    nprobe: int = 16,
) -> Candidates:
    """Best candidate pairs between embeddings ``x`` (source side) and ``y`` (English side).

    forward: each x with its best y; backward: each y with its best x; intersection: pairs that are
    each other's best; max: forward and backward pooled, taken greedily by score so that every
    sentence is used at most once (LASER's default for BUCC).
    """
    if mode not in RETRIEVAL_MODES:
        raise ValueError(f"unknown retrieval mode {mode!r}; known: {RETRIEVAL_MODES}")
    if scoring not in SCORINGS:
        raise ValueError(f"unknown scoring {scoring!r}; known: {SCORINGS}")
    if index == "blocked":
        (sim_xy, ids_xy), (sim_yx, ids_yx) = knn_both(x, y, k)
    else:
        sim_xy, ids_xy = knn_search(x, y, k, index=index, nprobe=nprobe)
        sim_yx, ids_yx = knn_search(y, x, k, index=index, nprobe=nprobe)
    mean_x, mean_y = sim_xy.mean(axis=1), sim_yx.mean(axis=1)
    # The k-NN search already returned every candidate's cosine; the margin only rescales it.
    fwd, bwd = sim_xy, sim_yx
    if scoring == "ratio":
        fwd = sim_xy / ((mean_x[:, None] + mean_y[ids_xy]) / 2)
        bwd = sim_yx / ((mean_y[:, None] + mean_x[ids_yx]) / 2)
    fwd_best = ids_xy[np.arange(len(x)), fwd.argmax(1)]
    bwd_best = ids_yx[np.arange(len(y)), bwd.argmax(1)]
    fwd_score, bwd_score = fwd.max(1), bwd.max(1)
    ax, ay = np.arange(len(x)), np.arange(len(y))
    if mode == "forward":
        return Candidates(ax, fwd_best, fwd_score)
    if mode == "backward":
        return Candidates(bwd_best, ay, bwd_score)
    if mode == "intersection":
        keep = bwd_best[fwd_best] == ax
        return Candidates(ax[keep], fwd_best[keep], fwd_score[keep])
    src = np.concatenate([ax, bwd_best])
    trg = np.concatenate([fwd_best, ay])
    score = np.concatenate([fwd_score, bwd_score])
    seen_src, seen_trg, keep = set(), set(), []
    for i in np.argsort(-score, kind="stable"):
        if src[i] not in seen_src and trg[i] not in seen_trg:
            seen_src.add(src[i])
            seen_trg.add(trg[i])
            keep.append(i)
    keep = np.asarray(keep, dtype=int)
    return Candidates(src[keep], trg[keep], score[keep])
