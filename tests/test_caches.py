"""Cached scores are verified on read: a damaged entry is recomputed, never used."""

from __future__ import annotations

import pandas as pd

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
