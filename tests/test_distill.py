"""A few real training steps on made-up data: the loss, the log, caching, resume, the CLI."""

import json
import shutil

import pandas as pd
import pytest

from mlkd_utils.config import load_profile
from mlkd_utils.distill import distill

TINY = {
    "distill.corpora": ["tatoeba_challenge", "xnli_devtest"],
    "distill.pairs_per_language": 64,
    "distill.dev_pairs": 16,
    "distill.max_steps": 4,
    "distill.batch_size": 8,
    "distill.eval_steps": 2,
    "distill.save_steps": 2,
    "distill.logging_steps": 1,
    "distill.learning_rate": 5e-4,
    "distill.dev_sts_subsets": ["en-de"],
    "distill.bf16": False,
    "bf16_inference": False,
}


@pytest.mark.slow
def test_distill_trains_logs_caches_and_resumes(tiny_root, tmp_path):
    prof = load_profile("quick", TINY)
    first = distill(prof, "student-en-de", seed=7, keep_checkpoints=True)
    log = first.log
    assert {"loss", "eval_loss", "eval_dev-translation_mean_accuracy", "eval_sts17-en-de_spearman_cosine"} <= set(
        log.columns
    )
    assert log.step.max() == 4 and log.loss.notna().sum() == 4
    assert (first.model_path / "modules.json").is_file()
    assert "Normalize" in (first.model_path / "modules.json").read_text()
    assert first.info["resumed_from"] is None

    # A finished run is reused, not retrained.
    again = distill(prof, "student-en-de", seed=7)
    assert again.run_dir == first.run_dir and again.info == first.info

    # Simulate a kill after the checkpoint at step 2: the rerun resumes there and logs no step twice.
    run = first.run_dir
    (run / "done.json").unlink()
    shutil.rmtree(run / "model")
    shutil.rmtree(run / "checkpoints" / "checkpoint-4")
    resumed = distill(prof, "student-en-de", seed=7)
    assert resumed.info["resumed_from"] == "checkpoint-2"
    assert resumed.info["teacher_cache_hit"] is True
    steps = resumed.log.dropna(subset=["loss"]).step.tolist()
    assert steps == [1, 2, 3, 4]


@pytest.mark.slow
def test_raw_targets_train_without_normalize_and_save_with_it(tiny_root):
    from transformers import TrainerCallback

    seen = []

    class Watch(TrainerCallback):  # a benchmark's way in: watches, does not change the run
        def on_step_end(self, args, state, control, **kwargs):
            seen.append(state.global_step)

    prof = load_profile("quick", {**TINY, "distill.target_mode": "raw", "distill.max_steps": 2})
    r = distill(prof, "student-en-de", seed=1, callbacks=[Watch()])
    assert seen == [1, 2]
    cfg = json.loads((r.run_dir / "config.json").read_text())
    assert cfg["distill"]["target_mode"] == "raw"
    # Raw pooled targets are far from unit length, so the loss is much larger than with unit vectors.
    assert r.log.loss.dropna().iloc[0] > 0.01
    assert "Normalize" in (r.model_path / "modules.json").read_text()
    # Finished: the checkpoints (only for resuming) are gone, the model and logs stay.
    assert not (r.run_dir / "checkpoints").exists() and (r.run_dir / "train_log.csv").is_file()


@pytest.mark.slow
def test_cli_distill_writes_the_same_result_files(tiny_root, tmp_path):
    from mlkd_utils.__main__ import main

    sets = [x for k, v in TINY.items() for x in ("--set", f"{k}={json.dumps(v)}")]
    assert (
        main(["distill", "--profile", "quick", "--student", "my-de", "--languages", "de", "--tasks", "sts17", *sets])
        == 0
    )
    metrics = pd.read_csv(tmp_path / "results" / "quick" / "metrics.csv")
    mine = metrics[(metrics.model == "my-de") & (metrics.chapter == "cli")]
    assert len(mine) == 11 and mine.ci_low.notna().all()
    runs = list((tmp_path / "results" / "quick" / "runs").glob("my-de-*.json"))
    info = json.loads(runs[0].read_text())
    assert {"git_commit", "packages", "hardware", "config"} <= set(info)


def test_training_cost_of_a_resumed_run_counts_only_the_steps_it_timed(tmp_path):
    import pandas as pd

    from mlkd_utils.distill import DistillResult, training_cost

    log = pd.DataFrame({"step": [0, 100, 200, 300, 400], "eval_runtime": [5.0, 5.0, 5.0, 5.0, 5.0]})
    info = {
        "run_key": {"distill": {"eval_steps": 100, "batch_size": 32, "max_steps": 400}},
        "train_runtime": 110.0,
        "train_seconds": 111.0,
        "teacher_seconds": 0.0,
    }
    fresh = training_cost(DistillResult("s", tmp_path, tmp_path, log, info))
    assert fresh["steps timed"] == 400 and fresh["student sentences/s"] == round(2 * 32 * 400 / 90, 1)
    resumed = training_cost(DistillResult("s", tmp_path, tmp_path, log, {**info, "resumed_from": "checkpoint-200"}))
    assert resumed["steps timed"] == 200 and resumed["student sentences/s"] == round(2 * 32 * 200 / 100, 1)
