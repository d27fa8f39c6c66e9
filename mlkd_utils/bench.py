"""Shared pieces of the benchmark scripts in ``bench/``: realistic input, timing, provenance.

A benchmark here always times a reference and our path in the same process, alternately, and
reports their ratio: absolute seconds on a shared 2-core machine say little, a ratio measured
under the same conditions says how much a change buys.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from mlkd_utils.data.parallel import load_parallel
from mlkd_utils.paths import REPO_ROOT, _env_path
from mlkd_utils.provenance import git_commit, hardware

#: Sources mixed for "realistic" pairs: short captions and everyday sentences next to long news
#: and talk sentences, which is what makes padding (and length grouping) matter.
MIX = (("multi30k", "de"), ("tatoeba_challenge", "de"), ("wmt_newstest", "de"), ("iwslt17_ted_devtest", "de"))


def bench_dir() -> Path:
    return _env_path("MLKD_RESULTS_DIR", REPO_ROOT / "results") / "bench"


def mixed_pairs(n: int, seed: int = 0, min_words: int = 5, max_words: int = 40) -> list[tuple[str, str]]:
    """``n`` (English, German) pairs of 5-40 English words, drawn evenly from :data:`MIX`."""
    rng = random.Random(seed)
    per_source = -(-n // len(MIX))
    pairs: list[tuple[str, str]] = []
    for source, lang in MIX:
        corpus = load_parallel(source, lang)
        pool = [(e, x) for e, x in zip(corpus.english, corpus.other) if min_words <= len(e.split()) <= max_words]
        pairs += rng.sample(pool, min(per_source, len(pool)))
    rng.shuffle(pairs)
    if len(pairs) < n:
        raise ValueError(f"only {len(pairs)} pairs of {min_words}-{max_words} words in {MIX}, asked for {n}")
    return pairs[:n]


def best_of(fn: Callable[[], object], repeats: int = 3) -> float:
    """The fastest of ``repeats`` wall times in seconds: the least disturbed by other processes."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def write_bench(name: str, rows: list[dict]) -> Path:
    """``results/bench/<name>.csv``: the rows plus where and from what code they were measured."""
    hw = hardware()
    stamp = {
        "git_commit": git_commit(),
        "cpu": hw["cpu"],
        "cores": hw["cores"],
        "gpu": hw["gpu"],
        "torch_threads": hw.get("torch_threads"),
        "recorded_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    path = bench_dir() / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([{**row, **stamp} for row in rows]).to_csv(path, index=False)
    return path
