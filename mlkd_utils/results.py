"""The tidy results file, ``results/<profile>/metrics.csv``, and one JSON of provenance per run.

One row per measurement. A chapter writes its rows for one (model, task, seed) at a time and
replaces exactly the rows it wrote before for that (chapter, model, task, seed): re-running a
chapter never touches another chapter's rows, nor another seed's. Files are written atomically and validated when read.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pandas as pd

from mlkd_utils.errors import MLKDError
from mlkd_utils.io import atomic_write_json, atomic_write_text, locked
from mlkd_utils.paths import results_dir
from mlkd_utils.provenance import provenance

COLUMNS = ["chapter", "model", "task", "subset", "metric", "value", "seed", "ci_low", "ci_high", "run_id"]
_KEY = ["chapter", "model", "task", "seed"]


class ResultsSchemaError(MLKDError):
    pass


def metrics_path(profile: str) -> Path:
    return results_dir(profile) / "metrics.csv"


def read_metrics(profile: str, required: bool = True) -> pd.DataFrame:
    path = metrics_path(profile)
    if not path.is_file():
        if required:
            raise MLKDError(f"{path} does not exist: run the chapters of profile {profile!r} first")
        return pd.DataFrame(columns=COLUMNS)
    text_cols = {c: str for c in ("chapter", "model", "task", "subset", "metric", "run_id")}
    df = pd.read_csv(
        path,
        dtype={**text_cols, "seed": "Int64"},
        keep_default_na=False,
        na_values={"value": [""], "ci_low": [""], "ci_high": [""], "seed": [""]},
    )
    validate(df, path)
    return df


def validate(df: pd.DataFrame, where: Any = "metrics") -> None:
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ResultsSchemaError(f"{where}: missing columns {missing}")
    for col in ("chapter", "model", "task", "subset", "metric"):
        bad = df[col].isna() | (df[col].astype(str).str.strip() == "")
        if bad.any():
            raise ResultsSchemaError(f"{where}: empty {col!r} in row {int(bad.idxmax()) + 2}")
    values = pd.to_numeric(df["value"], errors="coerce")
    if values.isna().any():
        row = int(values.isna().idxmax())
        raise ResultsSchemaError(f"{where}: non-numeric value {df['value'].iloc[row]!r} in row {row + 2}")


def to_rows(
    frame: pd.DataFrame,
    *,
    chapter: str,
    model: str,
    task: str,
    metrics: list[str],
    seed: int | None,
    run_id: str = "",
    ci: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """Turn a wide frame (one row per subset, one column per metric) into tidy rows."""
    rows = []
    for rec in frame.to_dict("records"):
        for metric in metrics:
            row = {
                "chapter": chapter,
                "model": model,
                "task": task,
                "subset": rec["subset"],
                "metric": metric,
                "value": float(rec[metric]),
                "seed": seed,
                "ci_low": math.nan,
                "ci_high": math.nan,
                "run_id": run_id,
            }
            if ci and metric == "spearman":
                row["ci_low"], row["ci_high"] = float(rec[ci[0]]), float(rec[ci[1]])
            rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def write_metrics(profile: str, rows: pd.DataFrame) -> Path:
    """Replace the rows of the (chapter, model, task, seed) groups in ``rows``, keep everything else."""
    validate(rows, "new rows")
    rows = rows.astype({"seed": "Int64"})
    path = metrics_path(profile)
    with locked(path):
        old = read_metrics(profile, required=False).astype({"seed": "Int64"})
        keys = rows[_KEY].drop_duplicates()
        if len(old):
            merged = old.merge(keys, on=_KEY, how="left", indicator=True)
            old = old[(merged["_merge"] == "left_only").to_numpy()]
        out = pd.concat([old, rows], ignore_index=True) if len(old) else rows.copy()
        out = out.sort_values(["chapter", "model", "task", "subset", "metric", "seed"], kind="stable")
        atomic_write_text(path, out[COLUMNS].to_csv(index=False, float_format="%.4f"))
    return path


def record_run(profile: str, run_id: str, info: dict[str, Any]) -> Path:
    """``results/<profile>/runs/<run_id>.json``: config, seed, commit, versions, hardware, wall time."""
    path = results_dir(profile) / "runs" / f"{run_id}.json"
    atomic_write_json(
        path,
        {
            "run_id": run_id,
            "profile": profile,
            "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **provenance(),
            **info,
        },
    )
    return path


def prune(profile: str, chapter: str, keep_run_ids: set[str], keep_unseeded: set[str]) -> int:
    """Remove a chapter's rows that its latest execution did not produce: rows of runs no longer
    planned (another seed list, a changed config) and unseeded rows of models it no longer scores.
    Without this, a stale seed would be averaged into the tables. Returns the rows removed."""
    with locked(metrics_path(profile)):
        df = read_metrics(profile, required=False)
        if df.empty:
            return 0
        mine = df.chapter == chapter
        has_run = df.run_id.fillna("") != ""
        stale = mine & ((has_run & ~df.run_id.isin(keep_run_ids)) | (~has_run & ~df.model.isin(keep_unseeded)))
        if stale.any():
            atomic_write_text(metrics_path(profile), df[~stale][COLUMNS].to_csv(index=False, float_format="%.4f"))
        return int(stale.sum())
