"""Evaluation: STS (Spearman of cosine vs gold), Tatoeba retrieval, tokenizer coverage."""

from mlkd_utils.evaluation.sts import (
    STSB_MT_LANGUAGES,
    bootstrap_spearman_ci,
    evaluate_sts,
    evaluate_sts17,
    evaluate_stsb_mt,
    pair_scores,
    paired_bootstrap_difference,
    spearman_x100,
)
from mlkd_utils.evaluation.tatoeba import evaluate_tatoeba
from mlkd_utils.evaluation.tokenizer import tokenizer_stats

__all__ = [
    "STSB_MT_LANGUAGES",
    "bootstrap_spearman_ci",
    "evaluate_sts",
    "evaluate_sts17",
    "evaluate_stsb_mt",
    "pair_scores",
    "paired_bootstrap_difference",
    "evaluate_tatoeba",
    "spearman_x100",
    "tokenizer_stats",
]
