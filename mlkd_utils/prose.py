"""The Reading sections are computed: each chapter's ``reading`` function writes its findings from the
tables of the executed run, so a number or an ordering that changes with a rerun changes the sentence
too. These helpers turn values into the phrases those functions share; a difference within the stated
noise is said to be one, never read as a ranking.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

NOTE = (
    "*Computed from the tables above by `{source}`: every number and every comparison in this section "
    "is recomputed on each run of the chapter, none is typed by hand.*"
)


def fmt(value: float | None, digits: int = 1) -> str:
    """A score as the tables show it (one decimal for x100 scores); "n/a" for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def signed(value: float, digits: int = 1) -> str:
    """A difference, with its sign."""
    return "n/a" if math.isnan(value) else f"{value:+.{digits}f}"


def rate(value: float) -> str:
    """A learning rate as the profiles write it, short and distinct for every rate: 2e-4, 1.5e-4
    (also how chapter 6 names its learning-rate runs)."""
    import numpy as np

    return np.format_float_scientific(value, trim="-", exp_digits=1)


def span(values: Iterable[float], digits: int = 1) -> str:
    """ "a to b" over the values (their min and max), or the one value when they agree."""
    vals = [v for v in values if not math.isnan(v)]
    if not vals:
        return "n/a"
    lo, hi = fmt(min(vals), digits), fmt(max(vals), digits)
    return lo if lo == hi else f"{lo} to {hi}"


def versus(
    a: float, b: float, noise: float = 0.0, above: str = "above", below: str = "below", level: str = "level with"
) -> str:
    """How ``a`` stands to ``b``: ``level`` when they differ by no more than ``noise``."""
    if math.isnan(a) or math.isnan(b):
        return "not comparable with"
    if abs(a - b) <= noise:
        return level
    return above if a > b else below


def gap(a: float, b: float, noise: float = 0.0) -> str:
    """``a`` against ``b`` as "3.1 points above" / "within the noise of"."""
    word = versus(a, b, noise)
    if word == "level with" and noise == 0:
        return "level with"
    if word == "level with":
        return f"within {fmt(noise)} points (the noise) of"
    return f"{fmt(abs(a - b))} points {word}"


def against(value: float, target: float) -> str:
    """A measured value against the value aimed at: "reached" or "missed by 2.4"."""
    return "reached" if value >= target else f"missed by {fmt(target - value)}"


def count(hits: int, total: int, what: str) -> str:
    """ "all 10 files", "7 of 10 files", "none of the 10 files"."""
    if total and hits == total:
        return f"all {total} {what}"
    if hits == 0:
        return f"none of the {total} {what}"
    return f"{hits} of {total} {what}"


def names(items: Iterable[str]) -> str:
    """An English list: "a", "a and b", "a, b and c"."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


@dataclass
class Reading:
    """A chapter's findings as Markdown: a note saying where they come from, then one bold-led
    paragraph per finding. Shown as Markdown in JupyterLab and in the rendered book."""

    source: str
    paragraphs: list[str] = field(default_factory=list)

    def add(self, title: str, text: str) -> None:
        self.paragraphs.append(f"**{title}** {text.strip()}")

    def markdown(self) -> str:
        return "\n\n".join([NOTE.format(source=self.source), *self.paragraphs])

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def __str__(self) -> str:
        return self.markdown()
