"""Chapter 1's tokenizer table as the page shows it."""

from __future__ import annotations

import pandas as pd

from mlkd_utils.chapters import ch1_teacher
from mlkd_utils.evaluation.tokenizer import token_stats


class _Tok:
    """Two-token words and [UNK] for any word with a digit: enough to know every column's answer."""

    unk_token_id = 0

    def __call__(self, texts, add_special_tokens=False):
        return {"input_ids": [[0 if any(ch.isdigit() for ch in w) else 1 for w in t.split() for _ in (0, 1)]
                              for t in texts]}  # fmt: skip


def test_tokenizer_table_names_every_column_in_words_and_keeps_two_decimals_only_for_tokens_per_character():
    stats = token_stats(_Tok(), ["ab cd", "x1 yz"])  # 8 tokens, 10 characters, 2 [UNK]
    table = ch1_teacher.tokenizer_table(pd.DataFrame([{"subset": "xxx", **stats}]))
    assert table.index.name == "language" and not any("_" in c for c in table.columns)
    row = table.loc["xxx"]
    assert row["tokens per sentence"] == 4.0 and row["tokens per character"] == 0.8
    assert row["[UNK] share of tokens (%)"] == 25.0 and row["sentences with an [UNK] (%)"] == 50.0
