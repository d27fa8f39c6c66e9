import math

import pandas as pd
import pytest

from mlkd_utils.results import (
    COLUMNS,
    ResultsSchemaError,
    metrics_path,
    prune,
    read_metrics,
    to_rows,
    write_metrics,
)


def rows(chapter, model, value, subsets=("en-de", "en-en"), seed=1):
    df = pd.DataFrame(
        {
            "subset": list(subsets),
            "spearman": [value] * len(subsets),
            "lo": [value - 1] * len(subsets),
            "hi": [value + 1] * len(subsets),
        }
    )
    return to_rows(df, chapter=chapter, model=model, task="sts17", metrics=["spearman"], seed=seed, ci=("lo", "hi"))


def test_each_seed_keeps_its_rows_and_unseeded_rows_are_replaced():
    write_metrics("p", rows("03", "student", 10.0, seed=42))
    write_metrics("p", rows("03", "student", 20.0, seed=43))
    write_metrics("p", rows("03", "student", 11.0, seed=42))
    write_metrics("p", rows("03", "teacher", 1.0, seed=None))
    write_metrics("p", rows("03", "teacher", 2.0, seed=None))
    df = read_metrics("p")
    student = df[df.model == "student"]
    assert sorted(student.value.tolist()) == [11.0, 11.0, 20.0, 20.0]
    assert df[df.model == "teacher"].value.tolist() == [2.0, 2.0]


def test_rerunning_a_chapter_replaces_only_its_own_rows():
    write_metrics("p", rows("01", "teacher", 10.0))
    write_metrics("p", rows("02", "teacher", 20.0))
    write_metrics("p", rows("01", "teacher", 30.0, subsets=("en-de",)))
    df = read_metrics("p")
    assert list(df.columns) == COLUMNS
    ch1 = df[df.chapter == "01"]
    assert ch1.value.tolist() == [30.0] and ch1.ci_low.tolist() == [29.0]
    assert df[df.chapter == "02"].value.tolist() == [20.0, 20.0]


def test_schema_is_checked_on_read():
    write_metrics("p", rows("01", "teacher", 1.0))
    path = metrics_path("p")
    path.write_text(path.read_text().replace("1.0000,1,", "oops,1,", 1))
    with pytest.raises(ResultsSchemaError, match="non-numeric value 'oops' in row 2"):
        read_metrics("p")
    path.write_text("chapter,model\n01,teacher\n")
    with pytest.raises(ResultsSchemaError, match="missing columns"):
        read_metrics("p")


def test_missing_results_file_is_an_error_unless_optional():
    with pytest.raises(Exception, match="does not exist"):
        read_metrics("nothing-here")
    assert read_metrics("nothing-here", required=False).empty


def test_rows_without_interval_have_nan_ci():
    df = pd.DataFrame({"subset": ["deu"], "accuracy": [50.0]})
    r = to_rows(df, chapter="c", model="m", task="tatoeba", metrics=["accuracy"], seed=None)
    assert math.isnan(r.ci_low.iloc[0])


def test_prune_removes_only_rows_the_chapter_no_longer_produces():
    def with_run(df, run_id):
        return df.assign(run_id=run_id)

    write_metrics("p", with_run(rows("03", "student", 1.0, seed=42), "run-42"))
    write_metrics("p", with_run(rows("03", "student", 2.0, seed=44), "run-44-old"))
    write_metrics("p", rows("03", "teacher", 3.0, seed=None))
    write_metrics("p", rows("03", "retired-model", 4.0, seed=None))
    write_metrics("p", with_run(rows("02", "student", 5.0, seed=44), "run-44-old"))
    assert prune("p", "03", keep_run_ids={"run-42"}, keep_unseeded={"teacher"}) == 4
    df = read_metrics("p")
    assert (
        sorted(zip(df.chapter, df.model)) == [("02", "student")] * 2 + [("03", "student")] * 2 + [("03", "teacher")] * 2
    )


def _add_rows(profile: str, model: str) -> None:
    import pandas as pd

    from mlkd_utils.results import to_rows, write_metrics

    for seed in range(15):
        frame = pd.DataFrame({"subset": ["en-de"], "spearman": [float(seed)]})
        write_metrics(profile, to_rows(frame, chapter="05", model=model, task="sts17", metrics=["spearman"], seed=seed))


def test_concurrent_writers_do_not_drop_each_others_rows():
    """Two worker processes adding rows to one results file at once (as the split background jobs
    do): with the lock every row of both survives."""
    import multiprocessing as mp

    from mlkd_utils.results import read_metrics

    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_add_rows, args=("quick", f"worker-{i}")) for i in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        assert p.exitcode == 0
    df = read_metrics("quick")
    assert sorted(df.groupby("model").size().tolist()) == [15, 15, 15]


def test_a_cached_re_render_keeps_the_run_record_of_the_evaluation_that_scored_it(tmp_path, monkeypatch):
    """Re-rendering a chapter finds every score cached: the run's record keeps its commit, time and
    evaluation seconds; a retrained run (other training info) is recorded again."""
    import json

    from mlkd_utils.config import load_profile
    from mlkd_utils.distill import DistillResult
    from mlkd_utils.experiments import record_training

    monkeypatch.setenv("MLKD_RESULTS_DIR", str(tmp_path))
    prof = load_profile("quick")
    info = {"seed": 42, "run_key": {"lr": 1e-4, "langs": ("de",)}, "train_seconds": 12.5, "git_commit": "abc"}
    result = DistillResult("s", tmp_path / "run-1", tmp_path / "run-1" / "model", pd.DataFrame(), dict(info))
    record_training(prof, result, "05", eval_seconds=30.0)
    path = tmp_path / "quick" / "runs" / "run-1.json"
    assert json.loads(path.read_text())["eval_seconds"] == 30.0
    record_training(prof, result, "05", eval_seconds=0.1)  # every score from the cache
    assert json.loads(path.read_text())["eval_seconds"] == 30.0
    result.info["train_seconds"] = 13.0  # retrained
    record_training(prof, result, "05", eval_seconds=29.0)
    assert json.loads(path.read_text())["eval_seconds"] == 29.0
