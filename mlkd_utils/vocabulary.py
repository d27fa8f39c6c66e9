"""The student's vocabulary: how well the teacher's English WordPiece covers other languages, and
extending it with tokens learnt from the training data.

The only local student initialisation is the English teacher. Its uncased WordPiece vocabulary
splits Arabic or Russian words into single letters and maps many Chinese characters to ``[UNK]``:
a sentence the student cannot even spell is hard to align. Extending the vocabulary adds the
tokens a WordPiece trained on the target-language side of the corpus has and the teacher lacks; the
new embedding rows start either from the teacher's embeddings of the pieces the old tokenizer cut
the token into (``extended``) or at random (``extended-random``), to see which start matters.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from sentence_transformers import SentenceTransformer
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from mlkd_utils.config import VOCABULARIES
from mlkd_utils.evaluation.tokenizer import token_stats
from mlkd_utils.io import atomic_write_json

log = logging.getLogger(__name__)

VARIANTS = VOCABULARIES


def new_tokens(tokenizer: PreTrainedTokenizerBase, texts: list[str], vocab_size: int) -> list[str]:
    """Tokens of a WordPiece trained on ``texts`` (same normalisation and pre-tokenisation as the
    teacher's) that the teacher's vocabulary lacks, in a stable order."""
    trained = tokenizer.train_new_from_iterator(texts, vocab_size=vocab_size)
    old = tokenizer.get_vocab()
    return sorted(t for t in trained.get_vocab() if t not in old)


def extended_tokenizer(tokenizer: PreTrainedTokenizerBase, tokens: list[str]) -> PreTrainedTokenizerBase:
    """The teacher's tokenizer with ``tokens`` appended to its WordPiece vocabulary (not as "added
    tokens": those are matched as literal strings and cannot be ``##`` continuation pieces)."""
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer.save_pretrained(tmp)
        path = Path(tmp) / "tokenizer.json"
        state = json.loads(path.read_text(encoding="utf-8"))
        if state.get("model", {}).get("type") != "WordPiece":
            raise ValueError(f"{type(tokenizer).__name__} is not a WordPiece tokenizer: cannot extend it")
        vocab = state["model"]["vocab"]
        for token in tokens:
            vocab.setdefault(token, len(vocab))
        path.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        (Path(tmp) / "vocab.txt").unlink(missing_ok=True)  # a stale copy must not win
        return AutoTokenizer.from_pretrained(tmp)


@dataclass
class Extension:
    added: int
    #: New rows with no known piece to start from (random even in the ``extended`` variant).
    no_pieces: int


def extend_vocabulary(
    student: SentenceTransformer,
    texts: list[str],
    variant: str,
    vocab_size: int,
    seed: int,
    tokens_file: Path | None = None,
) -> Extension:
    """Extend ``student`` in place (tokenizer and embedding matrix) with tokens learnt from ``texts``.

    HF ``tokenizers`` breaks ties between equally frequent merges in no fixed order, so two trainings
    on the same texts can differ in a few rare tokens. With ``tokens_file`` the learnt tokens are
    kept: a resumed run rebuilds exactly the student its checkpoint was saved from.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown vocabulary variant {variant!r}; known: {VARIANTS}")
    if variant == "teacher":
        return Extension(0, 0)
    module = student[0]
    old_tok = module.tokenizer
    if tokens_file is not None and Path(tokens_file).is_file():
        tokens = json.loads(Path(tokens_file).read_text(encoding="utf-8"))
    else:
        tokens = new_tokens(old_tok, texts, vocab_size)
        if tokens_file is not None:
            atomic_write_json(tokens_file, tokens)
    new_tok = extended_tokenizer(old_tok, tokens)
    emb = module.auto_model.get_input_embeddings().weight.data
    n_old = emb.shape[0]
    module.auto_model.resize_token_embeddings(len(new_tok), mean_resizing=False)
    weight = module.auto_model.get_input_embeddings().weight.data
    gen = torch.Generator().manual_seed(seed)
    std = float(emb[:n_old].std())
    no_pieces = 0
    for i, token in enumerate(tokens):
        row = n_old + i
        pieces = [] if variant == "extended-random" else _pieces(old_tok, token)
        if pieces:
            weight[row] = weight[pieces].mean(dim=0)
        else:
            no_pieces += variant == "extended"
            weight[row] = torch.randn(weight.shape[1], generator=gen) * std
    module.processor = new_tok  # sentence-transformers keeps the tokenizer as its "processor"
    log.info("vocabulary %s: %d tokens added (%d without known pieces)", variant, len(tokens), no_pieces)
    return Extension(len(tokens), no_pieces)


def _pieces(tokenizer: PreTrainedTokenizerBase, token: str) -> list[int]:
    """Ids of the old tokenizer's pieces of ``token`` ([UNK] left out)."""
    surface = token[2:] if token.startswith("##") else token
    ids = tokenizer(surface, add_special_tokens=False)["input_ids"]
    return [i for i in ids if i != tokenizer.unk_token_id]


def coverage_table(tokenizers: dict[str, PreTrainedTokenizerBase], texts: dict[str, list[str]]) -> pd.DataFrame:
    """One row per (vocabulary, language): :func:`~mlkd_utils.evaluation.tokenizer.token_stats`."""
    rows = [
        {"vocabulary": name, "subset": lang, **token_stats(tok, sents)}
        for name, tok in tokenizers.items()
        for lang, sents in texts.items()
    ]
    return pd.DataFrame(rows).round(2)
