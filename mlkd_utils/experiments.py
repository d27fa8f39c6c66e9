"""The steps a chapter takes, shared by the notebooks and the CLI so both write the same files."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from sentence_transformers import SentenceTransformer

from mlkd_utils.config import DistillConfig, Profile
from mlkd_utils.distill import DistillResult, distill
from mlkd_utils.evaluation import STSB_MT_LANGUAGES, evaluate_sts17, evaluate_stsb_mt, evaluate_tatoeba
from mlkd_utils.io import locked, read_checked, stable_hash, write_checked
from mlkd_utils.paths import data_root, results_dir
from mlkd_utils.results import record_run, to_rows, write_metrics

log = logging.getLogger(__name__)

TASKS = ("sts17", "tatoeba")
#: Tasks a chapter may ask for on top of the default ones.
ALL_TASKS = (*TASKS, "stsb_mt")


def evaluate_model(
    model: SentenceTransformer,
    model_id: str,
    profile: Profile,
    chapter: str,
    tasks: tuple[str, ...] = TASKS,
    seed: int | None = None,
    run_id: str = "",
    tatoeba_languages: list[str] | None = None,
    cache_dir: Path | None = None,
    stsb_languages: list[str] | None = None,
    sts17_subsets: list[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Evaluate on the given tasks and write tidy rows under (chapter, model_id, task, seed).

    With ``cache_dir`` (a finished run's folder), each task's scores are kept there under a hash of
    the evaluation settings, so re-rendering a chapter does not re-encode the test sets.
    """
    unknown = set(tasks) - set(ALL_TASKS)
    if unknown:
        from mlkd_utils.errors import ConfigError

        raise ConfigError(f"unknown tasks {sorted(unknown)}; known: {list(ALL_TASKS)}")
    languages = list(profile.tatoeba_languages if tatoeba_languages is None else tatoeba_languages)
    stsb_langs = list(STSB_MT_LANGUAGES if stsb_languages is None else stsb_languages)
    sts17_cap = {"max_pairs": profile.sts17_max_pairs} if profile.sts17_max_pairs is not None else {}
    settings = {
        "stsb_mt": {"languages": stsb_langs, "max": profile.stsb_max_pairs, "bf16": str(profile.bf16_inference)},
        # subsets and caps enter the key only when set, so caches of full evaluations stay valid
        "sts17": {"bf16": str(profile.bf16_inference), **sts17_cap},
        "tatoeba": {"languages": languages, "max": profile.tatoeba_max_sentences, "bf16": str(profile.bf16_inference)},
    }
    runners = {
        "stsb_mt": (
            lambda: evaluate_stsb_mt(
                model, stsb_langs, profile.stsb_max_pairs, profile.encode_batch_size, profile.bf16_inference
            ),
            ["spearman"],
            ("ci_low", "ci_high"),
        ),
        "sts17": (
            lambda: evaluate_sts17(
                model,
                sts17_subsets,
                batch_size=profile.encode_batch_size,
                bf16=profile.bf16_inference,
                max_pairs=profile.sts17_max_pairs,
            ),
            ["spearman"],
            ("ci_low", "ci_high"),
        ),
        "tatoeba": (
            lambda: evaluate_tatoeba(
                model,
                languages,
                profile.tatoeba_max_sentences,
                profile.encode_batch_size,
                profile.bf16_inference,
            ),
            ["accuracy", "xx->en", "en->xx"],
            None,
        ),
    }
    out: dict[str, pd.DataFrame] = {}
    t0 = time.time()
    where = {"data_root": str(data_root())}
    if sts17_subsets:
        # a cached evaluation on every file already holds the rows of any subset of them
        full = {**settings["sts17"], **where}
        settings["sts17"] = {**settings["sts17"], "subsets": sts17_subsets}
        runners["sts17"] = (_subset_of(runners["sts17"][0], cache_dir, full, sts17_subsets), *runners["sts17"][1:])
    for task in tasks:
        run, metrics, ci = runners[task]
        out[task] = _cached(run, cache_dir, task, {**settings[task], **where})
        rows = to_rows(
            out[task], chapter=chapter, model=model_id, task=task, metrics=metrics, seed=seed, run_id=run_id, ci=ci
        )
        write_metrics(profile.name, rows)
    log.info("evaluated %s on %s in %.0fs", model_id, tasks, time.time() - t0)
    return out


def _entry(cache_dir: Path, task: str, settings: dict) -> Path:
    return Path(cache_dir) / "eval" / f"{task}-{stable_hash(settings)}.csv"


def _read_entry(path: Path) -> pd.DataFrame | None:
    """A cached score table, or None when missing, empty, damaged or unparseable (logged)."""
    data = read_checked(path)
    if data is None:
        return None
    try:
        frame = pd.read_csv(io.BytesIO(data), keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        log.warning("%s unreadable (%s): evaluating again", path, exc)
        return None
    if "subset" not in frame.columns or not len(frame):
        log.warning("%s has no rows: evaluating again", path)
        return None
    if not path.with_name(path.name + ".sha256").is_file():
        write_checked(path, data)  # an entry from before sidecars: checked from now on
    return frame


def _cached(run, cache_dir: Path | None, task: str, settings: dict) -> pd.DataFrame:
    """Scores kept as CSV under a hash of the settings, checked against a sha256 sidecar on read;
    a damaged or unparseable entry is logged and computed again, never used.

    The entry is locked while it is computed: chapters executed side by side (``book --jobs``) ask
    for the same model's scores, and the second waits for the first instead of encoding twice.
    """
    if cache_dir is None:
        return run()
    path = _entry(cache_dir, task, settings)
    frame = _read_entry(path)
    if frame is not None:
        return frame
    with locked(path):
        frame = _read_entry(path)
        if frame is None:
            frame = run()
            write_checked(path, frame.to_csv(index=False).encode("utf-8"))
    return frame


def _subset_of(run, cache_dir: Path | None, full_settings: dict, subsets: list[str]):
    """``run``, unless the cache already holds an evaluation on every file: then its rows of ``subsets``."""

    def subset_run() -> pd.DataFrame:
        full = _read_entry(_entry(cache_dir, "sts17", full_settings)) if cache_dir is not None else None
        if full is not None and set(subsets) <= set(full.subset):
            return full[full.subset.isin(subsets)].reset_index(drop=True)
        return run()

    return subset_run


def evaluate_run(
    result: DistillResult, profile: Profile, chapter: str, tasks: tuple[str, ...], label: str | None = None, **kwargs
) -> dict[str, pd.DataFrame]:
    """Evaluate a finished run under its name, seed and run id, with scores cached in its folder."""
    return evaluate_model(
        LazyModel(result.load_model),
        label or result.name,
        profile,
        chapter,
        tasks,
        seed=result.info.get("seed"),
        run_id=result.run_dir.name,
        cache_dir=result.run_dir,
        **kwargs,
    )


def train_and_evaluate(
    profile: Profile,
    name: str,
    chapter: str,
    seed: int | None = None,
    tasks: tuple[str, ...] = TASKS,
    tatoeba_languages: list[str] | None = None,
    cfg: DistillConfig | None = None,
    sts17_subsets: list[str] | None = None,
) -> tuple[DistillResult, dict[str, pd.DataFrame]]:
    """Distil the named student (or reuse the finished run), evaluate it (or reuse the scores kept in
    its run folder), record provenance. ``tatoeba_languages`` defaults to the profile's; ``cfg``
    to the profile's config of student ``name``."""
    seed = profile.seeds[0] if seed is None else seed
    result = distill(profile, name, seed, cfg=cfg)
    t0 = time.time()
    scores = evaluate_run(
        result, profile, chapter, tasks, name, tatoeba_languages=tatoeba_languages, sts17_subsets=sts17_subsets
    )
    record_training(profile, result, chapter, eval_seconds=time.time() - t0)
    return result, scores


def record_training(profile: Profile, result: DistillResult, chapter: str, **extra) -> None:
    """A finished run's provenance in ``results/<profile>/runs/<run id>.json``: its config, how it
    trained and with which commit (the results file adds the commit that scored it). A record that
    already says the same (a re-render whose scores all came from the cache) is kept as it is, so
    its commit, time and evaluation seconds stay those of the evaluation that produced the scores."""
    info = {
        "chapter": chapter,
        "seed": result.info.get("seed"),
        "config": result.info.get("run_key"),
        "training": {
            k: v for k, v in result.info.items() if k not in {"run_key", "git_commit", "packages", "hardware"}
        },
        "trained_with_commit": result.info.get("git_commit"),
    }
    path = results_dir(profile.name) / "runs" / f"{result.run_dir.name}.json"
    if path.exists():
        old = json.loads(path.read_text())
        if all(json.loads(json.dumps(v)) == old.get(k) for k, v in info.items()):
            return
    record_run(profile.name, result.run_dir.name, {**info, **extra})


class LazyModel:
    """A model that loads on first use: when every task's scores are cached, no model is loaded
    (loading costs seconds per student, and a chapter reads dozens)."""

    def __init__(self, load: Callable[[], SentenceTransformer]) -> None:
        self._load = load
        self._model: SentenceTransformer | None = None

    def __getattr__(self, item: str):
        if self._model is None:
            self._model = self._load()
        return getattr(self._model, item)
