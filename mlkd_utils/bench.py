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


def bert_flops(lengths: list[int], d: int, layers: int) -> float:
    """Forward FLOPs of a BERT encoder: per layer 24*L*d^2 (QKV, output and feed-forward matmuls,
    feed-forward width 4d) + 4*L^2*d (attention scores and weighted sum), for each length L."""
    return float(sum(layers * (24 * n * d * d + 4 * n * n * d) for n in lengths))


def padded_lengths(lengths: list[int], batch_size: int) -> list[int]:
    """Each sentence's length after padding to its batch's longest, batches cut from the
    length-sorted order as sentence-transformers' ``encode`` does."""
    order = sorted(lengths, reverse=True)
    out = []
    for i in range(0, len(order), batch_size):
        batch = order[i : i + batch_size]
        out += [batch[0]] * len(batch)
    return out


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


#: What each benchmark's table shows, in page order: (file stem, title, columns, what it measures).
SECTIONS = (
    (
        "distill_throughput",
        "Distillation throughput against the reference recipe",
        [
            "path",
            "student_sentences_per_s",
            "speedup_sentences_per_s",
            "optimisation_s",
            "teacher_labels_s",
            "wall_s",
            "speedup_wall",
            "dev_mse_x100",
            "sts17_en_en",
            "sts17_en_de",
            "steps",
            "batch_size",
            "threads",
        ],
        "`bench/distill_throughput.py`: sentence-transformers' `make_multilingual.py` recipe and our "
        "`distill` on the same pairs, steps, batch and seed, alternately in one process.",
    ),
    (
        "encoding",
        "Teacher encoding against the CPU's matmul throughput",
        [
            "what",
            "sentences_per_s",
            "gflops",
            "gflops_with_padding",
            "of_matmul_fp32",
            "speedup_vs_reference",
            "threads",
        ],
        "`bench/encoding.py`: achieved GFLOP/s of useful work (real tokens) as a fraction of a plain matmul "
        "of the feed-forward shape timed in the same run.",
    ),
    (
        "teacher_cache",
        "Teacher-embedding cache",
        ["request", "seconds", "speedup", "sentences", "identical"],
        "`bench/teacher_cache.py`: the second request for the same (teacher, sentences) reads the cache.",
    ),
    (
        "mining",
        "Margin mining: two faiss searches against one pass for both directions",
        [
            "part",
            "n_per_side",
            "reference_seconds",
            "seconds",
            "speedup",
            "identical_pairs",
            "index",
            "nprobe",
            "recall_at_1",
            "n_source",
            "n_english",
            "threads",
        ],
        "`bench/mining.py`: ratio-margin mining (max retrieval, k=4) with faiss `IndexFlatIP` per direction "
        "(reference) and `knn_both` (one blocked matmul pass); IVF recall on the teacher's BUCC embeddings.",
    ),
    (
        "book",
        "The book's wall time",
        ["profile", "chapter", "seconds"],
        "`bench/book_times.py`: seconds per executed chapter, recorded by `python -m mlkd_utils.book`.",
    ),
)


def render_report(folder: Path, figures: Path) -> str:
    """The performance page: a table per benchmark CSV found, with the machine and commit it ran on,
    and a figure for the mining scaling; a benchmark not yet run is named as missing, not invented."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = [
        "# Performance",
        "",
        "Every table below is read from `results/bench/<name>.csv`, written by the script named under it; "
        "each compares our path with a reference **timed in the same run**, so the ratios hold on the "
        "machine that produced them. Rebuild this page with `python bench/report.py` after running the "
        "scripts (`make bench` runs them all).",
        "",
    ]
    for stem, title, columns, what in SECTIONS:
        lines += [f"## {title}", "", what, ""]
        path = folder / f"{stem}.csv"
        if not path.is_file():
            lines += [f"*Not run yet: no `results/bench/{stem}.csv`.*", ""]
            continue
        df = pd.read_csv(path)
        shown = df[[c for c in columns if c in df.columns]].dropna(axis=1, how="all")
        shown = shown.astype(object).where(shown.notna(), "")  # a blank cell, not "nan"
        lines += [shown.to_markdown(index=False, floatfmt=".3g"), ""]
        first = df.iloc[0]
        gpu = first.get("gpu") if isinstance(first.get("gpu"), str) else "none"
        lines += [
            f"Measured on {first.get('cpu', '?')} ({first.get('cores', '?')} cores, GPU: {gpu}), "
            f"commit `{str(first.get('git_commit', '?'))[:12]}`, {first.get('recorded_at', '?')}.",
            "",
        ]
        if stem == "mining" and "n_per_side" in df and df.n_per_side.notna().any():
            syn = df[df.part == "synthetic"]
            fig, ax = plt.subplots(figsize=(5, 3.5))
            ax.plot(syn.n_per_side, syn.reference_seconds, "o-", label="faiss IndexFlatIP, per direction")
            ax.plot(syn.n_per_side, syn.seconds, "s-", label="knn_both, one pass")
            ax.set(
                xlabel="sentences per side",
                ylabel="seconds (margin mining, both directions)",
                xscale="log",
                yscale="log",
                title="Exact margin mining",
            )
            ax.legend()
            fig.tight_layout()
            figures.mkdir(parents=True, exist_ok=True)
            fig.savefig(figures / "bench_mining.png", dpi=120)
            plt.close(fig)
            lines += ["![Exact margin mining time against corpus size](figures/bench_mining.png)", ""]
    return "\n".join(lines + SCALING_NOTES.splitlines())


#: How the same code runs past one machine (documentation; the 2-process path is tested in
#: ``tests/test_ddp.py`` and the sharded search in ``tests/test_mining.py``).
SCALING_NOTES = """
## Past one machine

**Training, data-parallel.** `distill` is the one training entry point on one process or many: under
`torchrun` or `accelerate launch` every process trains the same run, the run's `batch_size` is split
over the processes (so the run key, and the recipe, do not change), and rank 0 alone writes the run
folder. Tested with two CPU processes over gloo (`tests/test_ddp.py`). A script that calls `distill`
(or `python -m mlkd_utils distill ...`) runs under:

```bash
# one machine, 8 GPUs (NCCL)
torchrun --standalone --nproc_per_node=8 -m mlkd_utils distill --profile paper --student student-10lang
# two machines, 8 GPUs each: run on both, with the first machine's address
torchrun --nnodes=2 --node_rank=$NODE_RANK --nproc_per_node=8 \\
  --rdzv_backend=c10d --rdzv_endpoint=$MASTER_ADDR:29500 \\
  -m mlkd_utils distill --profile paper --student student-10lang
# or: accelerate launch --multi_gpu --num_processes 8 -m mlkd_utils distill ...
```

The `batch_size` must divide by the number of processes (checked before training).

**Mining at scale.** Exact margin mining costs one pass over the n x m cosine matrix: `knn_both`
does it once for both directions, in row blocks, so memory stays at `block x m` floats. Past a few
million sentences per side:

- move the search to GPUs (`faiss.index_cpu_to_all_gpus`, or torch on the GPU for `knn_both`);
- use an IVF index (`index="ivf"`, `nprobe` traded against recall: see the table above) or IVF-PQ
  to keep the database in memory;
- shard the database (`knn_search(..., shards=n)` merges the per-shard top-k exactly, the same
  scheme that spreads a database over GPUs or machines; tested against a single index).
"""
