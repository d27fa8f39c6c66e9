"""Evaluation: STS (Spearman of cosine vs gold), Tatoeba retrieval, tokenizer coverage."""

from mlkd_utils.evaluation.sts import bootstrap_spearman_ci, evaluate_sts17, spearman_x100
from mlkd_utils.evaluation.tatoeba import evaluate_tatoeba
from mlkd_utils.evaluation.tokenizer import tokenizer_stats

__all__ = ["bootstrap_spearman_ci", "evaluate_sts17", "evaluate_tatoeba", "spearman_x100", "tokenizer_stats"]
