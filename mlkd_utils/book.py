"""Execute every chapter with papermill in one profile, then render the site with jupyter-book.

``python -m mlkd_utils.book --profile cpu`` executes ``notebooks/*.ipynb`` into ``book/chapters/``
(committed: these are the published chapters) and builds ``_build/html``. Any other profile is
staged in ``_build/stage-<profile>/`` (a copy of the book sources) so that a quick look never
overwrites the published chapters. The site is built with ``-W``: a warning fails the build, and
a notebook that raises fails with its failing cell shown.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from mlkd_utils.notebook import QUIET_ENV
from mlkd_utils.paths import REPO_ROOT

log = logging.getLogger(__name__)
PUBLISHED_PROFILE = "cpu"
BOOK_SOURCES = ["_config.yml", "_toc.yml", "_static", "book"]


def notebooks(root: Path = REPO_ROOT) -> list[Path]:
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def default_stage(profile: str) -> Path:
    return REPO_ROOT if profile == PUBLISHED_PROFILE else REPO_ROOT / "_build" / f"stage-{profile}"


def stage_sources(stage: Path) -> None:
    """Copy the book's sources (config, toc, prose) into a staging folder."""
    if stage.resolve() == REPO_ROOT.resolve():
        return
    stage.mkdir(parents=True, exist_ok=True)
    for name in BOOK_SOURCES:
        src, dst = REPO_ROOT / name, stage / name
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("chapters"))
        else:
            shutil.copy2(src, dst)


def execute(
    profile: str,
    stage: Path,
    only: list[str] | None = None,
    overrides: dict | None = None,
    root: Path = REPO_ROOT,
    jobs: int = 1,
) -> dict[str, float]:
    """Run each chapter of ``root/notebooks`` with papermill; returns the wall time of each in seconds.
    A chapter that raises stops here with papermill's error, which shows the failing cell and traceback.

    With ``jobs`` > 1 the chapters run side by side, each kernel on one thread (on 2 cores two
    1-thread processes get more done than one 2-thread process), the longest first by the last
    recorded times. Chapters that need the same student wait on its run lock (``distill``) instead
    of training it twice. The published ``cpu`` book is executed with one job, so that what a
    chapter reads from other chapters' results never depends on timing.
    """
    out_dir = stage / "book" / "chapters"
    out_dir.mkdir(parents=True, exist_ok=True)
    chapters = [nb for nb in notebooks(root) if not only or any(nb.stem.startswith(o) for o in only)]
    args = {"profile": profile, "overrides": overrides or {}, "cwd": str(root / "notebooks")}
    if jobs <= 1:
        return {nb.stem: _execute_one(nb, out_dir / nb.name, **args) for nb in chapters}
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    chapters = longest_first(chapters, profile)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futures = {
            nb.stem: pool.submit(_execute_one, nb, out_dir / nb.name, **args, threads=1, progress=False)
            for nb in chapters
        }
        times = {}
        for stem in sorted(futures):  # a failure is raised in chapter order, after the others finished
            times[stem] = futures[stem].result()
    return times


def longest_first(chapters: list[Path], profile: str) -> list[Path]:
    """Chapters by expected time, longest first: the last recorded ``chapter_times.json`` of the
    profile or, on a fresh machine, the profile's ``chapter_seconds``; unknown chapters last."""
    from mlkd_utils.config import load_profile
    from mlkd_utils.paths import results_dir

    timing = results_dir(profile) / "chapter_times.json"
    last = json.loads(timing.read_text()) if timing.is_file() else load_profile(profile).chapter_seconds
    return sorted(chapters, key=lambda nb: -last.get(nb.stem, 0.0))


def _execute_one(
    nb: Path, out: Path, profile: str, overrides: dict, cwd: str, threads: int | None = None, progress: bool = True
) -> float:
    import papermill as pm

    if threads is not None:  # the kernel inherits this process's environment
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(threads)
    # results on the page, logs in a file: progress bars off before tqdm is imported in the kernel
    # (the kernel inherits the environment; this process gets its own back afterwards)
    saved = {k: os.environ.get(k) for k in (QUIET_ENV, "TQDM_DISABLE")}
    os.environ.update({QUIET_ENV: "1", "TQDM_DISABLE": "1"})
    t0 = time.time()
    log.info("executing %s (profile %s)", nb.name, profile)
    try:
        pm.execute_notebook(
            str(nb),
            str(out),
            parameters={"profile": profile, "overrides": overrides},
            cwd=cwd,
            kernel_name="python3",
            progress_bar=progress,
        )
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return round(time.time() - t0, 1)


def build_html(stage: Path) -> Path:
    cmd = [sys.executable, "-m", "jupyter_book", "build", str(stage), "-W", "-n", "--keep-going", "--builder", "html"]
    jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent))
    if jb:
        cmd = [jb, *cmd[3:]]
    subprocess.run(cmd, check=True)
    return stage / "_build" / "html"


def check_chapters(stage: Path) -> None:
    """Every chapter in the toc must exist as an executed notebook: a missing one fails the build."""
    missing = [nb.name for nb in notebooks() if not (stage / "book" / "chapters" / nb.name).is_file()]
    if missing:
        raise FileNotFoundError(f"executed chapters missing in {stage / 'book' / 'chapters'}: {missing}")


def _parse_override(item: str) -> tuple[str, object]:
    """``key=value`` with the value read as YAML (``false``, ``3``, ``[de, ar]``)."""
    import yaml

    key, sep, value = item.partition("=")
    if not sep or not key:
        raise SystemExit(f"--set expects KEY=VALUE, got {item!r}")
    return key, yaml.safe_load(value)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m mlkd_utils.book", description=__doc__)
    p.add_argument("--profile", default=PUBLISHED_PROFILE)
    p.add_argument(
        "--stage", type=Path, help="where to execute and build (default: repo for cpu, else _build/stage-<profile>)"
    )
    p.add_argument("--no-execute", action="store_true", help="render the chapters already executed")
    p.add_argument("--only", nargs="*", help="execute only chapters whose name starts with these prefixes")
    p.add_argument("--jobs", type=int, default=1, help="chapters executed side by side (one thread each)")
    p.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="profile overrides passed to every chapter, e.g. chapters.05_dataset_ablations.train=false",
    )
    args = p.parse_args(argv)
    overrides = dict(_parse_override(item) for item in args.set)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    stage = (args.stage or default_stage(args.profile)).resolve()
    stage_sources(stage)
    if not args.no_execute:
        times = execute(args.profile, stage, args.only, overrides, jobs=args.jobs)
        from mlkd_utils.io import atomic_write_json
        from mlkd_utils.paths import results_dir

        timing = results_dir(args.profile) / "chapter_times.json"
        old = json.loads(timing.read_text()) if timing.is_file() else {}
        atomic_write_json(timing, {**old, **times})
        print("chapter wall times (s):", times)
    check_chapters(stage)
    html = build_html(stage)
    print(f"site: {html / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
