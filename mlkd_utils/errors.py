"""Exceptions that name the file (and line) a problem comes from, so a reader can go and look."""

from __future__ import annotations

from pathlib import Path


class MLKDError(Exception):
    """Base class for errors raised by mlkd_utils."""


class DataFormatError(MLKDError, ValueError):
    """Bad input in a data file: the message always carries ``path:line``."""

    def __init__(self, path: str | Path, line: int | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


class DataNotFoundError(MLKDError, FileNotFoundError):
    """A dataset is neither under the data root nor reachable on the hub."""


class ConfigError(MLKDError, ValueError):
    """An unknown profile, language, corpus or override."""


class WeightsMissingError(MLKDError):
    """A run is recorded (``results/<profile>/records``) but its weights are not on this machine, and a
    score that is not cached needs them."""
