"""The benchmark helpers: FLOP counts by hand, padding, and a report that shows only measured rows."""

from __future__ import annotations

import pandas as pd
import pytest

from benchlib import bert_flops, padded_lengths, render_report


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
    assert "nan" not in page and "| part" not in page  # the two parts are two tables
    assert "**2.00-2.14x** the speed of two faiss searches here, faster" in page  # the reading follows the rows
    assert "no `real` rows in `results/bench/mining.csv`" in page
    assert "2.14" in page and "Test CPU (2 cores, GPU: none)" in page and "`abc123`" in page
    assert "Not run yet: no `results/bench/distill_throughput.csv`" in page
    assert (tmp_path / "figures" / "bench_mining.png").is_file()


def test_mining_floor_comes_from_the_matmul_peak_measured_beside_it(tmp_path):
    stamp = {"cpu": "Test CPU", "cores": 2, "git_commit": "abc", "recorded_at": "2026-01-01"}
    pd.DataFrame(
        [{"what": "matmul fp32 (4096x384 @ 384x1536)", "gflops": 100.0, "of_matmul_fp32": 1.0, **stamp}]
    ).to_csv(tmp_path / "encoding.csv", index=False)
    pd.DataFrame(
        [
            {
                "part": "synthetic",
                "n_per_side": 100_000,
                "reference_seconds": 200.0,
                "seconds": 250.0,
                "speedup": 0.8,
                "identical_pairs": True,
                "dim": 384,
                **stamp,
            }
        ]
    ).to_csv(tmp_path / "mining.csv", index=False)
    page = render_report(tmp_path, tmp_path / "figures")
    # 2 * 100k^2 * 384 = 7.68e12 multiply-adds x2 per direction; at 100 GFLOP/s: 77 s, two directions 154 s
    assert "77 s for one pass, 154 s for two; faiss took 200 s" in page


@pytest.mark.parametrize("stem", ["encoding", "teacher_cache", "distill_throughput", "ci", "book"])
def test_every_other_section_is_reported_missing_until_its_csv_exists(tmp_path, stem):
    assert f"no `results/bench/{stem}.csv`" in render_report(tmp_path, tmp_path / "figures")


def test_ci_reading_sums_the_quick_chapters(tmp_path):
    stamp = {"cpu": "Test CPU", "cores": 2, "git_commit": "abc", "recorded_at": "2026-01-01"}
    rows = [
        ("all of .ci/run", 1200.0, "exit code 0"),
        ("quick book: 03_sts", 300.0, ""),
        ("quick book: 01_x", 60.0, ""),
    ]
    pd.DataFrame([{"step": a, "seconds": b, "detail": c, **stamp} for a, b, c in rows]).to_csv(
        tmp_path / "ci.csv", index=False
    )
    page = render_report(tmp_path, tmp_path / "figures")
    assert "**20.0 minutes** (exit code 0)" in page
    assert "add up to 6.0 minutes" in page and "the longest is 03_sts (300 s)" in page


def test_distill_reading_reports_time_to_the_same_dev_mse_and_plots_the_trace(tmp_path):
    stamp = {"cpu": "Test CPU", "cores": 2, "git_commit": "abc", "recorded_at": "2026-01-01"}
    common = {"steps": 30, "dev_mse_x100": 0.3, "sts17_en_en": 88.0, "sts17_en_de": 27.0, "target_dev_mse_x100": 0.31}
    pd.DataFrame(
        [
            {
                "path": "reference (recipe)",
                "student_sentences_per_s": 10.0,
                "wall_s": 300.0,
                "seconds_to_target": 200.0,
                "speedup_to_target": 1.0,
                **common,
                **stamp,
            },
            {
                "path": "ours",
                "student_sentences_per_s": 30.0,
                "wall_s": 100.0,
                "seconds_to_target": 50.0,
                "speedup_to_target": 4.0,
                **common,
                **stamp,
            },
        ]
    ).to_csv(tmp_path / "distill_throughput.csv", index=False)
    pd.DataFrame(
        [
            {"path": p, "step": s, "seconds": s * f, "dev_mse_x100": 0.4 - s / 100}
            for p, f in (("ref", 7), ("ours", 2))
            for s in (5, 10)
        ]
    ).to_csv(tmp_path / "distill_trace.csv", index=False)
    page = render_report(tmp_path, tmp_path / "figures")
    assert "**3.00x**" in page  # sentences per second
    assert "50 s of optimisation against 200 s for the reference, **4.00x**" in page
    # the reference row's own target (its final dev MSE) is named, so its larger seconds do not contradict
    assert "its final dev MSE (0.310, reached after 200 s)" in page
    # headers in words (they wrap to the page's width); the columns not shown are named under the table
    assert "student sentences per s" in page and "student_sentences_per_s" not in page.split("All columns")[0]
    assert "All columns (" in page and "`results/bench/distill_throughput.csv`" in page
    assert (tmp_path / "figures" / "bench_distill_trace.png").is_file()
