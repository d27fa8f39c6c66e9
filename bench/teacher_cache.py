"""Teacher-embedding cache: the second request for the same (teacher, sentences) costs no encoding.

Times a cold request (encodes and writes the cache), then a warm one in a fresh ``TeacherCache``
(as a later run or chapter would make it), and checks that both return the same array.

    python bench/teacher_cache.py [--sentences 2000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from benchlib import mixed_pairs, write_bench
from mlkd_utils.models import load_sentence_model, model_fingerprint
from mlkd_utils.teacher_cache import TeacherCache


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=2000)
    args = parser.parse_args(argv)
    teacher = load_sentence_model("all-MiniLM-L6-v2")
    sentences = [e for e, _ in mixed_pairs(args.sentences, seed=2)]
    root = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    rows, arrays = [], []
    for request in ("first (cold: encodes)", "second (warm, fresh cache object)"):
        cache = TeacherCache(teacher, model_fingerprint("all-MiniLM-L6-v2"), root=root)
        t0 = time.perf_counter()
        arrays.append(cache.raw_embeddings(sentences, show_progress_bar=False))
        rows.append({"request": request, "seconds": time.perf_counter() - t0, "hits": cache.hits})
    for r in rows:
        r.update(
            {
                "speedup": rows[0]["seconds"] / r["seconds"],
                "sentences": len(sentences),
                "identical": bool(np.array_equal(arrays[0], arrays[-1])),
            }
        )
        print(r)
    print("wrote", write_bench("teacher_cache", rows))


if __name__ == "__main__":
    main()
