"""The teacher with only the WordPiece vocabulary a corpus uses (for the GPU bundle, beside the
trimmed e5 of :mod:`mlkd_utils.models.trim`).

WordPiece picks, at each position of a word, the longest piece in the vocabulary. On a text of the
corpus every piece it picked is kept, and no longer piece existed at any position (it would have
been picked), so the smaller vocabulary picks the same pieces: the kept embedding rows, renumbered,
give the same embeddings on those texts (a test checks it on the teacher).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path

WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"


def used_wordpiece_ids(tokenizer_json: str | Path, texts: Iterable[str], batch: int = 10_000) -> list[int]:
    """Sorted ids the tokenizer produces on ``texts``, plus every added (special) token."""
    from mlkd_utils.models.trim import token_ids

    spec = json.loads(Path(tokenizer_json).read_text(encoding="utf-8"))
    return sorted({t["id"] for t in spec.get("added_tokens", [])} | token_ids(tokenizer_json, texts, batch))


def trim_wordpiece_model(src: str | Path, dst: str | Path, texts: Iterable[str]) -> dict[str, int]:
    """Copy the sentence-transformers folder ``src`` (a BERT with a WordPiece ``tokenizer.json``) to
    ``dst`` with only the vocabulary ``texts`` use; returns the vocabulary sizes before and after."""
    from safetensors.torch import load_file, save_file

    src, dst = Path(src), Path(dst)
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("onnx", "openvino", "*.onnx", "pytorch_model.bin"))
    spec = json.loads((dst / "tokenizer.json").read_text(encoding="utf-8"))
    if spec["model"]["type"] != "WordPiece":
        raise ValueError(f"{src}: tokenizer model is {spec['model']['type']}, not WordPiece")
    keep = used_wordpiece_ids(dst / "tokenizer.json", texts)
    new_id = {old: new for new, old in enumerate(keep)}
    vocab = spec["model"]["vocab"]
    by_id = {i: t for t, i in vocab.items()}
    spec["model"]["vocab"] = {by_id[old]: new for old, new in new_id.items()}
    for token in spec.get("added_tokens", []):
        token["id"] = new_id[token["id"]]
    for special in (spec.get("post_processor") or {}).get("special_tokens", {}).values():
        special["ids"] = [new_id[i] for i in special["ids"]]
    (dst / "tokenizer.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    if (dst / "vocab.txt").is_file():
        (dst / "vocab.txt").write_text("".join(by_id[old] + "\n" for old in keep), encoding="utf-8")
    config = json.loads((dst / "config.json").read_text())
    config["vocab_size"] = len(keep)
    if "pad_token_id" in config:
        config["pad_token_id"] = new_id.get(config["pad_token_id"], 0)
    (dst / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    weights = dst / "model.safetensors"
    state = load_file(str(weights))
    name = next(k for k in state if k.endswith(WORD_EMBEDDINGS))
    state[name] = state[name][keep].contiguous()
    save_file(state, str(weights), metadata={"format": "pt"})
    return {"vocabulary": len(vocab), "kept": len(keep)}
