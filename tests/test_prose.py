"""The computed Readings: phrases follow the numbers, and a changed ordering changes the sentence."""

from __future__ import annotations

import math

import pandas as pd

from mlkd_utils import prose
from mlkd_utils.chapters import ch1_teacher, ch2_distillation, ch3_sts, ch4_bucc, ch5_dataset_ablations, ch6_objectives
from mlkd_utils.config import load_profile
from mlkd_utils.data.sts import CROSSLINGUAL, MONOLINGUAL


def test_phrases_follow_the_numbers():
    assert prose.fmt(71.649) == "71.6" and prose.fmt(math.nan) == "n/a" and prose.fmt(None) == "n/a"
    assert prose.signed(-1.25) == "-1.2" and prose.signed(3.0) == "+3.0"
    assert prose.span([3.0, 1.0, math.nan, 2.0]) == "1.0 to 3.0" and prose.span([2.0, 2.01]) == "2.0"
    assert prose.versus(5.0, 3.0) == "above" and prose.versus(3.0, 5.0) == "below"
    assert prose.versus(5.0, 4.0, noise=1.5) == "level with"
    assert prose.gap(74.0, 70.0, 1.0) == "4.0 points above" and prose.gap(70.5, 70.0, 1.0).startswith("within")
    assert prose.count(10, 10, "files") == "all 10 files" and prose.count(0, 7, "files") == "none of the 7 files"
    assert prose.count(3, 7, "files") == "3 of 7 files"
    assert prose.names(["a"]) == "a" and prose.names(["a", "b", "c"]) == "a, b and c"


def test_a_reading_is_markdown_with_its_source():
    r = prose.Reading("ch9.reading")
    r.add("Finding.", "  text  ")
    md = r._repr_markdown_()
    assert "`ch9.reading`" in md and md.endswith("**Finding.** text")


def _sts(rows: dict[str, dict[str, float]], seeds: dict[str, list[int]] | None = None) -> pd.DataFrame:
    """Metrics rows for STS17: ``rows`` model -> file -> score (a seed adds ``seed - 42`` to every file)."""
    out = []
    for model, files in rows.items():
        for seed in (seeds or {}).get(model, [None]):
            for subset, value in files.items():
                out.append(
                    {
                        "chapter": "03_sts",
                        "model": model,
                        "task": "sts17",
                        "subset": subset,
                        "metric": "spearman",
                        "value": value + (seed - 42 if seed else 0),
                        "seed": seed,
                        "ci_low": value - 10,
                        "ci_high": value + 10,
                        "run_id": f"{model}-{seed}",
                    }
                )
    return pd.DataFrame(out)


def _flat(value: float) -> dict[str, float]:
    return {s: value for s in MONOLINGUAL + CROSSLINGUAL}


def test_chapter3_reading_turns_with_the_ordering():
    prof = load_profile("cpu")
    base = {"teacher": _flat(20.0), "multilingual-e5-small": _flat(70.0), "student-en-de": _flat(22.0)}
    models = [*base, "student-e5-10lang"]

    def text(student: float) -> str:
        m = _sts({**base, "student-e5-10lang": _flat(student)}, {"student-en-de": [42, 43]})
        return ch3_sts.reading(
            prof, m, models, ["student-en-de"], ["student-e5-10lang"], ["multilingual-e5-small"]
        ).markdown()

    better, worse = text(75.0), text(65.0)
    assert "5.0 points above it" in better and "higher on all 10 files" in better
    assert "5.0 points below it" in worse and "higher on none of the 10 files" in worse
    assert "cross-lingual >= 78.0: 75.0, missed by 3.0" in better  # the profile's goals, read against the run
    assert "ten files >= 80.0: 65.0, missed by 15.0" in worse
    assert "standard deviation of 0.7 points" in better  # seeds 42 and 43 of the English student


def test_chapter1_reading_names_the_weakest_file():
    m = _sts({"teacher": {**_flat(10.0), "en-en": 88.0, "es-es": 70.0, "ar-ar": 50.0}}).assign(chapter="01")
    tok = pd.DataFrame({"subset": ["ara", "deu", "rus"], "tokens_per_char": [0.9, 0.3, 0.8], "unk_rate": [0, 0, 1]})
    tat = pd.DataFrame({"subset": ["ara", "deu", "rus"], "accuracy": [1.0, 20.0, 2.0]})
    md = ch1_teacher.reading(m, ["teacher"], tok, tat).markdown()
    assert "The lowest is AR-AR" in md and "correlation" in md and "-1.00" in md
    m.loc[m.subset == "en-en", "value"] = 40.0
    assert "English is the lowest" in ch1_teacher.reading(m, ["teacher"], tok, tat).markdown()


def test_chapter6_reading_says_whether_a_lead_beats_the_seed_noise():
    prof = load_profile("cpu")
    rows = []
    for obj, cross, bucc in (("mse", 72.0, 60.0), ("ranking", 70.0, 70.0)):
        for seed, jitter in ((42, 0.0), (43, 0.5)):
            rows.append(
                {
                    "objective": obj,
                    "seed": seed,
                    "STS17 cross-lingual": cross + jitter,
                    "STS17 en-en": 80.0,
                    "BUCC-style F1": bucc + jitter,
                }
            )
    rows.append({"objective": "mUSE", "seed": None, "STS17 cross-lingual": 77.0, "BUCC-style F1": 90.0})
    per_seed = pd.DataFrame(rows)
    runs = pd.DataFrame({"done": [True], "train_seconds": [600.0]})
    md = ch6_objectives.reading(prof, per_seed, pd.DataFrame(), runs).markdown()
    assert (
        "`mse` (distillation (paper)) 72.2, then `ranking` 70.2: a lead of 2.0 points, more than the seed noise" in md
    )
    assert "The paper's trade-off appears" in md and "mUSE: STS17 cross-lingual 77.0" in md
    assert "Distillation (`mse`) is behind the best by 10.0 points on BUCC-style mining." in md
    per_seed.loc[per_seed.objective == "ranking", "STS17 cross-lingual"] = 72.0
    md = ch6_objectives.reading(prof, per_seed, pd.DataFrame(), runs).markdown()
    assert "within the seed noise" in md and "The paper's trade-off appears" not in md
    # level on STS, ranking ahead on mining: ranking dominates, so there is nothing to trade
    assert "No trade-off at this budget: `ranking` leads both cross-lingual STS and BUCC-style mining." in md
    assert "Distillation (`mse`) is behind the best by 10.0 points on BUCC-style mining." in md
    # two seeds that agree give sd 0: the profile's floor keeps a small lead from reading as a win
    per_seed.loc[per_seed.objective == "ranking", "BUCC-style F1"] = 70.0
    per_seed.loc[per_seed.objective == "mse", "BUCC-style F1"] = 69.7
    md = ch6_objectives.reading(prof, per_seed, pd.DataFrame(), runs).markdown()
    assert "a lead of 0.3 points, within the seed noise (largest seed sd 0.0, a win needs more than 0.5)" in md
    assert "(level within the noise) lead both cross-lingual STS and BUCC-style mining" in md
    assert "Distillation (`mse`) is behind" not in md


def test_chapter5_curve_reads_the_share_of_the_gain_from_the_smallest_set():
    prof = load_profile("cpu")
    curve = pd.DataFrame(
        [
            {
                "lang": lang,
                "series": "repeated to fixed steps",
                "pairs": n,
                "steps": 400,
                "seed": 42,
                "own-pair STS17": v,
                "tatoeba": 0.0,
            }
            for lang, points in (("de", {1000: 79.0, 25000: 80.0}), ("ar", {1000: 61.0, 25000: 70.0}))
            for n, v in points.items()
        ]
    )
    start = pd.Series({"en-de": 70.0, "ar-en": 60.0})
    md = ch5_dataset_ablations.reading(prof, {}, curve, pd.DataFrame(), start).markdown()
    assert "the smallest set gives 90% of the largest set's gain" in md and "gives 10%" in md
    assert "holds here" in md
    curve.loc[(curve.lang == "de") & (curve.pairs == 1000), "own-pair STS17"] = 70.5
    assert "does not show here" in ch5_dataset_ablations.reading(prof, {}, curve, pd.DataFrame(), start).markdown()
    # German's smallest set is its best point and its largest ends below the start: the claim is read
    # against the best size's gain, not left out
    curve.loc[curve.lang == "de", "own-pair STS17"] = [75.0, 69.0]
    md = ch5_dataset_ablations.reading(prof, {}, curve, pd.DataFrame(), start).markdown()
    assert "The smallest set gives German 100% and Arabic 10% of the gain of their best size" in md
    assert "holds here" in md


def test_chapter4_reading_tests_the_papers_mining_claim():
    from types import SimpleNamespace as M

    def mined(student: float) -> pd.DataFrame:
        f1 = {"teacher": 10.0, "mUSE": 90.0, "student-e5-10lang": student}
        return pd.DataFrame(
            [
                {"benchmark": b, "model": m, "mode": "max", "scoring": "ratio", "f1": v}
                for b in ("BUCC zh-en", "BUCC-style de")
                for m, v in f1.items()
            ]
        )

    miners = [
        M(label="teacher", run_id="", guest=False),
        M(label="mUSE", run_id="", guest=False),
        M(label="student-e5-10lang", run_id="r1", guest=False),
    ]
    prof = load_profile("cpu")
    md = ch4_bucc.reading(prof, mined(80.0), miners).markdown()
    assert "below the best system scored as it is (mUSE, both trained on translation pairs) on all 2 benchmarks" in md
    assert (
        "That is the paper's finding" in md
        and "BUCC zh-en F1 >= 70.0: best distilled e5 student `student-e5-10lang` 80.0, reached" in md
    )
    md = ch4_bucc.reading(prof, mined(95.0), miners).markdown()
    assert "on none of the 2 benchmarks" in md and "does not hold here" in md and "missed" not in md
    tat = pd.DataFrame({"model": ["s", "s"], "languages": ["distilled on", "never seen"],
                        "cosine accuracy": [96.5, 72.0], "n languages": [1, 111]})  # fmt: skip
    tat = tat.set_index(["model", "languages"])
    md = ch4_bucc.reading(prof, mined(80.0), miners, tatoeba=tat).markdown()
    assert "`s` 96.5 on its 1 language, 72.0 on 111 others" in md
    # chapter 6's e5-start students are read against the goals too, each group with its best model
    guest = mined(60.0)
    guest = pd.concat([guest, guest[guest.model == "mUSE"].assign(model="labse", f1=[93.0, 88.0])])
    md = ch4_bucc.reading(prof, guest, [*miners, M(label="labse", run_id="r2", guest=True)]).markdown()
    assert (
        "BUCC-style de F1 >= 85.0: best distilled e5 student `student-e5-10lang` 60.0, missed by 25.0; "
        "best e5-start student of chapter 6 `labse` 88.0, reached" in md
    )


def test_chapter2_reading_reads_the_settings_study_with_the_en_de_student_in_it():
    """The EN-DE student is a student and the study's lr 1e-3 point at once (one row, not two)."""
    prof = load_profile("cpu")
    rows = {
        "teacher": {"en-de": 35.0},
        "sweep-norm-lr2e-4": {"en-de": 33.0},
        "sweep-raw-lr1e-3": {"en-de": 40.0},
        "student-en-de": {"en-de": 50.0},
    }
    m = _sts({k: {**_flat(50.0), **v} for k, v in rows.items()})
    study = {
        "sweep-norm-lr2e-4": {"learning rate": 2e-4, "targets": "normalized"},
        "sweep-raw-lr1e-3": {"learning rate": 1e-3, "targets": "raw"},
        "student-en-de": {"learning rate": 1e-3, "targets": "normalized"},
    }
    empty = pd.DataFrame()
    md = ch2_distillation.reading(prof, m, study, ["student-en-de"], empty, empty, empty).markdown()
    assert "lr 2e-4 33.0, lr 1e-3 50.0" in md and "the best is lr 1e-3" in md
    assert "at lr 1e-3 normalised 50.0 against raw 40.0" in md


def test_chapter6_reading_reads_every_objective_against_the_start_and_names_those_below_it():
    prof = load_profile("cpu")
    rows = [
        {"objective": "mse", "seed": 42, "STS17 cross-lingual": 69.7, "STS17 en-en": 81.5, "BUCC-style F1": 80.0},
        {"objective": "labse", "seed": 42, "STS17 cross-lingual": 72.7, "STS17 en-en": 84.1, "BUCC-style F1": 88.9},
        {"objective": "multilingual-e5-small (no prefix)", "seed": None, "STS17 cross-lingual": 70.4,
         "STS17 en-en": 87.3, "BUCC-style F1": 84.0},
    ]  # fmt: skip
    runs = pd.DataFrame({"done": [True], "train_seconds": [600.0]})
    md = ch6_objectives.reading(prof, pd.DataFrame(rows), pd.DataFrame(), runs).markdown()
    assert "Against the start (`multilingual-e5-small (no prefix)`" in md
    assert "`mse` STS17 cross-lingual -0.7, STS17 en-en -5.8, BUCC-style F1 -4.0" in md
    assert "`labse` STS17 cross-lingual +2.3" in md and "`mse` ends below the start" in md
    rows[0]["STS17 cross-lingual"] = 71.0
    md = ch6_objectives.reading(prof, pd.DataFrame(rows), pd.DataFrame(), runs).markdown()
    assert "below the start" not in md
