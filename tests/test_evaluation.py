import numpy as np
import pytest
from scipy.stats import spearmanr

from conftest import needs_real_data
from mlkd_utils.evaluation import bootstrap_spearman_ci, evaluate_sts17, spearman_x100
from mlkd_utils.evaluation.tatoeba import retrieval_accuracy


def test_spearman_matches_scipy_with_ties():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=100), np.round(rng.normal(size=100), 1)
    assert spearman_x100(x, y) == pytest.approx(spearmanr(x, y).statistic * 100)


def test_bootstrap_interval_brackets_the_estimate_and_narrows_with_n():
    rng = np.random.default_rng(1)
    x = rng.normal(size=1000)
    y = x + rng.normal(size=1000)
    lo, hi = bootstrap_spearman_ci(x[:100], y[:100])
    assert lo < spearman_x100(x[:100], y[:100]) < hi
    lo2, hi2 = bootstrap_spearman_ci(x, y)
    assert hi2 - lo2 < hi - lo


def test_retrieval_accuracy_known_answer():
    a = np.eye(4)
    b = np.eye(4)[[0, 1, 3, 2]]  # rows 2 and 3 swapped
    assert retrieval_accuracy(a, a) == 100
    assert retrieval_accuracy(a, b) == 50


@needs_real_data
def test_sts_harness_agrees_with_sentence_transformers_evaluator(teacher):
    from sentence_transformers.evaluation import EmbeddingSimilarityEvaluator

    from mlkd_utils.data import load_sts17

    ours = evaluate_sts17(teacher, ["en-de", "ar-ar"], bf16=False, n_boot=0).set_index("subset").spearman
    for subset in ("en-de", "ar-ar"):
        d = load_sts17(subset)
        ref = EmbeddingSimilarityEvaluator(d.sentences1, d.sentences2, d.scores, write_csv=False)(teacher)
        assert ours[subset] == pytest.approx(100 * ref["spearman_cosine"], abs=0.05)
