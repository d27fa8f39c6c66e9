from collections import Counter

from mlkd_utils.config import DistillConfig
from mlkd_utils.corpus import _draw, build_corpus


def test_sources_are_balanced_and_small_ones_repeated(tiny_root):
    cfg = DistillConfig(
        languages=["de"], corpora=["tatoeba_challenge", "xnli_devtest"], pairs_per_language=200, dev_pairs=10
    )
    c = build_corpus(cfg, seed=0)
    comp = c.composition.set_index("source")
    assert comp.loc["tatoeba_challenge", "drawn"] == comp.loc["xnli_devtest", "drawn"] == 100
    # xnli_devtest has 50 pairs (minus dev), so it is repeated about twice.
    assert comp.loc["xnli_devtest", "repeats"] >= 2
    assert len(c.train_en) == 200 and len(c.dev_en) == 10


def test_dev_english_never_in_training(tiny_root):
    cfg = DistillConfig(
        languages=["de"], corpora=["tatoeba_challenge", "xnli_devtest"], pairs_per_language=400, dev_pairs=20
    )
    c = build_corpus(cfg, seed=3)
    assert not set(c.dev_en) & set(c.train_en)


def test_same_seed_same_corpus(tiny_root):
    cfg = DistillConfig(languages=["de"], corpora=["tatoeba_challenge"], pairs_per_language=50, dev_pairs=5)
    assert build_corpus(cfg, 1).train_en == build_corpus(cfg, 1).train_en
    assert build_corpus(cfg, 1).train_en != build_corpus(cfg, 2).train_en


def test_missing_source_is_reported_not_silent(tiny_root):
    cfg = DistillConfig(languages=["de"], corpora=["tatoeba_challenge", "multi30k"], pairs_per_language=20, dev_pairs=2)
    comp = build_corpus(cfg, 0).composition.set_index("source")
    assert comp.loc["multi30k", "available"] == 0 and comp.loc["tatoeba_challenge", "drawn"] == 20


def test_draw_repeats_whole_pool_then_samples():
    import random

    out = _draw(list(range(10)), 25, random.Random(0))
    counts = Counter(out)
    assert len(out) == 25 and set(counts.values()) <= {2, 3} and sum(v == 3 for v in counts.values()) == 5


def test_source_reports_count_skips_per_file(tiny_root):
    from conftest import write_gz
    from mlkd_utils.corpus import source_reports

    write_gz(tiny_root / "parallel" / "multi30k" / "en-de.tsv.gz", ["a\tA", "a\tA", "b\t", "x" * 50 + "\ty"])
    cfg = DistillConfig(languages=["de"], corpora=["multi30k", "tatoeba_challenge"], max_sentence_chars=45)
    rep = source_reports(cfg).set_index("source")
    assert rep.loc["multi30k", ["kept", "duplicate", "empty_side", "too_long"]].tolist() == [1, 1, 1, 1]
    assert rep.loc["tatoeba_challenge", "dropped"] == 0
