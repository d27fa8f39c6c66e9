"""Counting what a loader skipped, so nothing is dropped silently."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

log = logging.getLogger("mlkd_utils.data")

#: Every report made in this process, in order; notebooks show them as a table.
REPORTS: list[LoadReport] = []


@dataclass
class LoadReport:
    """What one file gave: lines kept and lines dropped, by reason."""

    path: str
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    #: Lines kept after a repair (e.g. a CRLF ending stripped), counted but not dropped.
    repaired: Counter = field(default_factory=Counter)

    def drop(self, reason: str, n: int = 1) -> None:
        self.dropped[reason] += n

    def repair(self, reason: str, n: int = 1) -> None:
        self.repaired[reason] += n

    @property
    def n_dropped(self) -> int:
        return sum(self.dropped.values())

    def finish(self) -> LoadReport:
        """Register and log the report; a non-empty drop count is a warning, not a whisper."""
        REPORTS.append(self)
        if self.repaired:
            log.warning("%s: repaired %s", self.path, dict(self.repaired))
        if self.n_dropped:
            reasons = ", ".join(f"{k}: {v}" for k, v in sorted(self.dropped.items()))
            log.warning("%s: kept %d, dropped %d (%s)", self.path, self.kept, self.n_dropped, reasons)
        else:
            log.info("%s: kept %d, dropped 0", self.path, self.kept)
        return self

    def as_row(self) -> dict[str, object]:
        return {
            "path": self.path,
            "kept": self.kept,
            "dropped": self.n_dropped,
            **dict(self.dropped),
            **{f"repaired_{k}": v for k, v in self.repaired.items()},
        }


def reports_frame():
    """All load reports of this process as a DataFrame (one row per file)."""
    import pandas as pd

    return pd.DataFrame([r.as_row() for r in REPORTS]).fillna(0)
