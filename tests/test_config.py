import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
        ("quick", {"students.student-e5-10lang.align": "rotate"}, "align 'rotate' not in"),
        ("quick", {"students.student-e5-10lang.freeze": "all"}, "freeze 'all' not in"),
    ],
)
def test_bad_profiles_fail_with_a_clear_message(name, overrides, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_profile(name, overrides)


def test_unknown_student_names_the_known_ones():
    with pytest.raises(ConfigError, match="student-en-de"):
        load_profile("quick").student_config("student-xx")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"distill.max_steps": "100"}, "distill.max_steps: expected int, got '100'"),
        ({"distill.learning_rate": "1e-3"}, "distill.learning_rate: expected float, got '1e-3'"),
        ({"seeds": [42, "x"]}, "seeds: expected list[int]"),
        ({"distill.group_by_length": "yes"}, "group_by_length: expected bool"),
        ({"bucc_style.test_gold": 1.5}, "test_gold: expected int"),
        ({"distill.batch_size": 0}, "distill.batch_size must be positive"),
        ({"seeds": []}, "seeds must name at least one seed"),
        ({"students.student-en-de.max_steps": -3}, "students.student-en-de.max_steps must be positive"),
        ({"distill": 3}, "distill"),
        ({"": 1}, "override keys must be dotted names"),
        ({"distill..max_steps": 1}, "override keys must be dotted names"),
    ],
)
def test_wrongly_typed_parameters_fail_naming_the_key(overrides, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_profile("quick", overrides)


def test_papermill_parameters_of_the_wrong_shape_fail_clearly():
    with pytest.raises(ConfigError, match="profile must be a name"):
        load_profile(None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="overrides must be a mapping"):
        load_profile("quick", ["distill.max_steps", 3])  # type: ignore[arg-type]


_keys = st.sampled_from(
    [
        "seeds",
        "distill.max_steps",
        "distill.learning_rate",
        "distill.languages",
        "distill.bf16",
        "distill",
        "bucc_style.languages",
        "english_baseline.max_pairs",
        "chapters.04_bucc.k",
        "students.student-en-de",
        "tatoeba_max_sentences",
        "name",
        "teacher",
        "distill.nope",
        "x.y.z",
    ]
)
_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=True) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
    max_leaves=5,
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["quick", "cpu", "paper", "nope"]), st.dictionaries(_keys, _values, max_size=3))
def test_any_override_gives_a_profile_or_a_config_error(name, overrides):
    """Fuzzing the papermill parameters: whatever a user passes, the answer is a valid profile or a
    ConfigError that says what is wrong, never a TypeError/AttributeError from deep inside."""
    try:
        prof = load_profile(name, overrides)
    except ConfigError as exc:
        assert str(exc)
        return
    for student in prof.students:
        assert prof.student_config(student).max_steps > 0
