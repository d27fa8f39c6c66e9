"""Margin mining: two exact faiss searches against one exact pass for both directions, and IVF.

Part 1 (synthetic, sizes per side): ``mine_candidates`` (ratio margin, max retrieval, k=4) with
``index="flat"`` (faiss ``IndexFlatIP``, one search per direction: the reference) and
``index="blocked"`` (``knn_both``: one blocked matmul pass gives both directions), timed
alternately in this process; the mined pairs must be identical. Part 2 (the teacher's embeddings
of the BUCC zh-en test half): IVF at several ``nprobe`` against the exact search, recall of the
exact nearest neighbour and time.

    python bench/mining.py [--sizes 10000 50000 150000] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from benchlib import write_bench
from mlkd_utils.config import load_profile
from mlkd_utils.mining.knn import knn_search
from mlkd_utils.mining.margin import mine_candidates


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def synthetic(sizes: list[int], dim: int, k: int) -> list[dict]:
    rows = []
    rng = np.random.default_rng(0)
    for n in sizes:
        base = rng.normal(size=(n, dim)).astype(np.float32)
        x = base + 0.5 * rng.normal(size=(n, dim)).astype(np.float32)  # n true pairs, noisy
        y = base + 0.5 * rng.normal(size=(n, dim)).astype(np.float32)
        ref, ref_s = timed(mine_candidates, x, y, k, "max", "ratio", index="flat")
        ours, ours_s = timed(mine_candidates, x, y, k, "max", "ratio", index="blocked")
        # the same pairs; their order may differ where scores agree to float rounding (~1e-7)
        same = set(zip(ref.src.tolist(), ref.trg.tolist())) == set(zip(ours.src.tolist(), ours.trg.tolist()))
        rows.append(
            {
                "part": "synthetic",
                "n_per_side": n,
                "reference_seconds": ref_s,
                "seconds": ours_s,
                "speedup": ref_s / ours_s,
                "identical_pairs": same,
                "dim": dim,
            }
        )
        print(rows[-1], flush=True)
    return rows


def real_ivf(profile_name: str, nprobes: list[int], k: int) -> list[dict]:
    from mlkd_utils.mining.benchmark import benchmarks, teacher_miner

    profile = load_profile(profile_name)
    test = next(v for name, v in benchmarks(profile).items() if name.startswith("BUCC "))["test"]
    miner = teacher_miner(profile)
    x = miner.embed(list(dict.fromkeys(test.source.values())))
    y = miner.embed(list(dict.fromkeys(test.english.values())))
    (_, exact), exact_s = timed(knn_search, x, y, k)
    rows = [{"part": "real", "index": "flat", "nprobe": None, "seconds": exact_s, "recall_at_1": 100.0}]
    for nprobe in nprobes:
        (_, approx), s = timed(knn_search, x, y, k, index="ivf", nprobe=nprobe)
        recall = float((approx[:, 0] == exact[:, 0]).mean() * 100)
        rows.append({"part": "real", "index": "ivf", "nprobe": nprobe, "seconds": s, "recall_at_1": recall})
    for r in rows:
        r.update({"n_source": len(x), "n_english": len(y), "embeddings": f"teacher, BUCC zh-en test ({profile_name})"})
        print(r, flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 150_000])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--profile", default="cpu", help="whose BUCC split part 2 uses")
    parser.add_argument("--nprobe", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--skip-real", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    import faiss

    faiss.omp_set_num_threads(args.threads)
    rows = synthetic(args.sizes, 384, 4)
    if not args.skip_real:
        rows += real_ivf(args.profile, args.nprobe, 4)
    print("wrote", write_bench("mining", [{**r, "threads": args.threads} for r in rows]))


if __name__ == "__main__":
    main()
