import pytest

from mlkd_utils.config import available_profiles, load_profile
from mlkd_utils.errors import ConfigError


def test_all_profiles_load_and_define_the_chapter_students():
    assert {"quick", "cpu", "paper"} <= set(available_profiles())
    for name in ("quick", "cpu", "paper"):
        prof = load_profile(name)
        for student in ("student-en-de", "student-10lang"):
            cfg = prof.student_config(student)
            assert cfg.max_steps > 0 and cfg.languages


def test_ten_language_student_has_the_papers_languages():
    for name in ("cpu", "paper"):
        langs = load_profile(name).student_config("student-10lang").languages
        assert sorted(langs) == ["ar", "de", "es", "fr", "it", "nl", "ru", "tr", "zh"]


def test_dotted_overrides_apply():
    prof = load_profile("quick", {"distill.max_steps": 3, "seeds": [1, 2]})
    assert prof.distill.max_steps == 3 and prof.seeds == [1, 2]
    assert prof.student_config("student-en-de").max_steps == 3


@pytest.mark.parametrize(
    ("name", "overrides", "message"),
    [
        ("nope", {}, "unknown profile 'nope'"),
        ("quick", {"distill.max_stepz": 3}, "unknown keys ['max_stepz']"),
        ("quick", {"tatoeba_languages": ["xx"]}, "unknown languages ['xx']"),
        ("quick", {"distill.target_mode": "weird"}, "target_mode 'weird'"),
        ("quick", {"chapters.03_sts.students": ["student-xx"]}, "chapters.03_sts names undefined students"),
        ("quick", {"bucc_style.languages": ["xx"]}, "unknown languages ['xx']"),
        ("quick", {"bucc_style.tune_goldd": 3}, "unknown keys ['tune_goldd']"),
        ("quick", {"english_baseline.epoch": 3}, "unknown keys ['epoch']"),
    ],
)
def test_bad_profiles_fail_with_a_clear_message(name, overrides, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_profile(name, overrides)


def test_unknown_student_names_the_known_ones():
    with pytest.raises(ConfigError, match="student-en-de"):
        load_profile("quick").student_config("student-xx")
