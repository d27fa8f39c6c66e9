"""multilingual-e5-small with only the vocabulary a corpus uses: the student carried to a GPU machine.

The device machine takes at most 64 MiB of files and nothing from the network, while e5's 4-bit
file is 72 MB, 54 MB of it the 250k-row embedding matrix. A corpus of ten languages uses a fraction
of those rows. Dropping the others changes nothing for the texts of that corpus: a unigram
tokenizer picks the most probable segmentation, every piece of which is kept, so removing pieces
it never picks cannot change its choice; the kept rows and all other tensors are copied byte for
byte, still 4-bit, so the model computes exactly what the full one computes on those texts
(``tests/test_trim.py`` checks both on the real model). Texts outside the corpus may tokenize
differently; the device script only sees the corpus it was trimmed for.

The trimmed pair (packed file, tokenizer.json) goes through the same converter as the full one
(:func:`mlkd_utils.models.e5.write_sentence_transformer`).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from mlkd_utils.models.e5 import (
    BLOCK,
    DTYPE_F32,
    DTYPE_Q4,
    MAGIC,
    PACKED_VERSION,
    E5FormatError,
    open_packed,
    tensor_directory,
)

#: Ids every XLM-R tokenizer needs whatever the texts: <s>, <pad>, </s>, <unk>.
SPECIAL_IDS = (0, 1, 2, 3)


def required_ids(tokenizer_json: str | Path) -> set[int]:
    """Ids kept whatever the texts: the special tokens and every added token (``<mask>`` too, or the
    tokenizer class would add it again past the embedding rows), and the lowest-scored piece, from
    which a unigram model derives the score of an unknown character (so segmentations around
    unknown characters stay as they were)."""
    spec = json.loads(Path(tokenizer_json).read_text(encoding="utf-8"))
    vocab = spec["model"]["vocab"]
    lowest = min(range(len(vocab)), key=lambda i: vocab[i][1])
    return {*SPECIAL_IDS, *(t["id"] for t in spec.get("added_tokens", [])), lowest}


def token_ids(tokenizer_json: str | Path, texts: Iterable[str], batch: int = 10_000) -> set[int]:
    """Every token id the tokenizer produces on ``texts`` (any ``tokenizer.json``, encoded in batches)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_json))
    seen: set[int] = set()
    chunk: list[str] = []
    for text in texts:
        chunk.append(text)
        if len(chunk) == batch:
            seen.update(i for enc in tok.encode_batch(chunk) for i in enc.ids)
            chunk = []
    if chunk:
        seen.update(i for enc in tok.encode_batch(chunk) for i in enc.ids)
    return seen


def used_ids(tokenizer_json: str | Path, texts: Iterable[str], batch: int = 10_000) -> list[int]:
    """Sorted token ids the tokenizer produces on ``texts``, plus :func:`required_ids`."""
    return sorted(required_ids(tokenizer_json) | token_ids(tokenizer_json, texts, batch))


def _check_keep(keep: list[int], n: int, what: str) -> list[int]:
    keep = sorted(set(keep))
    missing = [i for i in SPECIAL_IDS if i not in keep]
    if missing:
        raise ValueError(f"{what}: the special ids {missing} must be kept")
    if keep[-1] >= n:
        raise ValueError(f"{what}: id {keep[-1]} is past its {n} entries")
    return keep


def trim_tokenizer_json(src: str | Path, dst: str | Path, keep: list[int]) -> Path:
    """The tokenizer with only the pieces ``keep`` (old ids), renumbered in order; special tokens,
    the unknown id and the post-processor's ids follow."""
    spec = json.loads(Path(src).read_text(encoding="utf-8"))
    model = spec["model"]
    if model.get("type") != "Unigram":
        raise E5FormatError(f"{src}: a {model.get('type')} tokenizer; trimming is defined for Unigram only")
    keep = _check_keep(keep, len(model["vocab"]), str(src))
    new_id = {old: new for new, old in enumerate(keep)}
    model["vocab"] = [model["vocab"][i] for i in keep]
    if model.get("unk_id") is not None:
        model["unk_id"] = new_id[model["unk_id"]]
    spec["added_tokens"] = [{**t, "id": new_id[t["id"]]} for t in spec.get("added_tokens", []) if t["id"] in new_id]
    post = spec.get("post_processor") or {}
    for special in (post.get("special_tokens") or {}).values():
        special["ids"] = [new_id[i] for i in special["ids"]]
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    return dst


def trim_packed(src: str | Path, dst: str | Path, keep: list[int]) -> Path:
    """An ``E5S1`` file with the embedding rows and tokenizer pieces ``keep`` (old ids, renumbered in
    order); every other tensor is copied as it is, 4-bit blocks included."""
    src = Path(src)
    raw, r, h = open_packed(src)
    hidden, vocab = h.hidden, h.vocab
    n_pieces, bos, eos, pad, unk = r.take("5i")
    keep = _check_keep(keep, min(n_pieces, vocab), str(src))
    new_id = {old: new for new, old in enumerate(keep)}
    (blob_len,) = r.take("Q")
    offsets = np.frombuffer(raw[r.pos : r.pos + 4 * (n_pieces + 1)].tobytes(), "<u4")
    r.skip(4 * (n_pieces + 1))
    scores = np.frombuffer(raw[r.pos : r.pos + 4 * n_pieces].tobytes(), "<f4")
    r.skip(4 * n_pieces)
    blob = raw[r.pos : r.pos + blob_len].tobytes()
    r.skip(blob_len)
    norm_start = r.pos
    _n_norm, norm_bytes = r.take("iI")
    r.skip(norm_bytes)
    normaliser = raw[norm_start : r.pos].tobytes()
    pieces = [blob[offsets[i] : offsets[i + 1]] for i in keep]
    new_blob = b"".join(pieces)
    new_offsets = np.cumsum([0] + [len(p) for p in pieces]).astype("<u4")
    specials = [-1 if i < 0 else new_id.get(i, new_id[3]) for i in (bos, eos, pad, unk)]  # -1: none
    head = MAGIC + struct.pack(
        "<I7i", PACKED_VERSION, hidden, h.layers, h.heads, h.ffn, len(keep), h.max_positions, h.type_vocab
    )
    head += struct.pack("<fi", h.eps, h.block)
    tok = struct.pack("<5iQ", len(keep), *specials, len(new_blob)) + new_offsets.tobytes()
    tok += scores[keep].astype("<f4").tobytes() + new_blob + normaliser

    payloads: list[tuple[str, int, int, bytes]] = []
    for name, dtype, count, data in tensor_directory(raw, r, src):
        nbytes = data.size
        if name == "emb.word":
            if count != vocab * hidden:
                raise E5FormatError(f"{src}: emb.word has {count} values, not {vocab} x {hidden}")
            row = nbytes // vocab
            expected = {DTYPE_Q4: hidden // BLOCK * (2 + BLOCK // 2), DTYPE_F32: 4 * hidden}.get(dtype)
            if row != expected:
                raise E5FormatError(f"{src}: emb.word rows of {row} bytes do not match dtype {dtype}")
            data = data.reshape(vocab, row)[keep].reshape(-1)
            count = len(keep) * hidden
        payloads.append((name, dtype, count, data.tobytes()))
    directory_size = 4 + sum(2 + len(n) + 1 + 4 + 8 + 8 for n, *_ in payloads)
    offset = len(head) + len(tok) + directory_size
    directory, parts = struct.pack("<i", len(payloads)), []
    for name, dtype, count, data in payloads:
        entry = struct.pack("<BIQQ", dtype, count, offset, len(data))
        directory += struct.pack("<H", len(name)) + name.encode("ascii") + entry
        offset += len(data)
        parts.append(data)
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(head + tok + directory + b"".join(parts))
    return dst
