"""Render ``results/bench/*.csv`` into the book's performance page (``book/performance.md``) and
its figures: every number on the page comes from a CSV a benchmark script wrote.

    python bench/report.py
"""

from __future__ import annotations

from benchlib import bench_dir, render_report
from mlkd_utils.paths import REPO_ROOT


def main() -> None:
    page = REPO_ROOT / "book" / "performance.md"
    page.write_text(render_report(bench_dir(), REPO_ROOT / "book" / "figures"))
    print("wrote", page)


if __name__ == "__main__":
    main()
