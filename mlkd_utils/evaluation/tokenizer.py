"""How the teacher's tokenizer sees each language: tokens per sentence and the [UNK] rate.

An English WordPiece vocabulary splits Arabic or Russian words into single letters and maps many
Chinese characters to [UNK]; a sentence that is mostly [UNK] cannot be embedded near its English
translation, whatever the training.
"""

from __future__ import annotations

import pandas as pd
from sentence_transformers import SentenceTransformer

from mlkd_utils.data.tatoeba import load_tatoeba


def tokenizer_stats(model: SentenceTransformer, languages: list[str], max_sentences: int | None = 1000) -> pd.DataFrame:
    tok = model.tokenizer
    unk = tok.unk_token_id
    rows = []
    for lang in ["en", *languages]:
        pair = load_tatoeba("de" if lang == "en" else lang, max_sentences)
        texts = pair.english if lang == "en" else pair.source
        ids = tok(texts, add_special_tokens=False)["input_ids"]
        n_tokens = sum(len(x) for x in ids)
        n_unk = sum(t == unk for x in ids for t in x)
        rows.append(
            {
                "subset": "eng" if lang == "en" else pair.lang,
                "tokens_per_sentence": n_tokens / len(texts),
                "tokens_per_char": n_tokens / sum(len(t) for t in texts),
                "unk_rate": 100 * n_unk / max(1, n_tokens),
                "sentences_with_unk": 100 * sum(unk in x for x in ids) / len(texts),
            }
        )
    return pd.DataFrame(rows)
