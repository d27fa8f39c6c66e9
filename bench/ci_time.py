"""CI's wall time, measured the way CI runs: a clean clone of HEAD beside the data, ``.ci/run``.

The clone goes next to this checkout (``../ci-bench``) so the default data root (``../shared/data``)
resolves as in CI. Parts are timed from the lines ``make`` echoes (install until ``ruff``, then
``ruff``, then ``pytest``); the quick-profile chapters' times come from the book test's results
folder (pytest's ``--basetemp`` set through ``PYTEST_ADDOPTS``), the slowest tests from
``--durations``. Run it on a quiet machine: CI's budget is what it measures.

    python bench/ci_time.py [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import write_bench
from mlkd_utils.paths import REPO_ROOT

#: ``make test`` echoes these before running them: the end of install, then of lint.
MARKS = {"lint": re.compile(r"-m ruff check"), "pytest": re.compile(r"-m pytest")}
DURATION = re.compile(r"^\s*([\d.]+)s (call|setup|teardown)\s+(\S+)")


def run_ci(clone: Path, basetemp: Path, log: Path) -> tuple[int, dict[str, float], list[str]]:
    """Run ``.ci/run`` in ``clone``; (exit code, seconds at which each mark appeared and the end, lines)."""
    env = {**os.environ, "CI": "true", "PYTEST_ADDOPTS": f"--basetemp={basetemp}"}
    for var in ("MLKD_RESULTS_DIR", "MLKD_RUNS_DIR", "MLKD_CACHE_DIR", "VIRTUAL_ENV"):
        env.pop(var, None)  # CI starts from nothing
    t0 = time.perf_counter()
    seen: dict[str, float] = {}
    lines: list[str] = []
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            ["bash", ".ci/run"], cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            fh.write(line)
            lines.append(line.rstrip("\n"))
            for mark, pattern in MARKS.items():
                if mark not in seen and pattern.search(line):
                    seen[mark] = time.perf_counter() - t0
                    print(f"[{seen[mark]:6.0f} s] {mark} starts", flush=True)
        rc = proc.wait()
    seen["end"] = time.perf_counter() - t0
    return rc, seen, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the clone and pytest's folder afterwards")
    args = parser.parse_args(argv)
    clone = REPO_ROOT.parent / "ci-bench"
    shutil.rmtree(clone, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", str(REPO_ROOT), str(clone)], check=True)
    basetemp = Path(tempfile.mkdtemp(prefix="ci-bench-pytest-"))
    log = REPO_ROOT / "logs" / "ci_time.log"
    log.parent.mkdir(exist_ok=True)
    print(f"clone {clone}, log {log}", flush=True)
    rc, seen, lines = run_ci(clone, basetemp, log)

    summary = next((ln for ln in reversed(lines) if re.search(r"\d+ (passed|failed)", ln)), "no pytest summary")
    install = seen.get("lint", seen["end"])
    rows = [
        {"step": "install (venv, torch CPU wheel, the package with [book,test])", "seconds": install, "detail": ""},
        {"step": "lint (ruff)", "seconds": seen.get("pytest", seen["end"]) - install, "detail": ""},
        {
            "step": "pytest (unit tests and the quick-profile book)",
            "seconds": seen["end"] - seen.get("pytest", install),
            "detail": summary.strip("= "),
        },
        {"step": "all of .ci/run", "seconds": seen["end"], "detail": f"exit code {rc}"},
    ]
    times = sorted(basetemp.glob("out*/results/quick/chapter_times.json"))
    for chapter, s in json.loads(times[0].read_text()).items() if times else []:
        rows.append({"step": f"quick book: {chapter}", "seconds": s, "detail": "papermill, 2 chapters at a time"})
    durations = [m.groups() for m in map(DURATION.match, lines) if m]
    for seconds, phase, test in sorted(durations, key=lambda d: -float(d[0]))[:5]:
        rows.append({"step": f"slowest test: {test.split('::')[-1]}", "seconds": float(seconds), "detail": phase})
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True).stdout.strip()
    print("wrote", write_bench("ci", [{**r, "git_commit": commit} for r in rows]))
    for r in rows:
        print(f"{r['seconds']:8.1f} s  {r['step']}  {r['detail']}")
    if not args.keep:
        shutil.rmtree(clone, ignore_errors=True)
        shutil.rmtree(basetemp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
