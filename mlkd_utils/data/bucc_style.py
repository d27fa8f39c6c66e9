"""A BUCC-style mining benchmark built from staged parallel data, for languages without BUCC files.

BUCC 2018 hides a few hundred translation pairs among thousands of sentences of comparable news
text. Only its zh-en sample is staged here, so for de, fr, ru (and zh, as a check against the real
one) this module builds the same shape from WMT news test sets: per language and split, ``gold``
held-out pairs (both sides kept) plus distractor sentences on each side whose translations are
*not* in the benchmark (a distractor pair contributes either its English or its foreign side,
never both). The gold pairs come from the same source and domain as the distractors, as in BUCC.

It is not BUCC: the distractors are whole news test sets rather than crawled comparable corpora,
the gold share is higher, and the sentences are real human translations rather than found pairs.
Every sentence of the benchmark is excluded from every training corpus (see ``holdout_texts``).
"""

from __future__ import annotations

import random
from functools import lru_cache

from mlkd_utils.config import SPLITS, BuccStyleConfig
from mlkd_utils.data.bucc import BUCCData
from mlkd_utils.data.parallel import load_parallel
from mlkd_utils.errors import ConfigError
from mlkd_utils.paths import data_root


def build_bucc_style(cfg: BuccStyleConfig, lang: str) -> dict[str, BUCCData]:
    """Both splits for one language, deterministic in ``cfg``."""
    if lang not in cfg.languages:
        raise ConfigError(f"BUCC-style benchmark has no {lang!r}; configured: {list(cfg.languages)}")
    return _build(cfg, lang, str(data_root()))


@lru_cache(maxsize=32)
def _build(cfg: BuccStyleConfig, lang: str, root: str) -> dict[str, BUCCData]:
    """Cached per data root: the corpus and the holdout ask for the same benchmark many times."""
    pairs = unambiguous_pairs(cfg.source, lang, cfg.max_chars)
    rng = random.Random(f"{cfg.seed}-{lang}")
    rng.shuffle(pairs)
    need = sum(sum(cfg.sizes(s)) for s in SPLITS)
    if need > len(pairs):
        raise ConfigError(
            f"BUCC-style {lang}: needs {need} pairs of {cfg.source}, only {len(pairs)} unambiguous pairs exist"
        )
    out: dict[str, BUCCData] = {}
    start = 0
    for split in SPLITS:
        n_gold, n_xx, n_en = cfg.sizes(split)
        gold = pairs[start : start + n_gold]
        xx_only = [xx for _, xx in pairs[start + n_gold : start + n_gold + n_xx]]
        en_only = [en for en, _ in pairs[start + n_gold + n_xx : start + n_gold + n_xx + n_en]]
        start += n_gold + n_xx + n_en
        foreign = [(xx, i) for i, (_, xx) in enumerate(gold)] + [(xx, None) for xx in xx_only]
        english = [(en, i) for i, (en, _) in enumerate(gold)] + [(en, None) for en in en_only]
        rng.shuffle(foreign)
        rng.shuffle(english)
        source_ids, english_ids = {}, {}
        data = BUCCData(f"{lang}-en", {}, {}, [])
        for k, (text, g) in enumerate(foreign):
            sid = f"{lang}-{split}-{k:06d}"
            data.source[sid] = text
            if g is not None:
                source_ids[g] = sid
        for k, (text, g) in enumerate(english):
            eid = f"en-{split}-{k:06d}"
            data.english[eid] = text
            if g is not None:
                english_ids[g] = eid
        data.gold = sorted((source_ids[g], english_ids[g]) for g in range(len(gold)))
        out[split] = data
    return out


def unambiguous_pairs(source: str, lang: str, max_chars: int) -> list[tuple[str, str]]:
    """Pairs whose English and foreign sides each occur once in the file, so a gold pair has exactly
    one right answer (WMT test sets repeat some headlines and short lines across years)."""
    corpus = load_parallel(source, lang, max_chars)
    en_count: dict[str, int] = {}
    xx_count: dict[str, int] = {}
    for en, xx in zip(corpus.english, corpus.other):
        en_count[en] = en_count.get(en, 0) + 1
        xx_count[xx] = xx_count.get(xx, 0) + 1
    return [(en, xx) for en, xx in zip(corpus.english, corpus.other) if en_count[en] == 1 and xx_count[xx] == 1]


def holdout_texts(cfg: BuccStyleConfig) -> frozenset[str]:
    """Every sentence (either language) that appears in the benchmark: training must not see them."""
    texts: set[str] = set()
    for lang in cfg.languages:
        for data in build_bucc_style(cfg, lang).values():
            texts.update(data.source.values())
            texts.update(data.english.values())
    return frozenset(texts)
