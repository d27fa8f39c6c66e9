"""Reading text files line by line with errors that name the file and the line."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

from mlkd_utils.errors import DataFormatError


def iter_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` with the newline removed; ``.gz`` files are decompressed.

    Undecodable bytes and truncated archives raise :class:`DataFormatError` with the line
    reached, instead of a bare ``UnicodeDecodeError`` far from the cause. A CR before the newline
    is kept so callers can count and strip it explicitly.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(path, None, "file not found")
    opener = gzip.open if path.suffix == ".gz" else open
    lineno = 0
    try:
        with opener(path, "rb") as fh:
            for lineno, raw in enumerate(fh, start=1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise DataFormatError(path, lineno, f"not valid UTF-8 ({exc.reason})") from exc
                yield lineno, text.rstrip("\n")
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataFormatError(path, lineno + 1, f"corrupt or truncated gzip file ({exc})") from exc


def iter_records(path: str | Path, report, empty: str = "skip") -> Iterator[tuple[int, str]]:
    """Content lines of a file: a CRLF ending is stripped and counted as a repair; an empty line
    is skipped and counted (``empty="skip"``) or, where lines are aligned across files, an error
    (``empty="error"``)."""
    for lineno, line in iter_lines(path):
        if line.endswith("\r"):
            report.repair("crlf_stripped")
            line = line[:-1]
        if not line.strip():
            if empty == "error":
                raise DataFormatError(path, lineno, "empty line in an aligned file")
            report.drop("empty_line")
            continue
        yield lineno, line


def split_columns(path: Path, lineno: int, line: str, expected: int) -> list[str]:
    cols = line.split("\t")
    if len(cols) != expected:
        raise DataFormatError(path, lineno, f"expected {expected} tab-separated columns, found {len(cols)}")
    return cols
