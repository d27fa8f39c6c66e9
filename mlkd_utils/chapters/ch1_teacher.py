"""Chapter 1 runs nothing long (it scores the teacher and the systems as they are, in the notebook);
this module holds what the chapter reads from its tables."""

from __future__ import annotations

import pandas as pd

from mlkd_utils import prose, tables
from mlkd_utils.data.sts import CROSSLINGUAL, MONOLINGUAL

CHAPTER = "01_teacher_baselines"

#: The tokenizer table's columns as the page names them (``evaluation.token_stats`` names them for code).
TOKENIZER_COLUMNS = {
    "tokens_per_sentence": "tokens per sentence",
    "tokens_per_char": "tokens per character",
    "unk_rate": "[UNK] share of tokens (%)",
    "sentences_with_unk": "sentences with an [UNK] (%)",
}


def tokenizer_table(tok: pd.DataFrame) -> pd.DataFrame:
    """The teacher's tokenizer per Tatoeba language, for the page: one row a language, named columns."""
    table = tok.set_index("subset").rename(columns=TOKENIZER_COLUMNS).rename_axis("language")
    return table.round({c: 2 if c == "tokens per character" else 1 for c in table.columns})


def reading(metrics: pd.DataFrame, models: list[str], tok: pd.DataFrame, tatoeba: pd.DataFrame) -> prose.Reading:
    """The chapter's findings: ``tok`` is the teacher's tokenizer table, ``tatoeba`` its Tatoeba scores
    (``subset``, ``accuracy``)."""
    r = prose.Reading("ch1_teacher.reading")
    full = tables.sts_table(metrics, MONOLINGUAL + CROSSLINGUAL, models)
    same, cross = tables.table1(metrics, models)["avg"], tables.table2(metrics, models)["avg"]
    t = full.loc["teacher"]
    mono = {s: t[s] for s in MONOLINGUAL if s in t}
    r.add(
        "The teacher reads English.",
        "Same-language STS17: "
        + ", ".join(f"{s.upper()} {prose.fmt(v)}" for s, v in mono.items())
        + (
            f". The lowest is {low.upper()}, although both of its sentences are in one language: the vocabulary, "
            "not the task, is what fails there."
            if (low := min(mono, key=mono.get)) != "en-en"
            else ". English is the lowest of them here."
        ),
    )
    files = sorted((s for s in CROSSLINGUAL if s in t), key=lambda s: -t[s])
    r.add(
        "Across languages it is close to chance on most files." if cross["teacher"] < 30 else "Across languages.",
        f"Its cross-lingual average (the paper's seven files) is {prose.fmt(cross['teacher'])}; the best files are "
        + ", ".join(f"{s.upper()} {prose.fmt(t[s])}" for s in files[:3])
        + ", the worst "
        + ", ".join(f"{s.upper()} {prose.fmt(t[s])}" for s in files[-2:])
        + ". The files that keep some signal pair English with a language that shares its alphabet and many "
        "words (names, numbers, cognates).",
    )
    merged = tok.merge(tatoeba[["subset", "accuracy"]], on="subset")
    if len(merged) > 2:
        corr = merged[["tokens_per_char", "accuracy"]].corr(method="spearman").iloc[0, 1]
        worst = merged.sort_values("accuracy").iloc[:3]
        r.add(
            "The tokenizer explains it.",
            f"Across the {len(merged)} Tatoeba languages, the Spearman correlation between tokens per character and "
            f"the teacher's Tatoeba accuracy is {prose.fmt(corr, 2)}"
            + (
                ": the more a language is cut up, the worse it is retrieved"
                if corr <= -0.5
                else ": a weak relation, so fragmentation is not the whole story"
                if corr < -0.2
                else ": no clear relation between how a language is cut up and how it is retrieved"
            )
            + ". Lowest accuracy: "
            + ", ".join(
                f"{row.subset} {prose.fmt(row.accuracy)}% ({prose.fmt(row.tokens_per_char, 2)} tokens per character, "
                f"{prose.fmt(row.unk_rate)}% [UNK])"
                for row in worst.itertuples()
            )
            + ".",
        )
    others = [m for m in models if m != "teacher" and m in full.index]
    if others:
        r.add(
            "The multilingual systems.",
            "; ".join(
                f"{m}: same-language {prose.fmt(same[m])}, cross-lingual {prose.fmt(cross[m])} "
                f"({prose.gap(cross[m], cross['teacher'])} the teacher)"
                for m in others
            )
            + ". multilingual-e5-small shares XLM-R's vocabulary and has the teacher's width (384): the offline "
            "start for a student that chapter 2 distils the teacher into.",
        )
    return r
