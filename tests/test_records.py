"""Run records: a finished run's small files round-trip through results/<profile>/records."""

from __future__ import annotations

import json

import pytest

from mlkd_utils import records
from mlkd_utils.config import load_profile
from mlkd_utils.distill import finished_run
from mlkd_utils.errors import MLKDError


def test_save_and_restore_a_finished_run_without_its_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("MLKD_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("MLKD_RESULTS_DIR", str(tmp_path / "results"))
    prof = load_profile("quick")
    from mlkd_utils.distill import _run_dir

    _, run = _run_dir(prof, "student-en-de", 42, prof.student_config("student-en-de"), None)
    (run / "eval").mkdir(parents=True)
    (run / "model").mkdir()
    (run / "model" / "model.safetensors").write_bytes(b"weights")
    (run / "done.json").write_text(json.dumps({"seed": 42}))
    (run / "train_log.csv").write_text("step,loss\n10,0.1\n")
    (run / "eval" / "sts17-abc.csv").write_text("subset,spearman\nen-en,80\n")
    (tmp_path / "runs" / "quick" / "unfinished").mkdir()
    assert records.save("quick") == [run.name]
    kept = records.records_dir("quick") / run.name
    assert (kept / "eval" / "sts17-abc.csv").is_file() and not (kept / "model").exists()

    import shutil

    shutil.rmtree(tmp_path / "runs")  # a fresh machine
    assert records.restore("quick") == [run.name]
    assert records.restore("quick") == []  # already there
    result = finished_run(prof, "student-en-de", 42)
    assert result is not None and result.log.step.tolist() == [10]
    with pytest.raises(MLKDError, match="weights are not on this machine"):
        result.load_model()


def test_score_folders_of_untrained_models_are_recorded(tmp_path, monkeypatch):
    """The teacher's and the as-is systems' scores (no done.json) travel too; other folders do not."""
    monkeypatch.setenv("MLKD_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("MLKD_RESULTS_DIR", str(tmp_path / "results"))
    runs = tmp_path / "runs" / "quick"
    for name in ("teacher-abc", "baseline-muse-def", "scratch"):
        (runs / name / "eval").mkdir(parents=True)
        (runs / name / "eval" / "mining-1.csv").write_text("subset,f1\nx,1\n")
    (runs / "baseline-empty" / "eval").mkdir(parents=True)
    assert records.save("quick") == ["baseline-muse-def", "teacher-abc"]
    import shutil

    shutil.rmtree(tmp_path / "runs")
    assert records.restore("quick") == ["baseline-muse-def", "teacher-abc"]
    assert (runs / "teacher-abc" / "eval" / "mining-1.csv").is_file()
    assert records.restore("quick") == []


def test_a_score_folder_gets_the_files_it_lacks_and_a_retrained_run_drops_its_old_scores(tmp_path, monkeypatch):
    monkeypatch.setenv("MLKD_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("MLKD_RESULTS_DIR", str(tmp_path / "results"))
    runs = tmp_path / "runs" / "quick"
    (runs / "teacher-abc" / "eval").mkdir(parents=True)
    (runs / "teacher-abc" / "eval" / "sts17-1.csv").write_text("subset,v\nx,1\n")
    (runs / "run-1" / "eval").mkdir(parents=True)
    (runs / "run-1" / "done.json").write_text('{"train_seconds": 1}')
    (runs / "run-1" / "eval" / "mining-old.csv").write_text("subset,f1\nx,1\n")
    records.save("quick")
    # this machine scored the teacher on one task already; the record adds the other
    (runs / "teacher-abc" / "eval" / "sts17-1.csv").unlink()
    (runs / "teacher-abc" / "eval" / "tatoeba-2.csv").write_text("subset,v\nx,2\n")
    assert records.restore("quick") == ["teacher-abc"]
    assert (runs / "teacher-abc" / "eval" / "sts17-1.csv").is_file()
    # run-1 trained again (another done.json, its eval emptied by distill(force=True)) and scored anew
    (runs / "run-1" / "eval" / "mining-old.csv").unlink()
    (runs / "run-1" / "done.json").write_text('{"train_seconds": 2}')
    (runs / "run-1" / "eval" / "mining-new.csv").write_text("subset,f1\nx,2\n")
    records.save("quick")
    kept = records.records_dir("quick") / "run-1" / "eval"
    assert sorted(p.name for p in kept.glob("*.csv")) == ["mining-new.csv"]
