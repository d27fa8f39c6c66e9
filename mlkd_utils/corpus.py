"""Building a distillation corpus: several sources and languages, balanced as in the paper.

For each language, about the same number of pairs is drawn from each configured source that has
that language (a small source is repeated, a large one subsampled), so one big corpus does not
swamp the rest. Pairs with a sentence of the mining benchmark (``holdout``) are removed before
anything is drawn, so mining scores are not memorised; then a dev set is held out, and every pair
whose English side is in the dev set is removed from training, so dev scores are not memorised either.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from dataclasses import dataclass

import pandas as pd

from mlkd_utils.config import DistillConfig, Profile
from mlkd_utils.data.bucc_style import holdout_texts
from mlkd_utils.data.parallel import available_sources, load_parallel
from mlkd_utils.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass
class DistillCorpus:
    train_en: list[str]
    train_xx: list[str]
    train_lang: list[str]
    dev_en: list[str]
    dev_xx: list[str]
    dev_lang: list[str]
    #: One row per (language, source): pairs available, drawn, times repeated.
    composition: pd.DataFrame


def build_corpus(cfg: DistillConfig, seed: int, holdout: frozenset[str] = frozenset()) -> DistillCorpus:
    """``holdout``: sentences (either language) no training or dev pair may contain."""
    rng = random.Random(seed)
    dev_per_lang = max(1, cfg.dev_pairs // max(1, len(cfg.languages)))
    rows = []
    train_en: list[str] = []
    train_xx: list[str] = []
    train_lang: list[str] = []
    dev_en: list[str] = []
    dev_xx: list[str] = []
    dev_lang: list[str] = []
    for lang in cfg.languages:
        sources = sources_for(cfg, lang)
        for missing in sorted(set(cfg.corpora) - set(sources)):
            log.warning("source %s has no en-%s data: skipped for %s", missing, lang, lang)
            rows.append(
                {"lang": lang, "source": missing, "available": 0, "benchmark_excluded": 0, "drawn": 0, "repeats": 0.0}
            )
        if not sources:
            raise ConfigError(f"none of the corpora {cfg.corpora} has en-{lang} data")
        pools, excluded = {}, {}
        for s in sources:
            pairs = list(zip(*_pairs(s, lang, cfg.max_sentence_chars)))
            pools[s] = [p for p in pairs if p[0] not in holdout and p[1] not in holdout]
            excluded[s] = len(pairs) - len(pools[s])
        # Hold out dev pairs across the sources, then drop their English sides from training.
        everything = [(s, p) for s, ps in pools.items() for p in ps]
        rng.shuffle(everything)
        dev = everything[:dev_per_lang]
        dev_english = {p[0] for _, p in dev}
        for _, (en, xx) in dev:
            dev_en.append(en)
            dev_xx.append(xx)
            dev_lang.append(lang)
        quota = _split_quota(cfg.pairs_per_language, len(sources))
        for source, n in zip(sources, quota):
            pool = [p for p in pools[source] if p[0] not in dev_english]
            drawn = _draw(pool, n, rng)
            rows.append(
                {
                    "lang": lang,
                    "source": source,
                    "available": len(pool),
                    "benchmark_excluded": excluded[source],
                    "drawn": len(drawn),
                    "repeats": round(len(drawn) / max(1, len(pool)), 2),
                }
            )
            for en, xx in drawn:
                train_en.append(en)
                train_xx.append(xx)
                train_lang.append(lang)
    order = list(range(len(train_en)))
    rng.shuffle(order)
    return DistillCorpus(
        [train_en[i] for i in order],
        [train_xx[i] for i in order],
        [train_lang[i] for i in order],
        dev_en,
        dev_xx,
        dev_lang,
        pd.DataFrame(rows),
    )


def benchmark_holdout(profile: Profile) -> frozenset[str]:
    """The mining benchmark's sentences, for the languages whose benchmark source is staged.

    A data root without the source (a test fixture, a hub-only user) has no benchmark to protect
    for that language; that is logged, not silent.
    """
    cfg = profile.bucc_style
    have = [lang for lang in cfg.languages if cfg.source in available_sources(lang)]
    for lang in sorted(set(cfg.languages) - set(have)):
        log.warning(
            "BUCC-style benchmark: %s has no en-%s data here; nothing to hold out for %s", cfg.source, lang, lang
        )
    return holdout_texts(dataclasses.replace(cfg, languages=tuple(have))) if have else frozenset()


def sources_for(cfg: DistillConfig, lang: str) -> list[str]:
    """The configured corpora that have en-<lang> data (staged), in config order; hub:<name> always counts."""
    staged = set(available_sources(lang))
    return [c for c in cfg.corpora if c in staged or c.startswith("hub:")]


def _pairs(source: str, lang: str, max_chars: int) -> tuple[list[str], list[str]]:
    corpus = load_parallel(source, lang, max_chars)
    return corpus.english, corpus.other


def _split_quota(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _draw(pool: list, n: int, rng: random.Random) -> list:
    """n items: whole copies of a small pool plus a random remainder; a random subset of a large one."""
    if not pool:
        return []
    full, rest = divmod(n, len(pool))
    out = pool * full + rng.sample(pool, rest)
    rng.shuffle(out)
    return out


def source_reports(cfg: DistillConfig) -> pd.DataFrame:
    """Lines kept and skipped (by reason) in every source file a student's corpus draws from.

    Reading the files again is cheap and deterministic, so this is exact even when the training
    itself ran in another process or session.
    """
    rows = []
    for lang in cfg.languages:
        for source in sources_for(cfg, lang):
            report = load_parallel(source, lang, cfg.max_sentence_chars).report
            rows.append({"lang": lang, "source": source, **report.as_row()})
    return pd.DataFrame(rows).drop(columns="path").fillna(0)
