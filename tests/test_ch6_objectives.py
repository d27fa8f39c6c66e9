"""Chapter 6's plan (only the objective changes; the mse run is chapter 3's student) and its tables."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from mlkd_utils.chapters import ch6_objectives as os_
from mlkd_utils.config import OBJECTIVES, load_profile
from mlkd_utils.distill import run_key
from mlkd_utils.errors import ConfigError

NO_GRID = {"chapters.06_objectives.learning_rates": None}


@pytest.mark.parametrize("name", ["quick", "cpu", "paper"])
def test_every_objective_runs_once_per_seed_and_only_the_objective_changes(name):
    prof = load_profile(name, NO_GRID)
    spec = os_.settings(prof)
    runs = os_.plan(prof)
    seeds = spec["seeds"] or prof.seeds
    main = [r for r in runs if r.label in OBJECTIVES]
    later = spec["later_seeds_objectives"] or spec["objectives"]
    expected = [(o, seeds[0]) for o in spec["objectives"]] + [(o, s) for o in later for s in seeds[1:]]
    assert sorted((r.objective, r.seed) for r in main) == sorted(expected)
    assert len({(r.name, r.seed) for r in runs}) == len(runs)
    base = dataclasses.replace(prof.student_config(spec["base"]), **spec["base_overrides"])
    for r in main:
        cfg = os_.config_for(prof, r)
        changed = {f.name for f in dataclasses.fields(cfg) if getattr(cfg, f.name) != getattr(base, f.name)}
        assert changed <= {"objective"}, (r, changed)


def test_without_a_learning_rate_grid_the_mse_run_is_the_base_student_so_it_is_reused():
    prof = load_profile("cpu", NO_GRID)
    base = os_.settings(prof)["base"]
    mse = next(r for r in os_.plan(prof) if r.objective == "mse" and r.seed == 42)
    assert mse.name == base
    assert run_key(prof, os_.config_for(prof, mse), 42) == run_key(prof, prof.student_config(base), 42)


def _fake_finished(scores: dict[str, float]):
    """finished_run for the candidates named in ``scores`` (name -> STSb dev en-en at the end)."""
    from pathlib import Path
    from types import SimpleNamespace

    def finished(profile, name, seed, cfg):
        if name not in scores:
            return None
        log = pd.DataFrame(
            {"step": [0, 4], "eval_loss": [3e-3, 2e-3], "eval_stsb-dev-en-en_spearman_cosine": [0.5, scores[name]]}
        )
        return SimpleNamespace(log=log, run_dir=Path("/runs") / f"{name}-s{seed}-x", info={"seed": seed})

    return finished


def test_learning_rates_are_chosen_on_dev_and_later_seeds_wait_for_the_choice(monkeypatch):
    prof = load_profile(
        "cpu",
        {"chapters.06_objectives.objectives": ["mse", "labse"], "chapters.06_objectives.learning_rates": [5e-5, 2e-4]},
    )
    runs = os_.plan(prof)  # nothing trained: every candidate is dev-only, no later seed planned yet
    assert [(r.name, r.dev_only) for r in runs] == [
        ("objective-mse-lr5e-5", True),
        ("objective-mse-lr2e-4", True),
        ("objective-labse-lr5e-5", True),
        ("objective-labse-lr2e-4", True),
    ]
    assert [os_.config_for(prof, r).learning_rate for r in runs] == [5e-5, 2e-4, 5e-5, 2e-4]
    # mse's candidates are done (5e-5 better on dev); one of labse's is still missing
    monkeypatch.setattr(
        os_,
        "finished_run",
        _fake_finished({"objective-mse-lr5e-5": 0.8, "objective-mse-lr2e-4": 0.7, "objective-labse-lr2e-4": 0.9}),
    )
    assert os_.chosen_learning_rates(prof) == {"mse": 5e-5, "labse": None}
    runs = os_.plan(prof)
    race = [(r.name, r.seed, r.label) for r in runs if not r.dev_only]
    assert race == [("objective-mse-lr5e-5", 42, "mse"), ("objective-mse-lr5e-5", 43, "mse")]
    assert {r.label for r in runs if r.dev_only} == {"mse (lr 2e-4)", "labse (lr 5e-5)", "labse (lr 2e-4)"}


def test_dev_score_reads_stsb_dev_and_translation_accuracy_never_the_loss():
    log = pd.DataFrame(
        {
            "step": [0, 8],
            "eval_loss": [3e-3, 9.0],
            "eval_dev-translation_mean_accuracy": [0.9, 0.96],
            "eval_stsb-dev-en-en_spearman_cosine": [0.7, 0.80],
            "eval_stsb-dev-en-de_spearman_cosine": [0.6, 0.72],
        }
    )
    assert os_.dev_score(log) == pytest.approx((96 + 80 + 72) / 3)
    with pytest.raises(ConfigError, match="dev_stsb"):
        os_.dev_score(log[["step", "eval_loss"]])


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
            # a learning-rate candidate that lost on dev: trained, never scored as a race row
            {
                "objective": "ranking (lr 5e-5)",
                "model": "objective-ranking",
                "seed": 42,
                "done": True,
                "run_id": "r42",
                "dev only": True,
            },
        ]
    )
    runs["dev only"] = runs["dev only"].fillna(False).astype(bool)
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
    similarity, retrieval = os_.summary_tables(per_seed)  # split for the page's width, nothing lost
    assert list(similarity.columns[:2]) == ["seeds", "STS17 en-en"] and "BUCC-style F1" in retrieval
    assert set(similarity.columns) | set(retrieval.columns) == set(table.columns)


def test_chapter_6_students_join_chapter_4_as_guests_left_out_of_its_tatoeba_sweep(monkeypatch):
    """Chapter 4 mines the finished chapter-6 students it is given next to its own, without training
    them and without encoding Tatoeba's 112 languages for each (chapter 6 scores its own languages);
    a guest that is one of its own runs is not mined twice."""
    from pathlib import Path
    from types import SimpleNamespace

    from mlkd_utils.chapters import ch4_bucc
    from mlkd_utils.mining import benchmark

    def run(name):
        return SimpleNamespace(run_dir=Path("/runs") / f"{name}-s42-x", info={"seed": 42}, load_model=lambda: None)

    own, ranking = run("student-10lang"), run("objective-ranking")
    monkeypatch.setattr(ch4_bucc, "distill", lambda *a, **k: own)
    monkeypatch.setattr(ch4_bucc, "teacher_miner", lambda p: benchmark.Miner("teacher", None, "", None, None))
    monkeypatch.setattr(benchmark, "_cache", lambda *a: None)
    monkeypatch.setattr(ch4_bucc, "baseline_miner", lambda p, name: benchmark.Miner(name, None, "", None, None))
    prof = load_profile("quick", {"chapters.04_bucc.baselines": ["muse"]})
    guests = [("student-10lang", own, ("de",)), ("objective-ranking", ranking, ("de",))]
    got = [(m.label, m.guest) for m in ch4_bucc.miners(prof, guests=guests)]
    assert got == [("teacher", False), ("muse", False), ("student-10lang", False), ("objective-ranking", True)]
    assert [(m.label, m.guest) for m in ch4_bucc.miners(prof)] == got[:3]


def test_chapter_modules_do_not_import_each_other():
    """Each chapter module is a room of its own: what two chapters share lives in the library
    (``mlkd_utils.mining.benchmark``, ``mlkd_utils.baselines``); only notebooks compose chapters."""
    import ast
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "mlkd_utils" / "chapters"
    modules = sorted(p.stem for p in folder.glob("ch*.py"))
    assert len(modules) == 6
    for path in folder.glob("ch*.py"):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names}
        others = {f"mlkd_utils.chapters.{m}" for m in modules if m != path.stem}
        assert not imported & others, f"{path.name} imports {sorted(imported & others)}"


def test_later_seeds_repeat_only_the_objectives_named_and_a_typo_fails():
    prof = load_profile("cpu", {**NO_GRID, "chapters.06_objectives.later_seeds_objectives": ["mse", "labse"]})
    later = {(r.objective, r.seed) for r in os_.plan(prof) if r.seed != 42}
    assert later == {("mse", 43), ("labse", 43)}
    bad = load_profile("cpu", {"chapters.06_objectives.later_seeds_objectives": ["labes"]})
    with pytest.raises(ConfigError, match="labes"):
        os_.plan(bad)


def test_the_background_runner_runs_chapters_in_order_and_shares_4_5_and_6(monkeypatch):
    from mlkd_utils.chapters import __main__ as runner

    calls = []
    jobs = {c: (shared, lambda p, w, n, c=c: calls.append((c, w, n))) for c, (shared, _) in runner.JOBS.items()}
    monkeypatch.setattr(runner, "JOBS", jobs)
    assert runner.main(["--profile", "quick", "--chapters", "4", "6", "5"]) == 0
    assert calls == [(4, 0, 1), (6, 0, 1), (5, 0, 1)]
    calls.clear()
    runner.main(["--profile", "quick", "--chapters", "2", "4", "6", "--worker", "1", "--workers", "2"])
    assert calls == [(4, 1, 2), (6, 1, 2)]  # chapter 2 is worker 0's
    with pytest.raises(SystemExit):
        runner.main(["--profile", "quick", "--worker", "2", "--workers", "2"])
    with pytest.raises(SystemExit):  # only chapter 5's job takes its share from the end
        runner.main(["--profile", "quick", "--chapters", "4", "5", "--reverse"])


def test_two_workers_train_every_candidate_choose_and_score_every_race_row(monkeypatch):
    """Each worker owns whole objectives, so it can choose their learning rate alone and go on to the
    later seeds; run one worker after the other and nothing of the plan is left out."""
    from pathlib import Path
    from types import SimpleNamespace

    prof = load_profile(
        "cpu",
        {"chapters.06_objectives.objectives": ["mse", "ranking", "labse"],
         "chapters.06_objectives.later_seeds_objectives": ["mse", "labse"],
         "chapters.06_objectives.baselines": []},
    )  # fmt: skip
    trained, scored = {}, []
    dev = {"lr5e-5": 0.8, "lr2e-4": 0.7}  # 5e-5 wins on dev for every objective

    def result(name, seed):
        score = next(v for k, v in dev.items() if name.endswith(k))
        log = pd.DataFrame(
            {"step": [0, 1], "eval_loss": [1.0, 1.0], "eval_stsb-dev-en-en_spearman_cosine": [0.5, score]}
        )
        return SimpleNamespace(log=log, run_dir=Path(f"/runs/{name}-s{seed}"), info={"seed": seed})

    monkeypatch.setattr(os_, "finished_run", lambda p, name, seed, cfg: trained.get((name, seed)))
    monkeypatch.setattr(os_, "distill", lambda p, name, seed, cfg: trained.setdefault((name, seed), result(name, seed)))
    monkeypatch.setattr(os_, "record_training", lambda *a: None)

    def evaluate(p, miner, res, baseline=""):
        if res is not None:  # None: the teacher, scored by worker 0
            scored.append(res.run_dir.name)

    monkeypatch.setattr(os_, "evaluate", evaluate)
    monkeypatch.setattr(os_, "run_miner", lambda run, res, p: None)
    monkeypatch.setattr(os_.benchmark, "teacher_miner", lambda p: None)
    for worker in (0, 1):
        os_.run_study(prof, worker=worker, workers=2, train=True)
    assert os_.chosen_learning_rates(prof) == {"mse": 5e-5, "ranking": 5e-5, "labse": 5e-5}
    assert set(trained) == {(os_._lr_name(o, lr), 42) for o in ("mse", "ranking", "labse") for lr in (5e-5, 2e-4)} | {
        ("objective-mse-lr5e-5", 43),
        ("objective-labse-lr5e-5", 43),
    }
    assert sorted(scored) == sorted(
        ["objective-mse-lr5e-5-s42", "objective-ranking-lr5e-5-s42", "objective-labse-lr5e-5-s42",
         "objective-mse-lr5e-5-s43", "objective-labse-lr5e-5-s43"]
    )  # fmt: skip


def test_a_race_row_recorded_without_weights_is_trained_again_to_be_scored(monkeypatch):
    """A fresh machine restores the candidates' records (the choice needs only their dev logs); the race
    row's scores need its weights, so that run alone is trained again, forced, and then scored."""
    from pathlib import Path
    from types import SimpleNamespace

    from mlkd_utils.errors import WeightsMissingError

    prof = load_profile("cpu", {"chapters.06_objectives.objectives": ["mse"], "chapters.06_objectives.seeds": [42],
                                "chapters.06_objectives.later_seeds_objectives": None,
                                "chapters.06_objectives.baselines": []})  # fmt: skip
    log = pd.DataFrame({"step": [0, 1], "eval_loss": [1.0, 1.0], "eval_stsb-dev-en-en_spearman_cosine": [0.5, 0.8]})
    calls, retrained = [], set()

    def distill(p, name, seed, cfg, force=False):
        calls.append((name, force))
        if force:
            retrained.add(name)
        return SimpleNamespace(log=log, run_dir=Path(f"/runs/{name}"), info={"seed": seed}, weights=name in retrained)

    def evaluate(p, miner, res, baseline=""):
        if res is not None and not res.weights:
            raise WeightsMissingError("recorded, no weights")

    recorded = lambda p, name, seed, cfg: SimpleNamespace(log=log, run_dir=Path(f"/runs/{name}"), info={})  # noqa: E731
    monkeypatch.setattr(os_, "finished_run", recorded)
    monkeypatch.setattr(os_, "distill", distill)
    monkeypatch.setattr(os_, "record_training", lambda *a: None)
    monkeypatch.setattr(os_, "evaluate", evaluate)
    monkeypatch.setattr(os_, "run_miner", lambda run, res, p: None)
    monkeypatch.setattr(os_.benchmark, "teacher_miner", lambda p: None)
    os_.run_study(prof, train=False)  # a render that only reads: nothing is trained, the row stays unscored
    assert not [c for c in calls if c[1]]
    os_.run_study(prof, train=True)
    race = os_._lr_name("mse", os_.chosen_learning_rates(prof)["mse"])
    assert (race, True) in calls and [c for c in calls if c[1]] == [(race, True)]


def test_chapter_4_trains_an_own_student_recorded_without_weights_and_leaves_out_such_a_guest(monkeypatch):
    from pathlib import Path
    from types import SimpleNamespace

    from mlkd_utils.chapters import ch4_bucc
    from mlkd_utils.errors import WeightsMissingError
    from mlkd_utils.mining import benchmark

    trained, mined = [], []

    def run(name, weights):
        def load():
            if not weights:
                raise WeightsMissingError(name)

        return SimpleNamespace(run_dir=Path("/runs") / f"{name}-s42-x", info={"seed": 42}, load_model=load)

    def distill(p, name, seed, force=False):
        trained.append((name, force))
        return run(name, weights=force)

    def run_mining(p, ms, chapter):
        for m in ms:
            if m.source is not None:
                _ = m.cache  # the model is needed: nothing is cached in this test
            mined.append(m.label)

    monkeypatch.setattr(ch4_bucc, "distill", distill)
    monkeypatch.setattr(ch4_bucc, "teacher_miner", lambda p: benchmark.Miner("teacher", None, "", None, None))
    monkeypatch.setattr(benchmark, "_cache", lambda *a: "cache")
    monkeypatch.setattr(ch4_bucc, "run_mining", run_mining)
    monkeypatch.setattr(ch4_bucc, "run_tatoeba_all", lambda p, ms, chapter: None)
    prof = load_profile("quick", {"chapters.04_bucc.baselines": [], "chapters.04_bucc.students": ["student-en-de"]})
    ch4_bucc.prepare(prof, guests=[("objective-ranking", run("objective-ranking", False), ("de",))])
    assert trained == [("student-en-de", False), ("student-en-de", True)]
    assert mined == ["teacher", "student-en-de"]
    # two background workers share the models: every second one each, nothing twice
    for worker, expected in ((0, ["teacher"]), (1, ["student-en-de"])):
        mined.clear()
        ch4_bucc.prepare(prof, [], worker=worker, workers=2)
        assert mined == expected
