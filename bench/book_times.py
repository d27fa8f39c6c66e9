"""The book's wall time per chapter and profile, from the ``chapter_times.json`` that
``python -m mlkd_utils.book`` writes next to each profile's results (the quick profile's, which
only CI runs, come from ``bench/ci_time.py``).

    python bench/book_times.py
"""

from __future__ import annotations

import json

from benchlib import write_bench
from mlkd_utils.paths import REPO_ROOT


def main() -> None:
    rows = []
    for path in sorted((REPO_ROOT / "results").glob("*/chapter_times.json")):
        if path.parent.name == "quick":  # CI's book: measured in a clean clone by bench/ci_time.py
            continue
        times = json.loads(path.read_text())
        rows += [{"profile": path.parent.name, "chapter": ch, "seconds": s} for ch, s in sorted(times.items())]
        rows.append({"profile": path.parent.name, "chapter": "all (one process)", "seconds": sum(times.values())})
    print("wrote", write_bench("book", rows))


if __name__ == "__main__":
    main()
