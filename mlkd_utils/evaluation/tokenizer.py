"""How the teacher's tokenizer sees each language: tokens per sentence and the [UNK] rate.

An English WordPiece vocabulary splits Arabic or Russian words into single letters and maps many
Chinese characters to [UNK]; a sentence that is mostly [UNK] cannot be embedded near its English
translation, whatever the training.
"""

from __future__ import annotations

import pandas as pd
from sentence_transformers import SentenceTransformer
from transformers import PreTrainedTokenizerBase

from mlkd_utils.data.tatoeba import load_tatoeba


def token_stats(tok: PreTrainedTokenizerBase, texts: list[str]) -> dict[str, float]:
    """Tokens per sentence and per character, [UNK] share of tokens, share of sentences with an [UNK]."""
    unk = tok.unk_token_id
    ids = tok(texts, add_special_tokens=False)["input_ids"]
    n_tokens = sum(len(x) for x in ids)
    return {
        "tokens_per_sentence": n_tokens / max(1, len(texts)),
        "tokens_per_char": n_tokens / max(1, sum(len(t) for t in texts)),
        "unk_rate": 100 * sum(t == unk for x in ids for t in x) / max(1, n_tokens),
        "sentences_with_unk": 100 * sum(unk in x for x in ids) / max(1, len(texts)),
    }


def tatoeba_texts(languages: list[str], max_sentences: int | None = 1000) -> dict[str, list[str]]:
    """Tatoeba test sentences per language (``eng`` from the German file's English side)."""
    out = {}
    for lang in ["en", *languages]:
        pair = load_tatoeba("de" if lang == "en" else lang, max_sentences)
        out["eng" if lang == "en" else pair.lang] = pair.english if lang == "en" else pair.source
    return out


def tokenizer_stats(model: SentenceTransformer, languages: list[str], max_sentences: int | None = 1000) -> pd.DataFrame:
    texts = tatoeba_texts(languages, max_sentences)
    return pd.DataFrame([{"subset": lang, **token_stats(model.tokenizer, t)} for lang, t in texts.items()])
