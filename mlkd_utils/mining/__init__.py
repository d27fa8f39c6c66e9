"""Bitext mining as LASER and the paper do it: faiss k-NN, ratio margin scoring, retrieval modes,
a threshold tuned on one split and applied to another."""

from mlkd_utils.mining.bucc import MiningResult, mine_and_score, split_bucc
from mlkd_utils.mining.knn import knn_search
from mlkd_utils.mining.margin import RETRIEVAL_MODES, Candidates, mine_candidates
from mlkd_utils.mining.threshold import best_threshold, precision_recall_f1

__all__ = [
    "Candidates",
    "MiningResult",
    "RETRIEVAL_MODES",
    "best_threshold",
    "knn_search",
    "mine_and_score",
    "mine_candidates",
    "precision_recall_f1",
    "split_bucc",
]
