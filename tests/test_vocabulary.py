"""Extending the student's vocabulary: tokens learnt from the corpus, rows started from their pieces."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from mlkd_utils.evaluation.tokenizer import token_stats
from mlkd_utils.vocabulary import _pieces, extend_vocabulary

ARABIC = ["القطة تنام في الحديقة", "الكلب يركض في الحديقة", "الطائر يأكل في الحديقة", "الحصان يلعب في الحديقة"] * 25
CHINESE = ["猫在花园里睡觉", "狗在花园里跑", "鸟在花园里吃东西", "马在花园里玩"] * 25


def test_token_stats_counts_tokens_and_unknowns(teacher):
    tok = teacher.tokenizer
    stats = token_stats(tok, ["hello world", "hello"])
    assert stats["tokens_per_sentence"] == 1.5 and stats["unk_rate"] == 0 and stats["sentences_with_unk"] == 0
    unk_char = next(c for c in "龘龖䨻" if tok.tokenize(c) == [tok.unk_token])
    stats = token_stats(tok, [f"hello {unk_char}", "hello"])
    assert stats["unk_rate"] == pytest.approx(100 / 3) and stats["sentences_with_unk"] == 50


@pytest.fixture
def student(teacher):
    return copy.deepcopy(teacher)


def test_extension_shortens_arabic_and_starts_rows_from_their_pieces(teacher, student):
    before = token_stats(teacher.tokenizer, ARABIC)["tokens_per_sentence"]
    ext = extend_vocabulary(student, ARABIC, "extended", vocab_size=200, seed=0)
    assert ext.added > 0
    tok = student.tokenizer
    assert len(tok) == student[0].auto_model.get_input_embeddings().weight.shape[0]
    assert token_stats(tok, ARABIC)["tokens_per_sentence"] < before
    # a new whole-word token's row is the mean of the teacher's rows of its old pieces
    word = "الحديقة"
    assert tok.tokenize(word) == [word]
    old = teacher[0].auto_model.get_input_embeddings().weight.data
    new = student[0].auto_model.get_input_embeddings().weight.data
    expected = old[_pieces(teacher.tokenizer, word)].mean(dim=0)
    torch.testing.assert_close(new[tok.convert_tokens_to_ids(word)], expected)
    # the teacher's own rows are untouched, so English is embedded exactly as before
    np.testing.assert_allclose(student.encode(["a cat sleeps"]), teacher.encode(["a cat sleeps"]), atol=1e-5)


def test_random_rows_differ_from_piece_rows_and_kept_tokens_rebuild_the_same_student(teacher, tmp_path):
    a, b, c = (copy.deepcopy(teacher) for _ in range(3))
    kept = tmp_path / "new_tokens.json"
    extend_vocabulary(a, ARABIC, "extended", 200, seed=0, tokens_file=kept)
    assert kept.is_file()
    extend_vocabulary(b, ARABIC, "extended", 200, seed=0, tokens_file=kept)  # as a resumed run does
    extend_vocabulary(c, ARABIC, "extended-random", 200, seed=0, tokens_file=kept)
    wa, wb, wc = (m[0].auto_model.get_input_embeddings().weight.data for m in (a, b, c))
    assert a.tokenizer.get_vocab() == b.tokenizer.get_vocab() == c.tokenizer.get_vocab()
    torch.testing.assert_close(wa, wb)  # a resumed run rebuilds the same student before loading weights
    n_old = len(teacher.tokenizer)
    assert not torch.allclose(wa[n_old:], wc[n_old:])


def test_characters_the_teacher_maps_to_unk_have_no_pieces_and_are_counted(teacher, student):
    """Chinese characters missing from the teacher's vocabulary are [UNK] to it: nothing to start from."""
    ext = extend_vocabulary(student, CHINESE, "extended", 200, seed=0)
    assert ext.added > 0 and 0 < ext.no_pieces <= ext.added
    assert token_stats(teacher.tokenizer, CHINESE)["unk_rate"] > 0
    assert token_stats(student.tokenizer, CHINESE)["unk_rate"] == 0


def test_teacher_vocabulary_changes_nothing_and_unknown_variant_fails(teacher, student):
    assert extend_vocabulary(student, ARABIC, "teacher", 200, 0).added == 0
    assert len(student.tokenizer) == len(teacher.tokenizer)
    with pytest.raises(ValueError, match="unknown vocabulary variant 'bpe'"):
        extend_vocabulary(student, ARABIC, "bpe", 200, 0)


def test_extended_student_saves_and_loads(student, tmp_path):
    from sentence_transformers import SentenceTransformer

    extend_vocabulary(student, ARABIC, "extended", 200, 0)
    student.save(str(tmp_path / "m"))
    again = SentenceTransformer(str(tmp_path / "m"))
    assert again.tokenizer.get_vocab() == student.tokenizer.get_vocab()
    np.testing.assert_allclose(again.encode(ARABIC[:3]), student.encode(ARABIC[:3]), atol=1e-5)
