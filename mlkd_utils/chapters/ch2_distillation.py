"""Chapter 2's recipe study for the multilingual-e5-small students: which start, learning rate and
frozen parts make a student that learns, chosen on dev sets only.

Every grid run is a short distillation on the ten-language pairs (``chapters.02_distillation.e5_grid``
in the profile); it is scored during training on held-out pairs (dev MSE, dev translation accuracy)
and on the STS benchmark's dev split (English, and English against machine-translated sentence 2),
never on an STS17 test file. The table reads the training logs; nothing here is tuned by hand.
"""

from __future__ import annotations

import pandas as pd

from mlkd_utils.config import Profile
from mlkd_utils.distill import DistillResult, dev_scores, distill, training_cost

CHAPTER = "02_distillation"


def grid(profile: Profile, chapter: str = CHAPTER) -> list[str]:
    return list(profile.chapter(chapter).get("e5_grid", []))


def run_grid(profile: Profile, chapter: str = CHAPTER) -> dict[str, DistillResult]:
    """Train what is missing (cached runs are reused) and record each run's provenance."""
    from mlkd_utils.experiments import record_training

    results = {name: distill(profile, name) for name in grid(profile, chapter)}
    for result in results.values():
        record_training(profile, result, chapter)
    return results


def grid_table(profile: Profile, results: dict[str, DistillResult]) -> pd.DataFrame:
    """One row per recipe: what was changed, what it cost, and the dev scores at the start and the end."""
    rows = {}
    for name, r in results.items():
        cfg = profile.student_config(name)
        start, end = dev_scores(r.log, "first"), dev_scores(r.log, "last")
        cost = training_cost(r)
        rows[name] = {
            "start": f"{cfg.align} map" if cfg.align != "none" else "plain",
            "frozen": cfg.freeze,
            "learning rate": cfg.learning_rate,
            "steps": cfg.max_steps,
            "trainable params (M)": round(r.info.get("trainable_parameters", float("nan")) / 1e6, 1),
            "student sentences/s": cost["student sentences/s"],
            "dev MSE x1e4 at step 0": start["dev MSE x1e4"],
            **end,
        }
    table = pd.DataFrame(rows).T
    for col in table.columns:
        if col not in ("start", "frozen"):
            table[col] = pd.to_numeric(table[col])
    return table.round({c: 1 for c in table.columns if c not in ("start", "frozen", "learning rate")})


def dev_sts_mean(table: pd.DataFrame) -> pd.Series:
    """The mean of the STSb dev columns at the end of each run: the one number the grid is read by."""
    cols = [c for c in table.columns if c.startswith("STSb dev")]
    return table[cols].mean(axis=1).round(1)
