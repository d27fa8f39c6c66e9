"""Chapter 2's e5 recipe table: read from training logs, dev columns only."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlkd_utils.chapters import ch2_distillation as recipe_study
from mlkd_utils.config import load_profile
from mlkd_utils.distill import DistillResult


def _result(name: str, mse0: float, mse1: float, en: float) -> DistillResult:
    log = pd.DataFrame(
        [
            {"step": 0, "eval_loss": mse0, "eval_stsb-dev-en-en_spearman_cosine": 0.84, "eval_runtime": 1.0},
            {"step": 10, "loss": 0.003},
            {"step": 40, "eval_loss": mse1, "eval_stsb-dev-en-en_spearman_cosine": en, "eval_runtime": 1.0},
        ]
    )
    info = {
        "trainable_parameters": 21_800_000,
        "train_runtime": 100.0,
        "train_seconds": 100.0,
        "teacher_seconds": 1.0,
        "run_key": {"distill": {"batch_size": 32, "max_steps": 40, "eval_steps": 40}},
    }
    return DistillResult(name, Path("."), Path("."), log, info)


def test_grid_table_reads_first_and_last_dev_scores_and_picks_by_dev():
    prof = load_profile("cpu")
    results = {"e5grid-lr2e-4": _result("a", 30e-4, 18e-4, 0.80), "e5grid-lr5e-4": _result("b", 30e-4, 17e-4, 0.79)}
    table = recipe_study.grid_table(prof, results)
    assert table.loc["e5grid-lr2e-4", "dev MSE x1e4 at step 0"] == 30.0
    assert table.loc["e5grid-lr5e-4", "dev MSE x1e4"] == 17.0
    assert table.loc["e5grid-lr2e-4", "STSb dev en-en"] == 80.0
    assert table.loc["e5grid-lr2e-4", "start"] == "procrustes map"
    assert table.loc["e5grid-lr2e-4", "frozen"] == "embeddings"
    dev = recipe_study.dev_sts_mean(table)
    assert dev.idxmax() == "e5grid-lr2e-4" and table["dev MSE x1e4"].idxmin() == "e5grid-lr5e-4"
    assert not any("sts17" in c for c in table.columns)  # nothing from a test file


def test_cpu_grid_names_defined_students():
    prof = load_profile("cpu")
    assert set(recipe_study.grid(prof)) <= set(prof.students)
    assert {prof.student_config(n).dev_sts_subsets == [] for n in recipe_study.grid(prof)} == {True}
