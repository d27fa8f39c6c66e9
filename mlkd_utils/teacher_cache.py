"""Teacher embeddings, computed once per (teacher, corpus) and kept on disk.

The teacher is frozen, so its embeddings of a corpus never change: encoding them again for every
student, seed and chapter would waste most of the CPU budget. Entries are ``.npy`` (no pickle)
with a JSON sidecar holding the shape and the sha256 of the array file; both are written
atomically and the hash is checked on read, so a truncated or corrupt entry is recomputed.

The cache stores the *raw* pooled embeddings (before any Normalize layer): normalised and
rescaled targets are derived from them cheaply, so one entry serves every target mode.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer

from mlkd_utils.encode import encode, resolve_bf16
from mlkd_utils.io import atomic_save_npy, atomic_write_json, file_sha256, stable_hash
from mlkd_utils.models import without_normalize
from mlkd_utils.paths import cache_dir

log = logging.getLogger(__name__)


class TeacherCache:
    def __init__(
        self,
        teacher: SentenceTransformer,
        teacher_id: str,
        root: Path | None = None,
        batch_size: int = 128,
        bf16: bool | str = "auto",
    ) -> None:
        self.teacher_raw = without_normalize(teacher)
        self.teacher_id = teacher_id
        self.root = (root or cache_dir()) / "teacher" / teacher_id
        self.batch_size = batch_size
        self.bf16 = resolve_bf16(bf16)
        self.hits = 0
        self.misses = 0

    def key(self, sentences: list[str]) -> str:
        return stable_hash({"sentences": sentences, "bf16": self.bf16}, length=16)

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.root / f"{key}.npy", self.root / f"{key}.json"

    def load(self, sentences: list[str]) -> np.ndarray | None:
        """The cached array if present and intact, else None (a bad entry is logged and ignored)."""
        npy, meta_path = self._paths(self.key(sentences))
        if not (npy.is_file() and meta_path.is_file()):
            return None
        try:
            meta = json.loads(meta_path.read_text())
            if file_sha256(npy) != meta["sha256"]:
                raise ValueError("sha256 mismatch")
            arr = np.load(npy, allow_pickle=False)
            if arr.shape != (len(sentences), meta["dim"]):
                raise ValueError(f"shape {arr.shape} != ({len(sentences)}, {meta['dim']})")
        except (ValueError, KeyError, OSError, json.JSONDecodeError) as exc:
            log.warning("teacher cache entry %s is corrupt (%s): recomputing", npy, exc)
            return None
        return arr

    def raw_embeddings(self, sentences: list[str], show_progress_bar: bool = True) -> np.ndarray:
        arr = self.load(sentences)
        if arr is not None:
            self.hits += 1
            return arr
        self.misses += 1
        arr = encode(self.teacher_raw, sentences, self.batch_size, self.bf16, show_progress_bar)
        npy, meta_path = self._paths(self.key(sentences))
        sha = atomic_save_npy(npy, arr)
        atomic_write_json(
            meta_path,
            {
                "sha256": sha,
                "n": len(sentences),
                "dim": int(arr.shape[1]),
                "teacher": self.teacher_id,
                "bf16": self.bf16,
            },
        )
        return arr


def make_targets(raw: np.ndarray, mode: str, scale: float = 1.0) -> np.ndarray:
    """Training targets from raw teacher embeddings, per the target mode of :class:`DistillConfig`."""
    if mode == "raw":
        return raw.astype(np.float32)
    unit = raw / np.linalg.norm(raw, axis=1, keepdims=True).clip(min=1e-12)
    if mode == "normalized":
        return unit.astype(np.float32)
    if mode == "scaled":
        return (unit * scale).astype(np.float32)
    raise ValueError(f"unknown target mode {mode!r}")
