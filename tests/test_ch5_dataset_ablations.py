"""Chapter 5's plan: one change per run, seeds ordered for interrupted sessions, configs valid."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from conftest import needs_real_data
from mlkd_utils.chapters import ch5_dataset_ablations as ds
from mlkd_utils.config import ADDED_LATER, load_profile
from mlkd_utils.distill import run_key
from mlkd_utils.errors import ConfigError


@pytest.mark.parametrize("name", ["quick", "cpu", "paper"])
def test_plan_names_are_unique_and_every_config_is_valid(name):
    prof = load_profile(name)
    runs = ds.plan(prof)
    assert runs and len({(r.name, r.seed) for r in runs}) == len(runs)
    assert all(r.name.startswith(ds.PREFIX) for r in runs)
    for r in runs:
        cfg = ds.config_for(prof, r)
        assert cfg.languages == list(r.languages) and cfg.max_steps == r.steps


def test_each_run_differs_from_the_base_in_its_one_studied_setting():
    prof = load_profile("cpu")
    spec = ds.settings(prof)
    studied = {
        "corpus": {"corpora"},
        "pairs": {"pairs_per_language", "max_steps", "eval_steps"},
        "fixed-steps": {"pairs_per_language", "max_steps", "eval_steps"},  # steps: the largest epoch
        "targets": {"target_mode", "target_scale"},
        "vocabulary": {"pairs_per_language", "max_steps", "vocabulary", "new_vocab_size"},
        "curse": set(),
    }
    for r in ds.plan(prof):
        if r.study == "curse":  # the multilingual student's recipe, only its languages changed
            base = dataclasses.replace(
                prof.student_config(spec["curse"]["base"]), languages=list(r.languages), **spec["curse"]["overrides"]
            )
        else:  # the chapter's base, or the study's own (the English-start contrasts)
            own = spec["base"]
            if r.study in ("targets", "vocabulary"):
                own = spec[r.study].get("base", own)
            base = dataclasses.replace(prof.distill, **own, languages=list(r.languages))
        cfg = ds.config_for(prof, r)
        changed = {f.name for f in dataclasses.fields(cfg) if getattr(cfg, f.name) != getattr(base, f.name)}
        assert changed <= studied[r.study], (r.name, changed)


def test_every_study_runs_at_the_first_seed_before_any_later_seed():
    prof = load_profile("cpu", {"chapters.05_dataset_ablations.curve.one_epoch": True})
    runs = ds.plan(prof)
    seeds = [r.seed for r in runs]
    first_later = seeds.index(43)
    assert set(seeds[:first_later]) == {42} and {r.study for r in runs[:first_later]} == set(ds.STUDIES)
    assert {r.study for r in runs[first_later:]} == {"pairs", "corpus", "fixed-steps"}


def test_later_curve_seeds_repeat_named_points_and_a_missing_point_fails():
    prof = load_profile("cpu")
    runs = ds.plan(prof)
    later = [(r.languages, r.pairs, r.seed) for r in runs if r.study == "fixed-steps" and r.seed != 42]
    spec = ds.settings(prof)["curve_seeds"]
    assert later == [((lang,), n, seed) for seed in spec["seeds"] for lang, ns in spec["pairs"].items() for n in ns]
    bad = load_profile("cpu", {"chapters.05_dataset_ablations.curve_seeds": {"seeds": [43], "pairs": {"de": [7]}}})
    with pytest.raises(ConfigError, match="curve_seeds: de 7 is not a point of the curve"):
        ds.plan(bad)


def _curve(values: dict[tuple[int, int], float]) -> pd.DataFrame:
    rows = [{"lang": "de", "series": "repeated to fixed steps", "pairs": n, "steps": 300, "seed": seed,
             "own-pair STS17": v, "tatoeba": 90.0} for (n, seed), v in values.items()]  # fmt: skip
    return pd.DataFrame(rows)


def test_curve_reading_names_a_small_set_above_the_start_when_the_largest_ends_below():
    prof = load_profile("cpu")
    curve = _curve({(1000, 42): 81.0, (1000, 43): 79.0, (5000, 42): 76.0, (25000, 42): 77.0})
    start = pd.Series({"en-de": 77.8})
    text = ds.reading(prof, {}, curve, pd.DataFrame(), start).markdown()
    assert "1,000 -> 80.0" in text and "the best point is 1,000 pairs, not the largest set" in text
    assert "the largest set ends 0.8 points below the start (77.8), and only 1,000 pairs end above it" in text
    assert "no size ends above" not in text and "1 point with several seeds" in text and "largest sd 1.4" in text
    assert ("own-pair STS17", "std") in ds.curve_table(curve).columns


def test_a_one_seed_curve_table_has_no_empty_sd_columns():
    table = ds.curve_table(_curve({(1000, 42): 81.0, (5000, 42): 76.0}))
    assert not [c for c in table.columns if c[1] == "std"] and set(table[("seeds", "")]) == {1}


def test_later_corpus_seeds_repeat_first_seed_runs_and_name_only_planned_sources():
    prof = load_profile("cpu")
    runs = ds.plan(prof)
    first = {(r.name, r.seed): r for r in runs if r.seed == 42}
    later = [r for r in runs if r.study == "corpus" and r.seed != 42]
    extra = ds.settings(prof)["corpus_seeds"]
    assert len(later) == sum(len(v) for v in extra["sources"].values()) * len(extra["seeds"])
    for r in later:  # the same run, only the seed changed
        assert dataclasses.replace(r, seed=42) == first[(r.name, 42)]
        assert ds.config_for(prof, r) == ds.config_for(prof, first[(r.name, 42)])
    bad = load_profile("cpu", {"chapters.05_dataset_ablations.corpus_seeds": {"seeds": [43], "sources": {"de": ["x"]}}})
    with pytest.raises(ConfigError, match="corpus_seeds: de x is not in corpora.de"):
        ds.plan(bad)


def test_curse_runs_copy_the_shared_recipe_with_its_overrides_and_read_against_the_shared_model():
    prof = load_profile("cpu")
    c = ds.settings(prof)["curse"]
    recipe = prof.student_config(c["base"])
    curse = [r for r in ds.plan(prof) if r.study == "curse"]
    assert [r.languages for r in curse] == [(lang,) for lang in c["languages"]]
    for r in curse:
        cfg = ds.config_for(prof, r)
        assert cfg.learning_rate == c["overrides"]["learning_rate"] != recipe.learning_rate
        assert (cfg.max_steps, cfg.pairs_per_language) == (recipe.max_steps, recipe.pairs_per_language)
    entries = ds.curse_entries(prof, ds.plan(prof))
    assert entries[c["shared"]] == (recipe.pairs_per_language, recipe.max_steps) and c["base"] not in entries


def test_fixed_steps_series_holds_compute_equal_and_skips_sizes_already_that_long():
    prof = load_profile(
        "quick",
        {"chapters.05_dataset_ablations.curve": {"languages": ["de"], "pairs": [32, 64, 320], "fixed_steps": 5}},
    )  # batch 16
    runs = ds.plan(prof)
    fixed = [r for r in runs if r.study == "fixed-steps"]
    assert {r.steps for r in fixed} == {5} and {r.pairs for r in fixed} == {32, 64}  # 320 pairs: 20 steps
    assert {r.pairs: r.steps for r in runs if r.study == "pairs"} == {32: 2, 64: 4, 320: 20}  # batch 16


def test_the_e5_curve_trains_every_size_for_the_same_steps_and_nothing_else():
    """cpu (issue 16): Table 5 at equal compute only, on the e5 start; the English contrasts keep theirs."""
    prof = load_profile("cpu")
    runs = ds.plan(prof)
    fixed = [r for r in runs if r.study == "fixed-steps"]
    assert not [r for r in runs if r.study == "pairs"]
    assert {r.steps for r in fixed} == {300} and sorted({r.pairs for r in fixed}) == [1000, 5000, 10000, 25000]
    assert {ds.config_for(prof, r).init for r in fixed} == {"multilingual-e5-small-noprefix"}
    assert {ds.config_for(prof, r).init for r in runs if r.study == "vocabulary"} == {"profile"}


def test_new_config_fields_leave_old_run_keys_unchanged():
    prof = load_profile("cpu")
    cfg = prof.student_config("student-en-de")
    key = run_key(prof, cfg, 42)["distill"]
    assert not set(ADDED_LATER) & set(key)  # published runs keep their folders
    extended = run_key(prof, dataclasses.replace(cfg, vocabulary="extended"), 42)["distill"]
    assert extended["vocabulary"] == "extended"  # a changed value enters the key


def test_a_corpus_without_data_for_the_language_fails_before_training(tiny_root):
    prof = load_profile("quick", {"chapters.05_dataset_ablations.corpora": {"de": ["wmt_newstest"]}})
    with pytest.raises(ConfigError, match=r"corpora.de: no en-de data for \['wmt_newstest'\]"):
        ds.validate_plan(prof, ds.plan(prof, ("corpus",)))


def test_curve_table_means_and_spreads_over_seeds():
    curve = pd.DataFrame(
        {
            "lang": ["de"] * 3,
            "series": ["one epoch"] * 3,
            "pairs": [250] * 3,
            "steps": [7] * 3,
            "seed": [42, 43, 44],
            "own-pair STS17": [10.0, 20.0, 30.0],
            "tatoeba": [1.0, 1.0, 1.0],
        }
    )
    row = ds.curve_table(curve).iloc[0]
    assert row[("own-pair STS17", "mean")] == 20.0 and row[("own-pair STS17", "std")] == 10.0
    assert row[("seeds", "")] == 3


def test_own_pair_names_the_cross_lingual_file():
    assert ds.own_pair("de") == "en-de" and ds.own_pair("ar") == "ar-en" and ds.own_pair("zh") == ""


@needs_real_data
def test_rendering_without_training_lists_missing_runs_as_not_done(monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("train=False must not train")

    monkeypatch.setattr(ds, "train_and_evaluate", no_training)
    frame = ds.run_study(load_profile("quick"), train=False)
    assert len(frame) == len(ds.plan(load_profile("quick"))) and not frame.done.any()


@needs_real_data
def test_a_reversed_helper_takes_the_same_share_from_its_end(monkeypatch, tmp_path):
    """A helper for a lagging worker (``--reverse``) trains the same runs in the opposite order."""
    monkeypatch.setenv("MLKD_RUNS_DIR", str(tmp_path))
    prof = load_profile("quick")
    order: dict[bool, list] = {False: [], True: []}
    for reverse in (False, True):
        monkeypatch.setattr(ds, "train_and_evaluate", lambda p, name, ch, seed, r=reverse, **kw: order[r].append(name))
        ds.run_study(prof, worker=1, workers=2, reverse=reverse)
    assert order[False] == [r.name for r in ds.plan(prof)[1::2]] and order[True] == order[False][::-1]


def test_a_language_without_a_finished_corpus_run_gives_an_empty_table(tmp_path, monkeypatch):
    """A partial render (``train: false`` while the background job still trains): Table 4 of a
    language whose runs are all unfinished is empty, not an error."""
    monkeypatch.setenv("MLKD_RUNS_DIR", str(tmp_path))
    prof = load_profile("cpu")
    runs = ds.runs_frame(prof, ds.plan(prof, ("corpus",)))
    assert len(runs) and not runs.done.any()
    metrics = pd.DataFrame(columns=["chapter", "model", "task", "subset", "metric", "value", "seed", "run_id"])
    table = ds.corpus_table(prof, metrics, runs, "ar")
    assert table.empty and table.index.name == "source"


def _corpus_fixture(tmp_path, monkeypatch, values: dict[tuple[str, int], float]):
    """Finished-looking corpus runs (a composition file each) and their STS17 scores, without training."""
    monkeypatch.setattr(ds, "tatoeba_overlap", lambda source, lang, max_chars: 0.0)
    monkeypatch.setattr(ds, "runs_dir", lambda profile: tmp_path)
    prof = load_profile("cpu")
    rows, metrics = [], []
    for (source, seed), value in values.items():
        run_id = f"{source}-{seed}"
        (tmp_path / run_id).mkdir()
        pd.DataFrame({"available": [100], "benchmark_excluded": [0]}).to_csv(tmp_path / run_id / "composition.csv")
        model = f"{ds.PREFIX}corpus-en-de-{source}"
        rows.append({"study": "corpus", "model": model, "seed": seed, "languages": "de", "source": source,
                     "done": True, "run_id": run_id})  # fmt: skip
        metrics.append({"chapter": ds.CHAPTER, "model": model, "task": "sts17", "subset": "en-de",
                        "metric": "spearman", "value": value, "seed": seed, "run_id": run_id})  # fmt: skip
    return prof, pd.DataFrame(metrics), pd.DataFrame(rows)


def test_corpus_table_means_over_seeds_with_the_spread_and_the_reading_names_the_tie(tmp_path, monkeypatch):
    values = {("flores101_devtest", 42): 79.0, ("flores101_devtest", 43): 77.0, ("ntrex128", 42): 77.5,
              ("ntrex128", 43): 77.3, ("muse_dict", 42): 70.0}  # fmt: skip
    prof, metrics, runs = _corpus_fixture(tmp_path, monkeypatch, values)
    table = ds.corpus_table(prof, metrics, runs, "de")
    assert table.loc["flores101_devtest", "STS17 en-de"] == 78.0 and table.loc["flores101_devtest", "seeds"] == 2
    assert table.loc["flores101_devtest", "sd en-de"] == 1.4 and table.loc["muse_dict", "seeds"] == 1
    text = ds.reading(prof, {"de": table}, pd.DataFrame(), pd.DataFrame()).markdown()
    assert "leads `ntrex128` by 0.6, within the seed noise" in text
    assert "`flores101_devtest` and `ntrex128`; their order is no finding" in text


def test_one_seed_per_source_has_no_spread_column_and_says_so(tmp_path, monkeypatch):
    prof, metrics, runs = _corpus_fixture(tmp_path, monkeypatch, {("flores101_devtest", 42): 79.0,
                                                                   ("muse_dict", 42): 70.0})  # fmt: skip
    table = ds.corpus_table(prof, metrics, runs, "de")
    assert "sd en-de" not in table and set(table.seeds) == {1}
    text = ds.reading(prof, {"de": table}, pd.DataFrame(), pd.DataFrame()).markdown()
    assert "One seed per source" in text and "leads" not in text
