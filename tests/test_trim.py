"""The vocabulary-trimmed e5 (the student carried to a GPU machine) computes what the full one does
on the texts it was trimmed for: on a tiny packed file the test writes, and on the real model."""

from __future__ import annotations

import numpy as np
import pytest
from test_e5 import PIECES, _tensors, _tokenizer_json, write_packed

from mlkd_utils.models import e5, trim


def _encode(folder, texts):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device="cpu").encode(texts, convert_to_numpy=True)


def test_trimmed_tiny_model_encodes_its_texts_exactly_like_the_full_one(tmp_path):
    tensors = _tensors(np.random.default_rng(0))
    packed, tok = write_packed(tmp_path / "full.bin", tensors), _tokenizer_json(tmp_path / "tokenizer.json")
    texts = ["a b", "ab", "b a b"]
    keep = trim.used_ids(tok, texts)
    assert set(trim.SPECIAL_IDS) <= set(keep) and len(keep) < len(PIECES)  # "c" pieces unused
    assert PIECES.index("▁c") in keep  # the lowest-scored piece: it sets the unknown-character score
    assert PIECES.index("c") not in keep
    small_bin = trim.trim_packed(packed, tmp_path / "small.bin", keep)
    small_tok = trim.trim_tokenizer_json(tok, tmp_path / "small.json", keep)
    header, small = e5.read_packed(small_bin)
    assert header.vocab == len(keep)
    full = {k: v for k, (v, _) in tensors.items()}
    assert np.array_equal(small["emb.word"].reshape(len(keep), -1), full["emb.word"][keep])  # rows as they were
    assert np.array_equal(small["l1.fo.w"], full["l1.fo.w"].reshape(-1))
    a = _encode(e5.write_sentence_transformer(packed, tok, tmp_path / "st-full", query_prefix=False), texts)
    b = _encode(e5.write_sentence_transformer(small_bin, small_tok, tmp_path / "st-small", query_prefix=False), texts)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_a_trim_without_the_special_ids_or_past_the_vocabulary_fails(tmp_path):
    tok = _tokenizer_json(tmp_path / "tokenizer.json")
    with pytest.raises(ValueError, match="special"):
        trim.trim_tokenizer_json(tok, tmp_path / "x.json", [4, 5])
    with pytest.raises(ValueError, match="past"):
        trim.trim_tokenizer_json(tok, tmp_path / "x.json", [0, 1, 2, 3, 99])


@pytest.mark.slow
def test_the_real_model_trimmed_to_sts17_keeps_its_embeddings_and_shrinks(tmp_path):
    from mlkd_utils.data.sts import load_sts17

    weights, tok = e5.packaged_file(*e5.WEIGHTS[:2]), e5.packaged_file(*e5.TOKENIZER[:2])
    data = [load_sts17(subset) for subset in ("en-de", "ar-ar", "es-en")]
    texts = [t for d in data for t in d.sentences1 + d.sentences2]
    keep = trim.used_ids(tok, texts)
    small_bin = trim.trim_packed(weights, tmp_path / "small.bin", keep)
    small_tok = trim.trim_tokenizer_json(tok, tmp_path / "small.json", keep)
    assert small_bin.stat().st_size < 0.3 * weights.stat().st_size
    full = _encode(e5.converted_path(query_prefix=False), texts[:200])
    folder = e5.write_sentence_transformer(small_bin, small_tok, tmp_path / "st", query_prefix=False)
    small = _encode(folder, texts[:200])
    np.testing.assert_allclose(full, small, rtol=0, atol=1e-5)
