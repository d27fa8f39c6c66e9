"""Where data, caches, runs and results live.

Every location can be moved with an environment variable so that tests, CI and users with their
own copies of the data never have to edit code:

* ``MLKD_DATA_ROOT``: the staged datasets (default: ``../shared/data`` beside the repository);
  ``hub`` means: no staged data, load the hub copies.
* ``MLKD_RESULTS_DIR``: the tidy results (default: ``results/`` in the repository).
* ``MLKD_CACHE_DIR``: teacher embeddings and other recomputable caches (default: ``cache/``).
* ``MLKD_RUNS_DIR``: trained models and checkpoints (default: ``runs/``).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env_path(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value).expanduser().resolve() if value else default


def data_root(required: bool = False) -> Path | None:
    """The staged data folder, or None when there is none (then loaders fall back to the hub).

    An explicitly set ``MLKD_DATA_ROOT`` that does not exist is an error rather than a silent
    fallback: the user asked for that folder.
    """
    explicit = os.environ.get("MLKD_DATA_ROOT")
    if explicit == "hub":  # explicitly no staged data: every loader uses the hub copies
        if required:
            from mlkd_utils.errors import DataNotFoundError

            raise DataNotFoundError("MLKD_DATA_ROOT=hub, but this dataset has no hub loader: set a data root")
        return None
    if explicit:
        root = Path(explicit).expanduser().resolve()
        if not root.is_dir():
            from mlkd_utils.errors import DataNotFoundError

            raise DataNotFoundError(f"MLKD_DATA_ROOT={explicit} is not a directory")
        return root
    for candidate in (REPO_ROOT.parent / "shared" / "data", REPO_ROOT / "shared" / "data"):
        if candidate.is_dir():
            return candidate
    if required:
        from mlkd_utils.errors import DataNotFoundError

        raise DataNotFoundError("no data root: set MLKD_DATA_ROOT or place the staged data in ../shared/data")
    return None


def results_dir(profile: str) -> Path:
    return _env_path("MLKD_RESULTS_DIR", REPO_ROOT / "results") / profile


def cache_dir() -> Path:
    return _env_path("MLKD_CACHE_DIR", REPO_ROOT / "cache")


def runs_dir(profile: str) -> Path:
    return _env_path("MLKD_RUNS_DIR", REPO_ROOT / "runs") / profile
