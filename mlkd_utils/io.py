"""Atomic writes and content hashes: a killed run never leaves half a file that looks whole."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


def stable_hash(obj: Any, length: int = 12) -> str:
    """Hash of a JSON-able object, independent of dict order: the key of caches and runs."""
    blob = json.dumps(obj, sort_keys=True, default=str, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:length]


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def atomic_save_npy(path: str | Path, array: np.ndarray) -> str:
    """Write an array without pickle and return the sha256 of the bytes written."""
    import io

    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    data = buf.getvalue()
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def check_writable(directory: str | Path, min_free_bytes: int = 0) -> Path:
    """Fail before hours of training if the output folder cannot be written or its disk is (nearly)
    full: a run that dies at its first checkpoint wastes the time spent before it."""
    import shutil

    from mlkd_utils.errors import MLKDError

    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".write-probe"
        probe.write_bytes(b"ok")
        probe.unlink()
        free = shutil.disk_usage(directory).free
    except OSError as exc:
        raise MLKDError(f"output directory {directory} is not writable: {exc}") from exc
    if free < min_free_bytes:
        raise MLKDError(
            f"output directory {directory} has {free / 2**20:.0f} MiB free, this run needs about "
            f"{min_free_bytes / 2**20:.0f} MiB (checkpoints and caches): free space or set MLKD_RUNS_DIR"
        )
    return directory


@contextlib.contextmanager
def locked(path: str | Path) -> Iterator[None]:
    """An exclusive lock on ``<path>.lock`` for a read-modify-write of ``path``: two worker processes
    (or a worker and a notebook) adding rows to one results file must not drop each other's rows."""
    import fcntl

    lock = Path(path).with_name(Path(path).name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def held_elsewhere(path: str | Path) -> bool:
    """True while another process holds :func:`locked` on ``path`` (asked without waiting)."""
    import fcntl

    lock = Path(path).with_name(Path(path).name + ".lock")
    if not lock.is_file():
        return False
    with open(lock, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
    return False


def write_checked(path: str | Path, data: bytes) -> None:
    """Write ``data`` atomically with a ``<name>.sha256`` sidecar, so :func:`read_checked` can tell a
    whole file from a damaged one."""
    path = Path(path)
    atomic_write_bytes(path, data)
    atomic_write_text(path.with_name(path.name + ".sha256"), hashlib.sha256(data).hexdigest() + "\n")


def read_checked(path: str | Path) -> bytes | None:
    """The file's bytes if it matches its sidecar; None if missing or damaged (the caller recomputes).
    A file without a sidecar (written before sidecars existed) is returned as ``None`` only when
    ``path`` itself is missing; the caller validates its content."""
    import logging

    path = Path(path)
    if not path.is_file():
        return None
    data = path.read_bytes()
    sidecar = path.with_name(path.name + ".sha256")
    if sidecar.is_file() and sidecar.read_text().strip() != hashlib.sha256(data).hexdigest():
        logging.getLogger(__name__).warning("%s does not match its sha256: ignored, recomputing", path)
        return None
    return data
