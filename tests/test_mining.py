"""Mining on hand-made cases whose answers are worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from mlkd_utils.data.bucc import BUCCData
from mlkd_utils.mining import best_threshold, knn_search, mine_and_score, mine_candidates, precision_recall_f1
from mlkd_utils.mining.bucc import candidate_frame, split_bucc
from mlkd_utils.mining.knn import knn_both
from mlkd_utils.mining.margin import RETRIEVAL_MODES


def deg(*angles: float) -> np.ndarray:
    a = np.deg2rad(np.asarray(angles, dtype=float))
    return np.stack([np.cos(a), np.sin(a)], 1).astype(np.float32)


def test_ratio_margin_known_values():
    # cos: x0y0=1, x0y1=0.6, x1y0=0, x1y1=0.8; with k=2 the neighbourhood means are
    # x0: 0.8, x1: 0.4, y0: 0.5, y1: 0.7, so margin(x0,y0)=1/0.65 and margin(x1,y1)=0.8/0.55.
    x = np.array([[1, 0], [0, 1]], dtype=np.float32)
    y = np.array([[1, 0], [0.6, 0.8]], dtype=np.float32)
    c = mine_candidates(x, y, k=2, mode="forward")
    assert c.trg.tolist() == [0, 1]
    np.testing.assert_allclose(c.score, [1 / 0.65, 0.8 / 0.55], rtol=1e-5)
    cos = mine_candidates(x, y, k=2, mode="forward", scoring="cosine")
    np.testing.assert_allclose(cos.score, [1.0, 0.8], rtol=1e-5)


def test_margin_discounts_a_hub_that_cosine_picks():
    # y4 (113 degrees) lies between x1 and x2 and is the nearest y of both by cosine; their true
    # partners (y1, y2) are slightly further but much closer to them than to anything else.
    x = deg(40, 118, 121, 165)
    y = deg(31, 104, 106, 163, 113)
    assert mine_candidates(x, y, k=3, mode="forward", scoring="cosine").trg.tolist() == [0, 4, 4, 3]
    assert mine_candidates(x, y, k=3, mode="forward", scoring="ratio").trg.tolist() == [0, 1, 2, 3]


def test_retrieval_modes():
    # cos: x0y0=1, x0y1=0, x1y0=0.8, x1y1=0.6: both x prefer y0; y1 prefers x1.
    x = np.array([[1, 0], [0.8, 0.6]], dtype=np.float32)
    y = np.array([[1, 0], [0, 1]], dtype=np.float32)

    def pairs(mode):
        c = mine_candidates(x, y, k=2, mode=mode, scoring="cosine")
        return sorted(zip(c.src.tolist(), c.trg.tolist()))

    assert pairs("forward") == [(0, 0), (1, 0)]
    assert pairs("backward") == [(0, 0), (1, 1)]
    assert pairs("intersection") == [(0, 0)]
    # max pools both lists and takes them greedily by score: (x1, y0) is blocked by (x0, y0).
    assert pairs("max") == [(0, 0), (1, 1)]
    with pytest.raises(ValueError, match="unknown retrieval mode"):
        mine_candidates(x, y, mode="union")


def test_threshold_is_best_f1_midpoint():
    # F1 after each candidate: 0.40, 0.67, 0.57, 0.75 -> accept all four, threshold just below 0.6.
    t, f1 = best_threshold(np.array([0.9, 0.8, 0.7, 0.6]), np.array([1, 1, 0, 1]), n_gold=4)
    assert f1 == pytest.approx(75.0) and 0.59 < t < 0.6
    # With a gold pair never retrieved, stopping after two is best: P 1, R 2/3, F1 0.8; midpoint 0.75.
    t, f1 = best_threshold(np.array([0.6, 0.9, 0.8, 0.7]), np.array([0, 1, 1, 0]), n_gold=3)
    assert f1 == pytest.approx(80.0) and t == pytest.approx(0.75)
    assert best_threshold(np.array([0.5]), np.array([0]), n_gold=2) == (float("inf"), 0.0)


def test_precision_recall_f1():
    assert precision_recall_f1({1, 2, 3, 4}, {1, 2, 5}) == pytest.approx((50.0, 200 / 3, 400 / 7))
    assert precision_recall_f1(set(), {1}) == (0.0, 0.0, 0.0)


def test_knn_exact_sharded_and_ivf_agree_with_brute_force():
    rng = np.random.default_rng(0)
    q, db = rng.normal(size=(50, 16)), rng.normal(size=(400, 16))
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    dn = db / np.linalg.norm(db, axis=1, keepdims=True)
    brute = np.argsort(-(qn @ dn.T), axis=1)[:, :5]
    sims, ids = knn_search(q, db, 5)
    assert (ids == brute).all()
    s3, i3 = knn_search(q, db, 5, shards=3)
    assert (i3 == ids).all() and np.allclose(s3, sims, atol=1e-5)
    _, ivf = knn_search(q, db, 5, index="ivf", nlist=8, nprobe=8)  # probing every cell is exact
    assert (ivf == brute).all()


@pytest.mark.parametrize("block", [7, 64, 1000])
def test_one_pass_both_directions_equals_two_exact_searches(block):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(130, 16)), rng.normal(size=(90, 16))
    (sf, i_f), (sb, ib) = knn_both(x, y, 4, block=block)  # blocks smaller than k, uneven, one block
    ref_f, ref_b = knn_search(x, y, 4), knn_search(y, x, 4)
    assert (i_f == ref_f[1]).all() and (ib == ref_b[1]).all()
    assert np.allclose(sf, ref_f[0], atol=1e-5) and np.allclose(sb, ref_b[0], atol=1e-5)
    for mode in RETRIEVAL_MODES:
        a, b = mine_candidates(x, y, 4, mode), mine_candidates(x, y, 4, mode, index="blocked")
        assert (a.src == b.src).all() and (a.trg == b.trg).all() and np.allclose(a.score, b.score, atol=1e-5)


def _bucc(n: int = 40, noise: float = 0.0, seed: int = 0):
    """n gold pairs whose 'embeddings' are shared random vectors, plus unmatched sentences."""
    rng = np.random.default_rng(seed)
    vectors = {}
    data = BUCCData("xx-en", {}, {}, [])
    for i in range(n):
        v = rng.normal(size=8)
        data.source[f"xx-{i}"] = f"src {i}"
        data.english[f"en-{i}"] = f"eng {i}"
        vectors[f"src {i}"], vectors[f"eng {i}"] = v, v + noise * rng.normal(size=8)
        data.gold.append((f"xx-{i}", f"en-{i}"))
    for i in range(n, 3 * n):
        data.english[f"en-{i}"] = f"eng {i}"
        vectors[f"eng {i}"] = rng.normal(size=8)

    def embed(texts):
        return np.stack([vectors[t] for t in texts]).astype(np.float32)

    return data, embed


def test_split_keeps_gold_pairs_together_and_sides_disjoint():
    data, _ = _bucc()
    splits = split_bucc(data, seed=1)
    tune, test = splits["tune"], splits["test"]
    assert len(tune.gold) + len(test.gold) == len(data.gold) and tune.gold and test.gold
    for part in (tune, test):
        assert all(s in part.source and e in part.english for s, e in part.gold)
    assert not set(tune.english) & set(test.english) and not set(tune.source) & set(test.source)
    assert len(tune.source) + len(test.source) == len(data.source)
    assert len(tune.english) + len(test.english) == len(data.english)


def test_repeated_text_is_mined_once_and_stands_for_all_its_ids():
    data, embed = _bucc(5)
    data.english["en-dup"] = data.english["en-0"]
    cand = candidate_frame(data, embed, k=2)
    assert {("xx-0", "en-0"), ("xx-0", "en-dup")} <= set(zip(cand.src_id, cand.en_id))


def test_perfect_embeddings_mine_perfectly_and_noise_costs_f1():
    data, embed = _bucc(60)
    splits = split_bucc(data)
    # Cosine 1 for every gold pair and below 1 for the rest: any threshold between transfers.
    res = mine_and_score(splits["tune"], splits["test"], embed, scoring="cosine")
    assert (res.precision, res.recall, res.f1) == (100.0, 100.0, 100.0)
    noisy, embed = _bucc(60, noise=1.5)
    splits = split_bucc(noisy)
    assert mine_and_score(splits["tune"], splits["test"], embed).f1 < 100.0


# Properties on random inputs (hypothesis): the fast paths agree with the definitions.
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(
    scores=arrays(np.float64, st.integers(1, 30), elements=st.floats(0, 10, allow_nan=False)),
    data=st.data(),
)
def test_threshold_f1_equals_the_best_f1_of_any_cut(scores, data):
    correct = np.array(data.draw(st.lists(st.booleans(), min_size=len(scores), max_size=len(scores))))
    n_gold = max(1, int(correct.sum()) + data.draw(st.integers(0, 3)))  # some gold never retrieved
    gold = set(np.flatnonzero(correct)) | {-i for i in range(1, n_gold - int(correct.sum()) + 1)}
    threshold, f1 = best_threshold(scores, correct, n_gold)
    best = max(precision_recall_f1(set(np.flatnonzero(scores >= t)), gold)[2] for t in np.unique(scores))
    assert f1 == pytest.approx(best)
    if best > 0:  # and the returned threshold achieves it
        assert precision_recall_f1(set(np.flatnonzero(scores > threshold)), gold)[2] == pytest.approx(best)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 25), m=st.integers(2, 25), seed=st.integers(0, 10_000))
def test_modes_relate_as_defined(n, m, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n, 6)), rng.normal(size=(m, 6))
    k = min(3, n, m)
    fwd = mine_candidates(x, y, k=k, mode="forward")
    bwd = mine_candidates(x, y, k=k, mode="backward")
    inter = mine_candidates(x, y, k=k, mode="intersection")
    best = mine_candidates(x, y, k=k, mode="max")
    f, b = set(zip(fwd.src, fwd.trg)), set(zip(bwd.src, bwd.trg))
    assert set(zip(inter.src, inter.trg)) == f & b
    pairs = list(zip(best.src, best.trg))
    assert set(pairs) <= f | b
    assert len({s for s, _ in pairs}) == len(pairs) == len({t for _, t in pairs})  # each sentence once
    assert (np.diff(best.score) <= 1e-6).all()  # taken greedily, best first


def test_quick_subsample_keeps_whole_gold_pairs_and_distractors():
    from mlkd_utils.mining.benchmark import _subsample

    gold = [(f"zh-{i}", f"en-{i}") for i in range(100)]
    data = BUCCData(
        "zh-en",
        {f"zh-{i}": f"zh sentence {i}" for i in range(300)},
        {f"en-{i}": f"en sentence {i}" for i in range(400)},
        gold,
    )
    small = _subsample(data, 80, seed=0)
    assert len(small.gold) == 20 and set(small.gold) <= set(gold)  # a quarter of the sample is gold
    assert len(small.source) == len(small.english) == 80  # the rest are distractors
    kept = {s for s, _ in small.gold} | {e for _, e in small.gold}
    dropped = {s for pair in gold for s in pair} - kept
    # a sentence whose partner was dropped would turn a correct alignment into a false positive
    assert not dropped & (set(small.source) | set(small.english))
    assert kept <= set(small.source) | set(small.english)
    assert _subsample(data, 80, seed=0) == small  # seeded
    assert _subsample(data, 1000, seed=0).gold == gold  # room for all of it: nothing dropped
