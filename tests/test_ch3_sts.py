"""Chapter 3's bookkeeping: run order, seed spread, paired differences, one row per run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlkd_utils import tables
from mlkd_utils.chapters.ch3_sts import paired_differences, planned_runs
from mlkd_utils.config import load_profile
from mlkd_utils.evaluation import paired_bootstrap_difference


def test_every_student_at_the_first_seed_comes_before_any_second_seed():
    prof = load_profile("cpu")
    plan = planned_runs(prof)
    students = prof.chapter("03_sts")["students"]
    one_seed = set(prof.chapter("03_sts")["one_seed"])
    assert plan[: len(students)] == [(s, 42) for s in students]
    assert len(plan) == len(students) + 2 * (len(students) - len(one_seed)) and len(set(plan)) == len(plan)
    assert {s for s, seed in plan if seed != 42}.isdisjoint(one_seed)  # the long e5 runs train once


def _metrics(values: dict[tuple[str, int | None], float]) -> pd.DataFrame:
    rows = [
        {
            "chapter": "03",
            "model": m,
            "task": "sts17",
            "subset": sub,
            "metric": "spearman",
            "value": v + off,
            "seed": seed,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "run_id": "",
        }
        for (m, seed), v in values.items()
        for sub, off in (("en-de", -1.0), ("ar-en", 1.0))
    ]
    return pd.DataFrame(rows)


def test_seed_spread_is_over_per_seed_averages():
    df = _metrics({("s", 1): 10.0, ("s", 2): 14.0, ("s", 3): 12.0, ("t", None): 5.0})
    spread = tables.seed_spread(df, ["en-de", "ar-en"])
    assert spread.loc["s"].tolist() == [3, 12.0, 2.0, 10.0, 14.0]
    assert spread.loc["t", "seeds"] == 1


def test_one_row_per_run_drops_a_second_chapters_copy():
    a = _metrics({("s", 1): 10.0})
    b = a.assign(chapter="02")
    assert len(tables.one_row_per_run(pd.concat([a, b]))) == len(a)


def test_paired_difference_detects_a_real_gap_and_not_a_null_one():
    rng = np.random.default_rng(0)
    gold = rng.uniform(0, 5, 250)
    good = gold + rng.normal(0, 0.5, 250)
    bad = gold + rng.normal(0, 3.0, 250)
    diff, lo, hi = paired_bootstrap_difference(bad, good, gold, n_boot=300)
    assert diff > 0 and lo > 0
    same = paired_bootstrap_difference(good, good + 1e-9 * rng.normal(size=250), gold, n_boot=300)
    assert same[1] <= 0 <= same[2]


def test_paired_differences_table_marks_real_rows():
    rng = np.random.default_rng(1)
    gold = rng.uniform(0, 5, 200)
    frame = lambda noise: pd.DataFrame(  # noqa: E731
        {"subset": "en-de", "pair": np.arange(200), "gold": gold, "cosine": gold + rng.normal(0, noise, 200)}
    )
    table = paired_differences({"teacher": frame(4.0), "student": frame(0.3)}, n_boot=200)
    assert bool(table.loc["en-de", "real"]) and table.loc["en-de", "difference"] > 0
    assert table.loc["en-de", "difference"] == pytest.approx(
        table.loc["en-de", "student"] - table.loc["en-de", "teacher"], abs=0.11
    )


def test_quoted_rows_keep_their_printed_averages_and_sources():
    """The quoted rows are numbers copied from a source, so their averages must come out as printed
    there (LASER: 67.0 over the paper's seven cross-lingual files; the docs' ten-file average 69.5)."""
    q = tables.quoted_rows()
    assert q.loc["LASER (quoted)", "cross-lingual avg"] == 67.0
    ten = [c for c in q.columns if c not in ("same-language avg", "cross-lingual avg", "source")]
    assert len(ten) == 10 and round(sum(q.loc["LASER (quoted)", ten]) / 10, 1) == 69.5
    assert round(sum(q.loc["distiluse-base-multilingual-cased (quoted)", ten]) / 10, 1) == 80.1
    assert q.source.str.contains("sentence-transformers docs").all()
    bucc = tables.quoted_bucc_rows()
    assert list(bucc.columns[:4]) == ["de", "fr", "ru", "zh"] and bucc.loc["LASER (quoted)", "de"] == 96.2
