"""Prepare chapters in the background: train what their plans miss and score it, chapter by chapter.

``python -m mlkd_utils.chapters --profile cpu --chapters 4 6 5 --worker 0 --workers 2`` runs the
chapters in the order given; chapters 4, 5 and 6 share their work between workers (every
``workers``-th run, or model in chapter 4), the others run in worker 0 only. Everything is cached
by config, so an interrupted job resumes where it stopped when started again (a killed training
run from its last checkpoint), and a notebook executed afterwards renders from the caches. This
module is the one place that composes chapters.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable

from mlkd_utils.chapters import ch2_distillation, ch3_sts, ch4_bucc, ch5_dataset_ablations, ch6_objectives
from mlkd_utils.config import Profile, load_profile

log = logging.getLogger("mlkd_utils.chapters")


def _ch4(profile: Profile, worker: int, workers: int) -> None:
    guests = ch6_objectives.finished_students(profile, ch4_bucc.settings(profile)["seed"])
    ch4_bucc.prepare(profile, guests, worker, workers)


#: chapter number -> (runs in worker 0 only, or shared between workers; the job)
JOBS: dict[int, tuple[bool, Callable[..., object]]] = {
    2: (False, lambda p, w, n: ch2_distillation.run_grid(p)),
    3: (False, lambda p, w, n: ch3_sts.run_sts_study(p, include_sweeps=True)),
    4: (True, _ch4),
    5: (True, lambda p, w, n, reverse=False: ch5_dataset_ablations.run_study(p, worker=w, workers=n, reverse=reverse)),
    6: (True, lambda p, w, n: ch6_objectives.run_study(p, worker=w, workers=n, train=True)),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--chapters", type=int, nargs="+", default=[4, 6, 5], choices=sorted(JOBS))
    parser.add_argument("--worker", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--reverse",
        action="store_true",
        help="take the worker's share from its end: a helper for a worker that lags (chapter 5 only)",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.worker < args.workers:
        parser.error(f"--worker must be in 0..{args.workers - 1}")
    if args.reverse and set(args.chapters) != {5}:
        parser.error("--reverse is for chapter 5's runs only")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    profile = load_profile(args.profile)
    for chapter in args.chapters:
        shared, job = JOBS[chapter]
        if not shared and args.worker != 0:
            log.info("chapter %d runs in worker 0 only: skipped here", chapter)
            continue
        log.info("chapter %d (worker %d/%d)", chapter, args.worker + 1, args.workers)
        job(profile, args.worker, args.workers, **({"reverse": True} if args.reverse else {}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
