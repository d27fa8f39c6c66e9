"""Choosing the score threshold on gold by the best F1 (LASER's BUCC protocol), and P/R/F1."""

from __future__ import annotations

import numpy as np


def precision_recall_f1(predicted: set, gold: set) -> tuple[float, float, float]:
    """Percentages; an empty prediction has precision 0 (not undefined) so it never looks good."""
    tp = len(predicted & gold)
    p = 100 * tp / len(predicted) if predicted else 0.0
    r = 100 * tp / len(gold) if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def best_threshold(scores: np.ndarray, correct: np.ndarray, n_gold: int) -> tuple[float, float]:
    """(threshold, best F1 in %) over candidates sorted by score: the threshold is the midpoint
    between the last accepted candidate and the next one, so it separates them on a new split too.

    Only cuts between two different scores count: a threshold cannot accept one of two tied
    candidates, so a cut inside a tie would report an F1 that no threshold achieves.
    """
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    s = np.asarray(scores, dtype=float)[order]
    hits = np.cumsum(np.asarray(correct, dtype=bool)[order])
    n = np.arange(1, len(s) + 1)
    precision, recall = hits / n, hits / max(1, n_gold)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    valid = np.append(s[:-1] > s[1:], True)  # the last candidate can always be the cut
    f1 = np.where(valid, f1, 0.0)
    if not len(s) or f1.max() == 0:
        return float("inf"), 0.0
    i = int(f1.argmax())
    threshold = (s[i] + s[i + 1]) / 2 if i + 1 < len(s) else s[i] - 1e-6
    return float(threshold), float(100 * f1[i])
