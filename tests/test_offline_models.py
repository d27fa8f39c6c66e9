"""mUSE as an encoder the evaluations accept, the Procrustes start, freezing, and dev STS from STSb dev."""

from __future__ import annotations

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer
from sentence_transformers.models import Dense

from mlkd_utils.errors import ConfigError
from mlkd_utils.models import align, load_encoder


def test_procrustes_recovers_a_rotation_and_least_squares_a_linear_map():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 8))
    q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    np.testing.assert_allclose(align.procrustes(x, x @ q), q, atol=1e-5)
    a = rng.normal(size=(8, 8))
    np.testing.assert_allclose(align.least_squares(x, x @ a), a, atol=1e-4)
    w = align.procrustes(x, x @ a)  # not a rotation: the best orthogonal one is still orthogonal
    np.testing.assert_allclose(w @ w.T, np.eye(8), atol=1e-5)


def test_procrustes_map_keeps_cosines_and_moves_towards_the_teacher(teacher):
    english = [
        "A man is playing a guitar.",
        "The weather is cold today.",
        "Stocks fell sharply.",
        "A child rides a horse.",
        "She reads a book in the park.",
        "Two dogs run on the beach.",
    ] * 20
    student = SentenceTransformer(modules=list(teacher), device="cpu")
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(384, 384)))
    targets = teacher.encode(english, convert_to_numpy=True) @ q.astype(np.float32)  # a rotated teacher
    aligned = align.add_map(student, english, targets, "procrustes")
    assert isinstance(list(aligned)[-2], Dense)
    before, after = student.encode(english[:6]), aligned.encode(english[:6])
    np.testing.assert_allclose(before @ before.T, after @ after.T, atol=1e-4)  # cosines unchanged
    assert ((after - targets[:6]) ** 2).mean() < 1e-3 * ((before - targets[:6]) ** 2).mean() + 1e-6


def test_freeze_leaves_what_it_says(teacher):
    import copy

    student = copy.deepcopy(teacher)
    total = sum(p.numel() for p in student.parameters())
    emb = student[0].auto_model.get_input_embeddings().weight.numel()
    assert align.freeze(student, "embeddings") == total - emb
    assert align.freeze(copy.deepcopy(teacher), "encoder") == 0
    with pytest.raises(ConfigError, match="freeze 'all'"):
        align.freeze(student, "all")


def test_dev_stsb_pairs_are_the_dev_split_row_by_row():
    from mlkd_utils.data.sts import load_stsb
    from mlkd_utils.evaluation.sts import stsb_dev_pairs

    en, de = stsb_dev_pairs(["en-en", "en-de"], 50)
    dev_en, dev_de = load_stsb("dev", "en"), load_stsb("dev", "de")
    assert len(en) == len(de) == 50 and en.sentences1 == de.sentences1 and en.scores == de.scores
    i = dev_en.sentences1.index(en.sentences1[-1])
    assert de.sentences2[-1] == dev_de.sentences2[i] and en.sentences2[-1] == dev_en.sentences2[i]
    assert en.sentences1[-1] == dev_en.sentences1[-1]  # evenly spaced rows reach the last genre
    with pytest.raises(ConfigError, match="de-en"):
        stsb_dev_pairs(["de-en"])


def test_muse_encodes_like_a_sentence_transformer():
    muse = load_encoder("muse")
    assert muse.get_sentence_embedding_dimension() == 512
    emb = muse.encode(
        ["The cat sits on the mat.", "Die Katze sitzt auf der Matte.", "Die Börse fiel stark."],
        batch_size=2,
        normalize_embeddings=True,
    )
    assert emb.shape == (3, 512) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    sims = emb @ emb.T
    assert sims[0, 1] > sims[0, 2] + 0.2  # the translation, not the unrelated sentence
    assert muse.encode([]).shape == (0, 512)
    assert muse.encode("one sentence").shape == (512,)


@pytest.mark.slow
def test_muse_scores_sts17_as_a_strong_multilingual_system():
    """mUSE is the paper's translation-trained reference: far above the English teacher across languages."""
    from mlkd_utils.evaluation.sts import evaluate_sts17

    scores = evaluate_sts17(load_encoder("muse"), ["en-en", "en-de", "ar-en"], bf16=False, n_boot=10)
    s = scores.set_index("subset").spearman
    assert s["en-en"] > 80 and s["en-de"] > 70 and s["ar-en"] > 65, s
