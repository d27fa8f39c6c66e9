"""The steps a chapter takes, shared by the notebooks and the CLI so both write the same files."""

from __future__ import annotations

import logging
import time

import pandas as pd
from sentence_transformers import SentenceTransformer

from mlkd_utils.config import Profile
from mlkd_utils.distill import DistillResult, distill
from mlkd_utils.evaluation import evaluate_sts17, evaluate_tatoeba
from mlkd_utils.results import record_run, to_rows, write_metrics

log = logging.getLogger(__name__)

TASKS = ("sts17", "tatoeba")


def evaluate_model(
    model: SentenceTransformer,
    model_id: str,
    profile: Profile,
    chapter: str,
    tasks: tuple[str, ...] = TASKS,
    seed: int | None = None,
    run_id: str = "",
) -> dict[str, pd.DataFrame]:
    """Evaluate on the given tasks and write tidy rows under (chapter, model_id, task)."""
    unknown = set(tasks) - set(TASKS)
    if unknown:
        from mlkd_utils.errors import ConfigError

        raise ConfigError(f"unknown tasks {sorted(unknown)}; known: {list(TASKS)}")
    runners = {
        "sts17": (
            lambda: evaluate_sts17(model, batch_size=profile.encode_batch_size, bf16=profile.bf16_inference),
            ["spearman"],
            ("ci_low", "ci_high"),
        ),
        "tatoeba": (
            lambda: evaluate_tatoeba(
                model,
                profile.tatoeba_languages,
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
    for task in tasks:
        run, metrics, ci = runners[task]
        out[task] = run()
        rows = to_rows(
            out[task], chapter=chapter, model=model_id, task=task, metrics=metrics, seed=seed, run_id=run_id, ci=ci
        )
        write_metrics(profile.name, rows)
    log.info("evaluated %s on %s in %.0fs", model_id, tasks, time.time() - t0)
    return out


def train_and_evaluate(
    profile: Profile, name: str, chapter: str, seed: int | None = None, tasks: tuple[str, ...] = TASKS
) -> tuple[DistillResult, dict[str, pd.DataFrame]]:
    """Distil the named student (or reuse the finished run), evaluate it, record provenance."""
    seed = profile.seeds[0] if seed is None else seed
    result = distill(profile, name, seed)
    run_id = result.run_dir.name
    t0 = time.time()
    scores = evaluate_model(result.load_model(), name, profile, chapter, tasks, seed=seed, run_id=run_id)
    record_run(
        profile.name,
        run_id,
        {
            "chapter": chapter,
            "seed": seed,
            "config": result.info.get("run_key"),
            "training": {
                k: v for k, v in result.info.items() if k not in {"run_key", "git_commit", "packages", "hardware"}
            },
            "trained_with_commit": result.info.get("git_commit"),
            "eval_seconds": time.time() - t0,
        },
    )
    return result, scores
