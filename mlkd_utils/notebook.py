"""What every chapter does first: read its parameters into a profile, set up logging and plots."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from mlkd_utils.config import Profile, load_profile
from mlkd_utils.paths import REPO_ROOT, data_root, results_dir

#: Set by ``mlkd_utils.book`` for the kernels it starts (with ``TQDM_DISABLE=1``): the rendered page
#: shows a chapter's results, while its logging, warnings and progress bars go to a log file.
QUIET_ENV = "MLKD_QUIET_OUTPUTS"


def quiet_outputs() -> bool:
    """True in a chapter executed for the book; interactive sessions keep their progress bars."""
    return os.environ.get(QUIET_ENV, "") == "1"


def progress_bar(show: bool) -> bool:
    """Whether to draw a progress bar that the caller would show: never in a book execution."""
    return show and not quiet_outputs()


def _stderr_to(path: Path) -> None:
    """Send everything written to stderr from now on (logging, warnings, tqdm) to ``path``, including
    the handlers that libraries attached to the kernel's stderr when they were imported."""
    path.parent.mkdir(parents=True, exist_ok=True)
    old, stream = sys.stderr, open(path, "a", buffering=1, encoding="utf-8")  # open for the kernel's lifetime
    sys.stderr = stream
    named = logging.Logger.manager.loggerDict.values()
    loggers = [logging.getLogger(), *(v for v in named if isinstance(v, logging.Logger))]
    for logger in loggers:
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler and handler.stream in (old, sys.__stderr__):
                handler.setStream(stream)


class _PageWarnings(logging.Filter):
    """mlkd_utils' warnings, except the data loaders' line counts (the chapters show them as tables)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith("mlkd_utils.data")


def _page_warnings() -> None:
    logger = logging.getLogger("mlkd_utils")
    if not any(getattr(h, "_mlkd_page", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setLevel(logging.WARNING)
        handler.addFilter(_PageWarnings())
        handler.setFormatter(logging.Formatter("Note: %(message)s"))
        handler._mlkd_page = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


def _quiet_progress_bars() -> None:
    """Weight-loading and dataset bars say nothing a reader needs and fill the rendered page."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass
    try:
        import datasets

        datasets.disable_progress_bars()
    except ImportError:
        pass


def _cjk_fallback() -> None:
    """Chinese labels (chapter 4's BUCC zh-en examples) drawn with a CJK font where one is installed
    (Debian's ``fonts-noto-cjk``; ``.ci/run`` installs it): matplotlib falls back glyph by glyph along
    ``font.family``, so Latin text keeps the default font."""
    import matplotlib
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    cjk = next((n for n in ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC") if n in names), None)
    if cjk is not None:
        matplotlib.rcParams["font.family"] = ["DejaVu Sans", cjk]


def setup(profile: str, overrides: dict[str, Any] | None = None, chapter: str = "") -> Profile:
    """Load the profile, quieten library chatter, fix the plotting style, print where things go."""
    import matplotlib
    import seaborn as sns

    prof = load_profile(profile, overrides or {})
    log_file = results_dir(prof.name) / "executed" / "logs" / f"{chapter or 'chapter'}.log"
    if quiet_outputs():
        _stderr_to(log_file)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    logging.getLogger("mlkd_utils").setLevel(logging.INFO)
    if quiet_outputs():  # a warning of ours (a hub fallback, a resumed run) stays on the page, in one line
        _page_warnings()
    logging.getLogger("mlkd_utils.data").setLevel(logging.WARNING)  # skipped lines still warn
    for noisy in ("sentence_transformers", "transformers", "datasets", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # the e5 folders set a default prompt on purpose; the notice is printed at every load
    logging.getLogger("sentence_transformers.base.model").setLevel(logging.ERROR)
    _quiet_progress_bars()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    matplotlib.rcParams.update({"figure.dpi": 110, "savefig.bbox": "tight"})
    sns.set_theme(style="whitegrid", context="notebook")
    _cjk_fallback()
    from mlkd_utils.provenance import git_commit, hardware

    hw = hardware()
    print(f"chapter {chapter} | profile {prof.name} | data root {data_root()} | results {results_dir(prof.name)}")
    print(f"commit {git_commit()} | {hw['cpu']} x{hw['cores']} | {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    if quiet_outputs():
        shown = log_file.relative_to(REPO_ROOT) if log_file.is_relative_to(REPO_ROOT) else log_file
        print(f"log (training progress, warnings): {shown}")
    return prof
