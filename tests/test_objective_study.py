"""Chapter 6's plan (only the objective changes; the mse run is chapter 3's student) and its tables."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from mlkd_utils import objective_study as os_
from mlkd_utils.config import OBJECTIVES, load_profile
from mlkd_utils.distill import run_key
from mlkd_utils.errors import ConfigError


@pytest.mark.parametrize("name", ["quick", "cpu", "paper"])
def test_every_objective_runs_once_per_seed_and_only_the_objective_changes(name):
    prof = load_profile(name)
    spec = os_.settings(prof)
    runs = os_.plan(prof)
    seeds = spec["seeds"] or prof.seeds
    main = [r for r in runs if r.label in OBJECTIVES]
    later = spec["later_seeds_objectives"] or OBJECTIVES
    expected = [(o, seeds[0]) for o in OBJECTIVES] + [(o, s) for o in later for s in seeds[1:]]
    assert sorted((r.objective, r.seed) for r in main) == sorted(expected)
    assert len({(r.name, r.seed) for r in runs}) == len(runs)
    base = dataclasses.replace(prof.student_config(spec["base"]), **spec["base_overrides"])
    for r in main:
        cfg = os_.config_for(prof, r)
        changed = {f.name for f in dataclasses.fields(cfg) if getattr(cfg, f.name) != getattr(base, f.name)}
        assert changed <= {"objective"}, (r, changed)


def test_the_mse_run_is_chapter_3s_student_so_it_is_reused():
    prof = load_profile("cpu")
    mse = next(r for r in os_.plan(prof) if r.objective == "mse" and r.seed == 42)
    assert mse.name == "student-10lang"
    assert run_key(prof, os_.config_for(prof, mse), 42) == run_key(prof, prof.student_config("student-10lang"), 42)


def test_first_seed_and_sensitivity_runs_come_before_any_second_seed():
    runs = os_.plan(load_profile("cpu"))
    first_other_seed = next(i for i, r in enumerate(runs) if r.seed != 42)
    assert {r.seed for r in runs[:first_other_seed]} == {42}
    extra = [i for i, r in enumerate(runs) if r.label not in OBJECTIVES]
    assert extra and max(extra) < first_other_seed
    ranking_lr = runs[extra[0]]
    assert os_.config_for(load_profile("cpu"), ranking_lr).learning_rate == pytest.approx(2e-4)


def test_unknown_objective_in_the_chapter_settings_fails_before_training():
    prof = load_profile("quick", {"chapters.06_objectives.objectives": ["mse", "triplet"]})
    with pytest.raises(ConfigError, match="triplet"):
        os_.plan(prof)


def _metrics() -> pd.DataFrame:
    rows = []

    def add(model, seed, run_id, task, subset, metric, value):
        rows.append(
            dict(
                chapter=os_.CHAPTER,
                model=model,
                task=task,
                subset=subset,
                metric=metric,
                value=value,
                seed=seed,
                run_id=run_id,
            )
        )

    for model, seed, run_id, base in [
        ("teacher", np.nan, "", 0),
        ("objective-ranking", 42, "r42", 10),
        ("objective-ranking", 43, "r43", 20),
    ]:
        add(model, seed, run_id, "sts17", "en-en", "spearman", 80 + base)
        add(model, seed, run_id, "sts17", "ar-ar", "spearman", 40 + base)
        add(model, seed, run_id, "sts17", "es-es", "spearman", 60 + base)
        add(model, seed, run_id, "sts17", "en-de", "spearman", 30 + base)
        add(model, seed, run_id, "sts17", "ar-en", "spearman", 10 + base)
        add(model, seed, run_id, "sts17", "es-en-wmt", "spearman", 10 + base)
        add(model, seed, run_id, "tatoeba_all", "deu", "accuracy", 50 + base)
        add(model, seed, run_id, "tatoeba_all", "pol", "accuracy", 20 + base)
        add(model, seed, run_id, "mining", "BUCC zh-en", "f1", 5 + base)
        add(model, seed, run_id, "mining", "BUCC-style de", "f1", 30 + base)
        add(model, seed, run_id, "mining", "BUCC-style fr", "f1", 40 + base)
    return pd.DataFrame(rows)


def test_scores_group_sts_files_and_tatoeba_languages_and_summary_reports_spread():
    prof = load_profile("cpu")
    runs = pd.DataFrame(
        [
            {"objective": "ranking", "model": "objective-ranking", "seed": 42, "done": True, "run_id": "r42"},
            {"objective": "ranking", "model": "objective-ranking", "seed": 43, "done": True, "run_id": "r43"},
            {"objective": "ems", "model": "objective-ems", "seed": 42, "done": False, "run_id": None},
        ]
    )
    per_seed = os_.scores(_metrics(), runs, prof)
    assert list(per_seed.objective) == ["teacher", "ranking", "ranking"]
    r42 = per_seed[(per_seed.objective == "ranking") & (per_seed.seed == 42)].iloc[0]
    assert r42["STS17 en-en"] == 90
    assert r42["STS17 same language (non-en)"] == pytest.approx((50 + 70) / 2)
    # one definition across the book: the paper's seven cross-lingual files (es-en-wmt is not one)
    assert r42["STS17 cross-lingual"] == pytest.approx((40 + 20) / 2)
    assert r42["Tatoeba trained"] == 60 and r42["Tatoeba unseen"] == 30  # deu trained, pol not
    assert r42["BUCC zh-en F1"] == 15 and r42["BUCC-style F1"] == pytest.approx(45)
    table = os_.summary_table(per_seed)
    assert table.loc["ranking", "seeds"] == 2
    assert table.loc["ranking", "STS17 en-en"] == "95.0 ± 7.1"  # 90 and 100
    assert table.loc["teacher", "STS17 en-en"] == "80.0"  # one value: no spread shown
    assert "ems" not in table.index  # unfinished runs are listed by run_study, never scored as zero


def test_chapter_6_students_join_chapter_4_as_guests_left_out_of_its_tatoeba_sweep(monkeypatch):
    """Chapter 4 mines every finished chapter-6 student next to its own, without training them and
    without encoding Tatoeba's 112 languages for each (chapter 6 scores its own languages)."""
    from pathlib import Path
    from types import SimpleNamespace

    from mlkd_utils import mining_study

    def run(name):
        return SimpleNamespace(run_dir=Path("/runs") / f"{name}-s42-x", info={"seed": 42}, load_model=lambda: None)

    own, ranking = run("student-10lang"), run("objective-ranking")
    monkeypatch.setattr(mining_study, "distill", lambda *a, **k: own)
    monkeypatch.setattr(mining_study, "teacher_miner", lambda p: mining_study.Miner("teacher", None, "", None, None))
    monkeypatch.setattr(mining_study, "_cache", lambda *a: None)
    monkeypatch.setattr(
        os_,
        "finished_students",
        lambda p, seed: [("student-10lang", own, ("de",)), ("objective-ranking", ranking, ("de",))],
    )
    got = [(m.label, m.guest) for m in mining_study.miners(load_profile("quick"))]
    assert got == [("teacher", False), ("student-10lang", False), ("objective-ranking", True)]
    assert [(m.label, m.guest) for m in mining_study.miners(load_profile("quick"), objectives=False)] == got[:2]


def test_later_seeds_repeat_only_the_objectives_named_and_a_typo_fails():
    prof = load_profile("cpu", {"chapters.06_objectives.later_seeds_objectives": ["mse", "labse"]})
    later = {(r.objective, r.seed) for r in os_.plan(prof) if r.seed != 42}
    assert later == {("mse", 43), ("labse", 43)}
    bad = load_profile("cpu", {"chapters.06_objectives.later_seeds_objectives": ["labes"]})
    with pytest.raises(ConfigError, match="labes"):
        os_.plan(bad)
