"""The BUCC-style benchmark: gold pairs are real translations, distractors are not, and training
never sees any of its sentences."""

from __future__ import annotations

import dataclasses

import pytest

from conftest import tiny_pairs, write_gz
from mlkd_utils.config import BuccStyleConfig, DistillConfig, load_profile
from mlkd_utils.corpus import benchmark_holdout, build_corpus
from mlkd_utils.data.bucc_style import _build, build_bucc_style, holdout_texts, unambiguous_pairs
from mlkd_utils.errors import ConfigError

SMALL = BuccStyleConfig(
    languages=("de",), tune_gold=5, tune_foreign=10, tune_english=15, test_gold=10, test_foreign=20, test_english=30
)


@pytest.fixture
def news_root(tiny_root):
    """``wmt_newstest`` with 200 unique pairs plus two ambiguous ones (a repeated English line)."""
    pairs = tiny_pairs(200)
    lines = [f"{e}\t{d}" for e, d in pairs] + ["Repeated headline.\tErste Übersetzung.", "Repeated headline.\tZweite."]
    write_gz(tiny_root / "parallel" / "wmt_newstest" / "en-de.tsv.gz", lines)
    return tiny_root


def test_gold_pairs_are_translations_and_distractors_are_not(news_root):
    translation = dict(tiny_pairs(200))
    splits = build_bucc_style(SMALL, "de")
    for split, data in splits.items():
        n_gold, n_xx, n_en = SMALL.sizes(split)
        assert len(data.gold) == n_gold
        assert len(data.source) == n_gold + n_xx and len(data.english) == n_gold + n_en
        for sid, eid in data.gold:
            assert translation[data.english[eid]] == data.source[sid]
        gold_en = {eid for _, eid in data.gold}
        foreign = set(data.source.values())
        for eid, en in data.english.items():
            if eid not in gold_en:
                assert translation[en] not in foreign, f"{split}: distractor {en!r} has its translation inside"
    tune, test = splits["tune"], splits["test"]
    assert not set(tune.english.values()) & set(test.english.values())


def test_ambiguous_pairs_never_enter(news_root):
    kept = unambiguous_pairs("wmt_newstest", "de", 400)
    assert len(kept) == 200 and all(en != "Repeated headline." for en, _ in kept)


def test_same_config_same_benchmark_and_too_small_source_fails(news_root):
    a = build_bucc_style(SMALL, "de")["test"]
    other = dataclasses.replace(SMALL, seed=SMALL.seed + 1)
    b = build_bucc_style(other, "de")["test"]
    _build.cache_clear()  # rebuild from the file, not from the cache
    again = build_bucc_style(dataclasses.replace(SMALL), "de")["test"]
    assert again is not a and again.gold == a.gold and again.english == a.english
    assert set(a.english.values()) != set(b.english.values())
    with pytest.raises(ConfigError, match="needs 385 pairs of wmt_newstest, only 200"):
        build_bucc_style(dataclasses.replace(SMALL, test_english=325), "de")


def test_training_corpus_excludes_every_benchmark_sentence(news_root):
    holdout = holdout_texts(SMALL)
    assert len(holdout) == 2 * (5 + 10) + 10 + 15 + 20 + 30
    cfg = DistillConfig(languages=["de"], corpora=["wmt_newstest"], pairs_per_language=400, dev_pairs=10)
    corpus = build_corpus(cfg, 0, holdout)
    used = set(corpus.train_en) | set(corpus.train_xx) | set(corpus.dev_en) | set(corpus.dev_xx)
    assert not used & holdout
    comp = corpus.composition.set_index("source")
    # 15 gold pairs (both sides held out) plus 75 distractor pairs (one side each).
    assert comp.loc["wmt_newstest", "benchmark_excluded"] == 90


def test_profile_holdout_skips_languages_without_the_source(news_root, caplog):
    sizes = {f"bucc_style.{k}": v for k, v in dataclasses.asdict(SMALL).items() if k != "languages"}
    prof = load_profile("quick", {**sizes, "bucc_style.languages": ["de", "zh"]})
    with caplog.at_level("WARNING"):
        held = benchmark_holdout(prof)
    assert held and "nothing to hold out for zh" in caplog.text
