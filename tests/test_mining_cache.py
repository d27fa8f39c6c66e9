"""Mining results kept in the model's folder: a restored run record mines without its weights."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from mlkd_utils.data.bucc import BUCCData
from mlkd_utils.errors import WeightsMissingError
from mlkd_utils.mining import benchmark
from mlkd_utils.mining.bucc import split_bucc


def _splits(n: int = 30, seed: int = 0):
    rng = np.random.default_rng(seed)
    vectors, data = {}, BUCCData("xx-en", {}, {}, [])
    for i in range(n):
        v = rng.normal(size=8)
        data.source[f"xx-{i:03d}"], data.english[f"en-{i:03d}"] = f"src {i}", f"eng {i}"
        vectors[f"src {i}"], vectors[f"eng {i}"] = v, v + 0.8 * rng.normal(size=8)
        data.gold.append((f"xx-{i:03d}", f"en-{i:03d}"))
    for i in range(n, 3 * n):
        data.english[f"en-{i:03d}"] = f"eng {i}"
        vectors[f"eng {i}"] = rng.normal(size=8)
    return split_bucc(data, seed=1), vectors


class _Cache:
    """Stands for a TeacherCache: counts encodings."""

    def __init__(self, vectors):
        self.vectors, self.calls = vectors, 0

    def raw_embeddings(self, texts, show_progress_bar=False):
        self.calls += 1
        return np.stack([self.vectors[t] for t in texts]).astype(np.float32)


def _miner(folder, source) -> benchmark.Miner:
    return benchmark.Miner("m", 42, "run-1", folder, source)


def test_a_second_miner_reads_scores_and_candidates_without_loading_its_model(tmp_path):
    splits, vectors = _splits()
    cache = _Cache(vectors)
    first = benchmark.mine(_miner(tmp_path, lambda: cache), splits, k=3)
    assert cache.calls == 4 and len(first.candidates)  # both sides of tune and test

    def no_weights():
        raise WeightsMissingError("not on this machine")

    again = benchmark.mine(_miner(tmp_path, no_weights), splits, k=3)  # a fresh machine: the record only
    assert (again.f1, again.precision, again.recall, again.threshold, again.n_gold) == pytest.approx(
        (first.f1, first.precision, first.recall, first.threshold, first.n_gold)
    )
    cols = ["src_id", "en_id", "gold", "source", "english"]
    assert again.candidates[cols].equals(first.candidates[cols])
    assert np.allclose(again.candidates.score, first.candidates.score, rtol=1e-5)
    # another k is another result: it needs the model
    with pytest.raises(WeightsMissingError):
        benchmark.mine(_miner(tmp_path, no_weights), splits, k=2)


def test_scores_only_are_kept_without_candidates_and_asking_for_them_mines_again(tmp_path):
    splits, vectors = _splits()
    cache = _Cache(vectors)
    benchmark.mine(_miner(tmp_path, lambda: cache), splits, k=3, need_candidates=False)
    assert not list(tmp_path.glob("eval/mining-candidates-*"))
    benchmark.mine(_miner(tmp_path, lambda: cache), splits, k=3, need_candidates=False)
    assert cache.calls == 4  # the second time, the scores came from the folder
    full = benchmark.mine(_miner(tmp_path, lambda: cache), splits, k=3)
    assert cache.calls == 8 and len(full.candidates)


def test_a_damaged_or_foreign_candidate_file_is_mined_again(tmp_path):
    splits, vectors = _splits()
    cache = _Cache(vectors)
    benchmark.mine(_miner(tmp_path, lambda: cache), splits, k=3)
    [path] = tmp_path.glob("eval/mining-candidates-*.csv.gz")
    path.write_bytes(gzip.compress(b"src_id,en_id,score,gold\nxx-999,en-000,1.0,False\n"))  # sidecar mismatch
    benchmark.mine(_miner(tmp_path, lambda: cache), splits, k=3)
    assert cache.calls == 8
    other, other_vectors = _splits(n=31)  # other sentences: another key, so not served from this folder
    other_cache = _Cache(other_vectors)
    benchmark.mine(_miner(tmp_path, lambda: other_cache), other, k=3)
    assert other_cache.calls == 4


@pytest.mark.parametrize("change", [{"mode": "forward"}, {"scoring": "cosine"}, {"index": "ivf", "nprobe": 2}])
def test_every_mining_parameter_is_part_of_the_key(tmp_path, change):
    splits, vectors = _splits()
    benchmark.mine(_miner(tmp_path, lambda: _Cache(vectors)), splits, k=3)

    def no_weights():
        raise WeightsMissingError("not on this machine")

    with pytest.raises(WeightsMissingError):
        benchmark.mine(_miner(tmp_path, no_weights), splits, k=3, **change)


def test_candidates_naming_sentences_the_benchmark_lacks_are_mined_again(tmp_path):
    from mlkd_utils.io import write_checked

    splits, vectors = _splits()
    cache = _Cache(vectors)
    benchmark.mine(_miner(tmp_path, lambda: cache), splits, k=3)
    [path] = tmp_path.glob("eval/mining-candidates-*.csv.gz")
    write_checked(path, gzip.compress(b"src_id,en_id,score,gold\nxx-999,en-000,1.0,False\n"))  # intact, foreign
    again = benchmark.mine(_miner(tmp_path, lambda: cache), splits, k=3)
    assert cache.calls == 8 and "xx-999" not in set(again.candidates.src_id)


def test_run_mining_keeps_candidates_of_the_real_corpus_only_and_reads_guests_at_the_main_setting(
    tmp_path, monkeypatch
):
    from mlkd_utils.config import load_profile
    from mlkd_utils.results import read_metrics

    monkeypatch.setenv("MLKD_RESULTS_DIR", str(tmp_path / "results"))
    splits, vectors = _splits()
    monkeypatch.setattr(benchmark, "benchmarks", lambda p: {"BUCC xx-en": splits, "BUCC-style xx": splits})
    prof = load_profile("quick")
    own = benchmark.Miner("own", 42, "own-run", tmp_path / "own", lambda: _Cache(vectors))
    guest = benchmark.Miner("guest", 42, "guest-run", tmp_path / "guest", lambda: _Cache(vectors), guest=True)
    frame = benchmark.run_mining(prof, [own, guest], chapter="04_bucc")
    assert len(frame[frame.model == "guest"]) == 2 and len(frame[frame.model == "own"]) > 2
    for folder in (tmp_path / "own", tmp_path / "guest"):
        assert len(list(folder.glob("eval/mining-candidates-*.csv.gz"))) == 1  # BUCC xx-en, max / ratio
    modes = read_metrics("quick")
    assert set(modes[modes.task == "mining_modes"].model) == {"own"}
