"""BUCC 2018 bitext mining files: ``<lang>-<id><TAB>sentence`` and gold ``<xx-id><TAB><en-id>``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlkd_utils.data.report import LoadReport
from mlkd_utils.data.text import iter_records, split_columns
from mlkd_utils.errors import DataFormatError
from mlkd_utils.paths import data_root


@dataclass
class BUCCData:
    pair: str
    source: dict[str, str]  # id -> sentence, the non-English side
    english: dict[str, str]
    gold: list[tuple[str, str]]


def read_bucc_sentences(path: str | Path) -> dict[str, str]:
    path = Path(path)
    out: dict[str, str] = {}
    report = LoadReport(str(path))
    for lineno, line in iter_records(path, report):
        sid, sentence = split_columns(path, lineno, line, 2)
        if sid in out:
            raise DataFormatError(path, lineno, f"duplicate id {sid!r}")
        if not sentence.strip():
            raise DataFormatError(path, lineno, f"empty sentence for id {sid!r}")
        out[sid] = sentence
    report.kept = len(out)
    report.finish()
    return out


def read_bucc(src_path: str | Path, en_path: str | Path, gold_path: str | Path, pair: str) -> BUCCData:
    source = read_bucc_sentences(src_path)
    english = read_bucc_sentences(en_path)
    gold: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    gold_path = Path(gold_path)
    gold_report = LoadReport(str(gold_path))
    for lineno, line in iter_records(gold_path, gold_report):
        sid, eid = split_columns(gold_path, lineno, line, 2)
        if sid not in source:
            raise DataFormatError(gold_path, lineno, f"gold id {sid!r} not in {Path(src_path).name}")
        if eid not in english:
            raise DataFormatError(gold_path, lineno, f"gold id {eid!r} not in {Path(en_path).name}")
        if (sid, eid) in seen:
            raise DataFormatError(gold_path, lineno, f"duplicate gold pair {sid} {eid}")
        seen.add((sid, eid))
        gold.append((sid, eid))
    gold_report.kept = len(gold)
    gold_report.finish()
    return BUCCData(pair, source, english, gold)


def load_bucc(pair: str = "zh-en", split: str = "sample", root: Path | None = None) -> BUCCData:
    """Official-layout BUCC files: ``<root>/bucc2018/<pair>/<pair>.<split>.{xx,en,gold}``."""
    root = root or data_root(required=True)
    xx = pair.split("-")[0]
    base = root / "bucc2018" / pair / f"{pair}.{split}"
    return read_bucc(f"{base}.{xx}", f"{base}.en", f"{base}.gold", pair)
