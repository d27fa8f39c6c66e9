"""Profiles: every knob of a run as data, one YAML file per profile.

``quick`` runs a chapter in minutes on 2 CPU cores (CI), ``cpu`` produces the published results on
a 2-core machine, ``paper`` follows the paper on a GPU. Notebooks and the CLI take a profile name
plus overrides (``{"distill.max_steps": 50}``), so the same code serves all three.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml

from mlkd_utils.errors import ConfigError

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"

#: The paper's ten-language student: English plus these nine.
TEN_LANGUAGES = ["ar", "de", "es", "fr", "it", "nl", "ru", "tr", "zh"]

#: ISO 639-1 code -> the ISO 639-3 code LASER's Tatoeba files use.
TATOEBA_CODES = {
    "ar": "ara",
    "de": "deu",
    "es": "spa",
    "fr": "fra",
    "it": "ita",
    "nl": "nld",
    "ru": "rus",
    "tr": "tur",
    "zh": "cmn",
}


SPLITS = ("tune", "test")


@dataclass(frozen=True)
class BuccStyleConfig:
    """How the BUCC-style mining benchmark (``data.bucc_style``) is drawn.

    It is part of every student's run key: a changed benchmark changes what training must exclude.
    """

    languages: tuple[str, ...] = ("de", "fr", "ru", "zh")
    source: str = "wmt_newstest"
    seed: int = 2018
    tune_gold: int = 100
    tune_foreign: int = 1500
    tune_english: int = 2500
    test_gold: int = 300
    test_foreign: int = 3000
    test_english: int = 5000
    max_chars: int = 400

    def sizes(self, split: str) -> tuple[int, int, int]:
        """(gold pairs, foreign distractors, English distractors) of a split."""
        if split not in SPLITS:
            raise ConfigError(f"unknown BUCC-style split {split!r}; known: {SPLITS}")
        return getattr(self, f"{split}_gold"), getattr(self, f"{split}_foreign"), getattr(self, f"{split}_english")


@dataclass
class DistillConfig:
    """Everything that determines a distilled student (and hence its cache key)."""

    languages: list[str] = field(default_factory=lambda: ["de"])
    corpora: list[str] = field(default_factory=lambda: ["tatoeba_challenge"])
    #: Pairs drawn per language (balanced as in the paper: smaller sources are repeated).
    pairs_per_language: int = 10_000
    max_sentence_chars: int = 512
    dev_pairs: int = 500
    max_steps: int = 200
    batch_size: int = 64
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.1
    lr_scheduler: str = "linear"
    weight_decay: float = 0.01
    #: "normalized": L2-normalised teacher targets, student keeps its Normalize layer (reference
    #: recipe); "scaled": normalised targets times ``target_scale``, student without Normalize;
    #: "raw": teacher and student both without Normalize.
    target_mode: str = "normalized"
    target_scale: float = 1.0
    max_seq_length: int = 128
    group_by_length: bool = True
    #: "auto": bf16 autocast only where the hardware makes it fast (see encode.resolve_bf16).
    bf16: bool | str = "auto"
    eval_steps: int = 100
    save_steps: int = 100
    logging_steps: int = 10
    #: STS17 files scored during training (dev signal only, never used to pick a checkpoint).
    dev_sts_subsets: list[str] = field(default_factory=lambda: ["en-en", "en-de", "es-es"])
    #: Drop every training pair with a sentence of the mining benchmark (``Profile.bucc_style``).
    exclude_benchmarks: bool = True
    #: The student's vocabulary (``mlkd_utils.vocabulary``): the teacher's, or extended with the
    #: tokens of a WordPiece of ``new_vocab_size`` trained on the corpus's non-English side, new rows
    #: initialised from their old pieces ("extended") or at random ("extended-random").
    vocabulary: str = "teacher"
    new_vocab_size: int = 4000
    #: What the student learns from the pairs (``mlkd_utils.objectives``): the paper's MSE to the
    #: teacher, or the objective of a competing system (ranking, labse, ems, laser, combined).
    objective: str = "mse"
    #: Inverse temperature of the ranking objectives' softmax over in-batch cosines.
    ranking_scale: float = 20.0
    #: LaBSE's additive margin on the true pair's cosine.
    ams_margin: float = 0.3
    #: EMS: weight and softmax scale of the token-reconstruction (XTR) term.
    xtr_weight: float = 1.0
    xtr_scale: float = 10.0
    #: combined: weight of the ranking term next to the squared distance to the teacher.
    combined_weight: float = 1.0
    #: LASER-style BiLSTM: token-embedding width and LSTM width per direction (embedding = 2x).
    laser_embedding_dim: int = 256
    laser_hidden_dim: int = 256
    #: The student's starting model: "profile" (the profile's ``student_init``) or a model name, e.g.
    #: ``multilingual-e5-small-noprefix`` (``mlkd_utils.models.OFFLINE_MODELS``).
    init: str = "profile"
    #: A map appended to the student before training (``mlkd_utils.models.align``): "procrustes"
    #: (orthogonal, keeps the start's cosines), "linear" (least squares) or "none"; fitted on the first
    #: ``align_sentences`` English training sentences against the teacher.
    align: str = "none"
    align_sentences: int = 2000
    #: Frozen parts of the student: "embeddings" (the word embedding matrix), "encoder" (all of the
    #: transformer: only the appended map trains) or "none".
    freeze: str = "none"
    #: Dev STS during training from the STS benchmark's dev split (never a test file): "en-en" and
    #: "en-xx" pairs (English sentence 1, the machine-translated sentence 2 of ``stsb_multi_mt``).
    dev_stsb: list[str] = field(default_factory=list)
    dev_stsb_max_pairs: int = 300


#: DistillConfig fields added after results were published: left out of a run's key while they
#: hold these values, so the runs trained before they existed keep their folders (and caches).
ADDED_LATER = {
    "vocabulary": "teacher",
    "new_vocab_size": 4000,
    "objective": "mse",
    "ranking_scale": 20.0,
    "ams_margin": 0.3,
    "xtr_weight": 1.0,
    "xtr_scale": 10.0,
    "combined_weight": 1.0,
    "laser_embedding_dim": 256,
    "laser_hidden_dim": 256,
    "init": "profile",
    "align": "none",
    "align_sentences": 2000,
    "freeze": "none",
    "dev_stsb": [],
    "dev_stsb_max_pairs": 300,
}
VOCABULARIES = ("teacher", "extended", "extended-random")
OBJECTIVES = ("mse", "ranking", "labse", "ems", "laser", "combined")
ALIGNS = ("none", "procrustes", "linear")
FREEZES = ("none", "embeddings", "encoder")


@dataclass
class EnglishBaselineConfig:
    """The English-only baseline (STSb train, CosineSimilarityLoss): sentence-transformers' recipe."""

    epochs: int = 1
    #: -1: train for ``epochs``; a positive number caps the steps (the quick profile).
    max_steps: int = -1
    max_pairs: int | None = None
    batch_size: int = 16
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.1
    max_seq_length: int = 128
    logging_steps: int = 20
    save_steps: int = 100


@dataclass
class Profile:
    name: str
    teacher: str = "all-MiniLM-L6-v2"
    #: "teacher" means a fresh copy of the teacher (the only local checkpoint).
    student_init: str = "teacher"
    #: Systems scored as they are, beside the teacher (``mlkd_utils.baselines``): offline they are
    #: multilingual-e5-small with its model card's "query: " prefix, the same without it (how the e5
    #: students are fed), and mUSE, the translation-trained reference.
    baselines: list[str] = field(
        default_factory=lambda: ["multilingual-e5-small", "multilingual-e5-small-noprefix", "muse"]
    )
    seeds: list[int] = field(default_factory=lambda: [42])
    encode_batch_size: int = 128
    #: Cap on sentences per Tatoeba language (None: all of them).
    tatoeba_max_sentences: int | None = None
    tatoeba_languages: list[str] = field(default_factory=lambda: list(TEN_LANGUAGES))
    #: Cap on pairs per language of the machine-translated STS benchmark (None: all 1,379).
    stsb_max_pairs: int | None = None
    #: Cap on pairs per STS17 file (None: all 250; the quick profile smoke-tests with fewer).
    sts17_max_pairs: int | None = None
    bf16_inference: bool | str = "auto"
    distill: DistillConfig = field(default_factory=DistillConfig)
    #: The BUCC-style mining benchmark (chapter 4); its sentences never enter a training corpus.
    bucc_style: BuccStyleConfig = field(default_factory=BuccStyleConfig)
    english_baseline: EnglishBaselineConfig = field(default_factory=EnglishBaselineConfig)
    #: Named students a chapter trains: name -> overrides of ``distill``.
    students: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Per-chapter choices that are data, not code: e.g. ``03_sts: {students: [...], seeds: [...]}``.
    chapters: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Expected seconds per chapter: with several jobs the book starts the longest first, from the
    #: last recorded ``chapter_times.json`` or, on a fresh machine (CI), from these.
    chapter_seconds: dict[str, float] = field(default_factory=dict)
    #: What ``mlkd_utils.gpu`` bundles for a GPU machine that takes few files (the ``gpu`` profile).
    gpu: dict[str, Any] = field(default_factory=dict)

    def chapter(self, name: str) -> dict[str, Any]:
        """A chapter's settings (empty when the profile has none for it)."""
        return dict(self.chapters.get(name, {}))

    def student_config(self, name: str) -> DistillConfig:
        """The distillation config of one named student: profile defaults plus its overrides."""
        if name not in self.students:
            raise ConfigError(f"profile {self.name!r} defines no student {name!r}; known: {sorted(self.students)}")
        return _merge_dataclass(self.distill, self.students[name], f"students.{name}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _merge_dataclass(base: Any, overrides: dict[str, Any], where: str) -> Any:
    known = {f.name for f in dataclasses.fields(base)}
    unknown = set(overrides) - known
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(map(str, unknown))}; known: {sorted(known)}")
    merged = dataclasses.replace(base, **overrides)
    _check_types(merged, where)
    return merged


def _matches(value: Any, tp: Any) -> bool:
    """Whether ``value`` fits the field annotation ``tp`` (the few shapes profiles use)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return True
    if origin in (Union, types.UnionType):
        return any(_matches(value, a) for a in args)
    if tp is type(None):
        return value is None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:  # YAML reads "1e-3" as a string and "2" as an int: accept ints only
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if origin in (list, tuple):
        return isinstance(value, (list, tuple)) and all(_matches(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(_matches(k, args[0]) and _matches(v, args[1]) for k, v in value.items())
    return isinstance(value, tp)


def _check_types(obj: Any, where: str) -> None:
    """A wrong type in a profile or a papermill parameter fails here, naming the key, instead of deep
    inside a training run (``max_steps: "100"``, ``learning_rate: 1e-3`` read by YAML as a string)."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            continue
        if not _matches(value, hints[f.name]):
            tp = hints[f.name]
            shown = tp.__name__ if isinstance(tp, type) and not typing.get_args(tp) else str(tp).replace("typing.", "")
            key = f"{where} {f.name}" if where.endswith(":") else f"{where}.{f.name}"
            raise ConfigError(f"{key}: expected {shown}, got {value!r} ({type(value).__name__})")


def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def load_profile(name: str, overrides: dict[str, Any] | None = None) -> Profile:
    """Read ``profiles/<name>.yaml`` and apply dotted overrides such as ``distill.max_steps``."""
    if not isinstance(name, str):
        raise ConfigError(f"profile must be a name such as 'quick', got {name!r}")
    if overrides is not None and not isinstance(overrides, dict):
        raise ConfigError(f"overrides must be a mapping of dotted keys to values, got {overrides!r}")
    bad_keys = [k for k in (overrides or {}) if not isinstance(k, str) or not k or "" in k.split(".")]
    if bad_keys:
        raise ConfigError(f"override keys must be dotted names such as 'distill.max_steps', got {bad_keys}")
    path = PROFILE_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"unknown profile {name!r}; available: {available_profiles()}")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    for key, value in (overrides or {}).items():
        _set_dotted(raw, key, value)
    for section in ("distill", "english_baseline", "bucc_style", "students", "chapters"):
        if not isinstance(raw.get(section) or {}, dict):
            raise ConfigError(f"{path}: {section} must be a mapping, got {raw[section]!r}")
    distill_raw = raw.pop("distill", {}) or {}
    english_raw = raw.pop("english_baseline", {}) or {}
    bucc_raw = {k: tuple(v) if isinstance(v, list) else v for k, v in (raw.pop("bucc_style", {}) or {}).items()}
    raw.setdefault("name", name)
    try:
        distill = _merge_dataclass(DistillConfig(), distill_raw, f"{path}: distill")
        bucc_style = _merge_dataclass(BuccStyleConfig(), bucc_raw, f"{path}: bucc_style")
        english = _merge_dataclass(EnglishBaselineConfig(), english_raw, f"{path}: english_baseline")
        profile = Profile(**{**raw, "distill": distill, "bucc_style": bucc_style, "english_baseline": english})
        _check_types(profile, f"{path}:")
    except TypeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    for student in profile.students:
        profile.student_config(student)  # validate early, not after an hour of training
    for chapter, spec in profile.chapters.items():
        missing = sorted(set(spec.get("students", [])) - set(profile.students))
        if missing:
            raise ConfigError(f"{path}: chapters.{chapter} names undefined students {missing}")
    _validate(profile, path)
    return profile


def _set_dotted(tree: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {key!r}: {part!r} is not a section")
    node[parts[-1]] = value


def _validate(profile: Profile, path: Path) -> None:
    langs = set(profile.tatoeba_languages) | set(profile.distill.languages) | set(profile.bucc_style.languages)
    for spec in profile.students.values():
        langs |= set(spec.get("languages", []))
    unknown = sorted(lang for lang in langs if lang not in TATOEBA_CODES)
    if unknown:
        raise ConfigError(f"{path}: unknown languages {unknown}; known: {sorted(TATOEBA_CODES)}")
    modes = {"normalized", "scaled", "raw"}
    configs = {"distill": profile.distill, **{f"students.{n}": profile.student_config(n) for n in profile.students}}
    for where, cfg in configs.items():
        if cfg.target_mode not in modes:
            raise ConfigError(f"{path}: {where}.target_mode {cfg.target_mode!r} not in {sorted(modes)}")
        if cfg.vocabulary not in VOCABULARIES:
            raise ConfigError(f"{path}: {where}.vocabulary {cfg.vocabulary!r} not in {list(VOCABULARIES)}")
        if cfg.align not in ALIGNS:
            raise ConfigError(f"{path}: {where}.align {cfg.align!r} not in {list(ALIGNS)}")
        if cfg.freeze not in FREEZES:
            raise ConfigError(f"{path}: {where}.freeze {cfg.freeze!r} not in {list(FREEZES)}")
        if cfg.objective not in OBJECTIVES:
            raise ConfigError(f"{path}: {where}.objective {cfg.objective!r} not in {list(OBJECTIVES)}")
        for key in ("max_steps", "batch_size", "pairs_per_language", "learning_rate", "max_seq_length", "eval_steps"):
            if getattr(cfg, key) <= 0:
                raise ConfigError(f"{path}: {where}.{key} must be positive, got {getattr(cfg, key)!r}")
    if not profile.seeds:
        raise ConfigError(f"{path}: seeds must name at least one seed")
