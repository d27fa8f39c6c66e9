"""Cached scores are verified on read: a damaged entry is recomputed, never used."""

from __future__ import annotations

import pandas as pd
import pytest

from mlkd_utils.experiments import _cached


def _counting():
    calls = []

    def run():
        calls.append(1)
        return pd.DataFrame({"subset": ["en-de", "en-en"], "spearman": [50.0, 80.0]})

    return run, calls


def test_second_call_is_served_from_the_cache(tmp_path):
    run, calls = _counting()
    a = _cached(run, tmp_path, "sts17", {"x": 1})
    b = _cached(run, tmp_path, "sts17", {"x": 1})
    assert len(calls) == 1 and a.equals(b)
    _cached(run, tmp_path, "sts17", {"x": 2})  # other settings, other entry
    assert len(calls) == 2


def test_damaged_or_truncated_entry_is_recomputed(tmp_path):
    run, calls = _counting()
    _cached(run, tmp_path, "sts17", {})
    (path,) = (tmp_path / "eval").glob("sts17-*.csv")
    path.write_text(path.read_text().replace("50.0", "99.0"))  # same shape, wrong content
    assert _cached(run, tmp_path, "sts17", {}).spearman.tolist() == [50.0, 80.0] and len(calls) == 2
    path.write_bytes(path.read_bytes()[:20])  # truncated
    assert _cached(run, tmp_path, "sts17", {}).spearman.tolist() == [50.0, 80.0] and len(calls) == 3


def test_entry_without_sidecar_is_validated_then_checked_from_then_on(tmp_path):
    run, calls = _counting()
    _cached(run, tmp_path, "sts17", {})
    (path,) = (tmp_path / "eval").glob("sts17-*.csv")
    path.with_name(path.name + ".sha256").unlink()
    assert len(_cached(run, tmp_path, "sts17", {})) == 2 and len(calls) == 1
    assert path.with_name(path.name + ".sha256").is_file()
    path.write_text("subset,spearman\n")  # parses, but has no rows
    _cached(run, tmp_path, "sts17", {})
    assert len(calls) == 2


def _compute_once(args) -> int:
    """One of two processes asking for the same entry: returns how many times *it* computed."""
    import time

    folder, marker = args
    computed = []

    def run():
        computed.append(1)
        with open(marker, "a") as fh:
            fh.write("x")
        time.sleep(1.0)  # long enough for the other process to arrive while this one computes
        return pd.DataFrame({"subset": ["en-de"], "spearman": [1.0]})

    _cached(run, folder, "sts17", {"same": True})
    return len(computed)


def test_two_processes_asking_for_one_entry_compute_it_once(tmp_path):
    import multiprocessing as mp

    marker = tmp_path / "computed.txt"
    with mp.get_context("spawn").Pool(2) as pool:
        counts = pool.map(_compute_once, [(tmp_path, marker)] * 2)
    assert sorted(counts) == [0, 1] and marker.read_text() == "x"


class _Exploding:
    """A model whose use fails the test: proves an answer came from the cache."""

    def __getattr__(self, item):
        raise AssertionError(f"model used ({item}) although the cache held the scores")


def test_a_subset_of_sts17_files_is_read_from_a_cached_evaluation_of_all_of_them(tmp_path, tiny_root, teacher):
    from mlkd_utils.config import load_profile
    from mlkd_utils.experiments import evaluate_model

    prof = load_profile("quick", {"sts17_max_pairs": 8})
    full = evaluate_model(teacher, "teacher", prof, "t", ("sts17",), cache_dir=tmp_path)["sts17"]
    assert len(full) == 11 and set(full.n) == {8}  # the cap: 8 of the tiny files' 20 pairs
    part = evaluate_model(
        _Exploding(), "teacher", prof, "t", ("sts17",), cache_dir=tmp_path, sts17_subsets=["en-de", "ar-ar"]
    )
    assert (
        part["sts17"].set_index("subset").spearman.to_dict()
        == full.set_index("subset").spearman[["en-de", "ar-ar"]].to_dict()
    )
    # another cap is another evaluation: the model is needed again
    other = load_profile("quick", {"sts17_max_pairs": 12})
    with pytest.raises(AssertionError, match="model used"):
        evaluate_model(_Exploding(), "teacher", other, "t", ("sts17",), cache_dir=tmp_path, sts17_subsets=["en-de"])


def test_a_lock_held_by_another_process_is_seen_without_waiting(tmp_path):
    """A background queue skips a run that another job is training (and comes back to it later)."""
    import subprocess
    import sys
    import time

    from mlkd_utils.io import held_elsewhere

    target = tmp_path / "run"
    assert not held_elsewhere(target)  # no lock file at all
    code = (
        "import sys, time; from mlkd_utils.io import locked\n"
        f"with locked({str(target)!r}):\n    print('held', flush=True); time.sleep(30)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        t0 = time.time()
        assert held_elsewhere(target)
        assert time.time() - t0 < 1  # asked, not waited
    finally:
        holder.kill()
        holder.wait()
    assert not held_elsewhere(target)  # released with the process
