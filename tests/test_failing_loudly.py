"""Failing loudly: a full or unwritable output folder stops a run before any training, a chapter
that raises stops the book with its failing cell shown, and a missing chapter or results file fails
the build instead of rendering a page without numbers."""

from __future__ import annotations

import shutil
from collections import namedtuple

import nbformat
import pytest

from mlkd_utils import book, distill, english_baseline
from mlkd_utils.config import load_profile
from mlkd_utils.errors import MLKDError

Usage = namedtuple("Usage", "total used free")


def _no_training(*args, **kwargs):
    raise AssertionError("a model was loaded: the output check must come first")


@pytest.fixture
def guarded(monkeypatch):
    """Loading any model (the first costly step of a run) fails the test."""
    monkeypatch.setattr(distill, "load_sentence_model", _no_training)
    monkeypatch.setattr(english_baseline, "load_sentence_model", _no_training)


RUNNERS = {
    "distill": lambda prof: distill.distill(prof, "student-en-de"),
    "english_baseline": lambda prof: english_baseline.train_english_baseline(prof),
}


@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_unwritable_output_fails_before_training(runner, guarded, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the runs folder should be")
    monkeypatch.setenv("MLKD_RUNS_DIR", str(blocker / "runs"))
    with pytest.raises(MLKDError, match="not-a-folder/runs/.* is not writable"):
        RUNNERS[runner](load_profile("quick"))


@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_full_disk_fails_before_training(runner, guarded, monkeypatch):
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(10 << 30, (10 << 30) - (5 << 20), 5 << 20))
    with pytest.raises(MLKDError, match=r"has 5 MiB free, this run needs about \d+ MiB"):
        RUNNERS[runner](load_profile("quick"))


def test_required_space_follows_the_model_and_the_checkpoints_kept():
    """The floor grows with the student's weights and its kept checkpoints: a MiniLM run fits the
    ~900 MiB a CI /tmp has, a base-size hub model does not get waved through."""
    from mlkd_utils.models import UNKNOWN_WEIGHTS_BYTES, weights_bytes

    minilm = weights_bytes("all-MiniLM-L6-v2")
    assert 80e6 < minilm < 100e6  # the fp32 safetensors of all-MiniLM-L6-v2
    none_saved = distill.required_free_bytes("all-MiniLM-L6-v2", max_steps=10, save_steps=100)
    two_kept = distill.required_free_bytes("all-MiniLM-L6-v2", max_steps=1000, save_steps=100)
    assert none_saved == minilm + distill.SLACK_BYTES
    assert two_kept == 7 * minilm + distill.SLACK_BYTES
    assert two_kept < 800 << 20
    by_epochs = distill.required_free_bytes("all-MiniLM-L6-v2", max_steps=-1, save_steps=100, keep=1)
    assert by_epochs == 4 * minilm + distill.SLACK_BYTES
    assert distill.required_free_bytes("org/not-on-this-machine", 1000, 100) > 7 * UNKNOWN_WEIGHTS_BYTES


def _notebook(path, *cells: str) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('profile = "quick"\noverrides = {}')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_chapter_that_raises_stops_the_book_and_shows_the_cell(tmp_path, jobs):
    """Also with chapters executed side by side: the error comes back from the worker process."""
    from papermill.exceptions import PapermillExecutionError

    root, stage = tmp_path / "src", tmp_path / "stage"
    _notebook(root / "notebooks" / "01_fine.ipynb", "x = 1")
    # A chapter whose results were never produced: reading them must raise, not render blanks.
    _notebook(
        root / "notebooks" / "02_broken.ipynb",
        "from mlkd_utils.results import read_metrics\nmetrics = read_metrics(profile)",
        "never_reached = True",
    )
    with pytest.raises(PapermillExecutionError) as info:
        book.execute("quick", stage, root=root, jobs=jobs)
    message = str(info.value)
    assert "metrics = read_metrics(profile)" in message  # the failing cell
    assert "MLKDError" in message and "metrics.csv does not exist" in message
    assert (stage / "book" / "chapters" / "01_fine.ipynb").is_file()
    # the failed chapter is written with the error in it, for reading, and the build stops there
    failed = nbformat.read(stage / "book" / "chapters" / "02_broken.ipynb", as_version=4)
    assert any(o.get("output_type") == "error" for c in failed.cells for o in c.get("outputs", []))


def test_build_refuses_a_stage_with_a_chapter_missing(tmp_path):
    (tmp_path / "book" / "chapters").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="01_"):
        book.check_chapters(tmp_path)
