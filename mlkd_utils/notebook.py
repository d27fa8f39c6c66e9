"""What every chapter does first: read its parameters into a profile, set up logging and plots."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from mlkd_utils.config import Profile, load_profile
from mlkd_utils.paths import data_root, results_dir


def setup(profile: str, overrides: dict[str, Any] | None = None, chapter: str = "") -> Profile:
    """Load the profile, quieten library chatter, fix the plotting style, print where things go."""
    import matplotlib
    import seaborn as sns

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", force=True)
    logging.getLogger("mlkd_utils").setLevel(logging.INFO)
    logging.getLogger("mlkd_utils.data").setLevel(logging.WARNING)  # skipped lines still warn
    for noisy in ("sentence_transformers", "transformers", "datasets", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    matplotlib.rcParams.update({"figure.dpi": 110, "savefig.bbox": "tight"})
    sns.set_theme(style="whitegrid", context="notebook")
    prof = load_profile(profile, overrides or {})
    from mlkd_utils.provenance import git_commit, hardware

    hw = hardware()
    print(f"chapter {chapter} | profile {prof.name} | data root {data_root()} | results {results_dir(prof.name)}")
    print(f"commit {git_commit()} | {hw['cpu']} x{hw['cores']} | {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    return prof
