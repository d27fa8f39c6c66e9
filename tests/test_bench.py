"""The benchmark helpers: FLOP counts by hand, padding, and a report that shows only measured rows."""

from __future__ import annotations

import pandas as pd
import pytest

from mlkd_utils.bench import bert_flops, padded_lengths, render_report


def test_bert_flops_by_hand():
    # one layer, d=2, one sentence of 3 tokens: 24*3*4 + 4*9*2 = 288 + 72
    assert bert_flops([3], d=2, layers=1) == 360
    assert bert_flops([3, 3], d=2, layers=2) == 4 * 360


def test_padding_follows_length_sorted_batches():
    assert padded_lengths([5, 1, 3, 2], batch_size=2) == [5, 5, 2, 2]
    assert sum(padded_lengths([5, 1, 3, 2], batch_size=4)) == 20
    assert padded_lengths([5, 1, 3, 2], batch_size=1) == [5, 3, 2, 1]


def test_report_shows_measured_rows_with_their_machine_and_names_what_is_missing(tmp_path):
    stamp = {"cpu": "Test CPU", "cores": 2, "gpu": float("nan"), "git_commit": "abc123", "recorded_at": "2026-01-01"}
    rows = [(1000, 2.0, 1.0, 2.0), (4000, 30.0, 14.0, 2.14)]
    pd.DataFrame(
        [
            {
                "part": "synthetic",
                "n_per_side": n,
                "reference_seconds": ref,
                "seconds": ours,
                "speedup": x,
                "identical_pairs": True,
                **stamp,
            }
            for n, ref, ours, x in rows
        ]
    ).to_csv(tmp_path / "mining.csv", index=False)
    page = render_report(tmp_path, tmp_path / "figures")
    assert page.count("| synthetic") == 2 and "nan" not in page
    assert "2.14" in page and "Test CPU (2 cores, GPU: none)" in page and "`abc123`" in page
    assert "Not run yet: no `results/bench/distill_throughput.csv`" in page
    assert (tmp_path / "figures" / "bench_mining.png").is_file()


@pytest.mark.parametrize("stem", ["encoding", "teacher_cache", "distill_throughput", "book"])
def test_every_other_section_is_reported_missing_until_its_csv_exists(tmp_path, stem):
    assert f"no `results/bench/{stem}.csv`" in render_report(tmp_path, tmp_path / "figures")
