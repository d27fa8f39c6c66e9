"""LASER's Tatoeba test set: ``tatoeba.<xxx>-eng.<xxx>`` and ``.eng``, aligned by line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlkd_utils.config import TATOEBA_CODES
from mlkd_utils.data.report import LoadReport
from mlkd_utils.data.text import iter_records
from mlkd_utils.errors import ConfigError, DataFormatError
from mlkd_utils.paths import data_root


@dataclass
class TatoebaPair:
    lang: str  # ISO 639-3, as in the file names
    source: list[str]
    english: list[str]


def tatoeba_code(lang: str) -> str:
    """Accept ``de`` or ``deu``; return the three-letter code of the file names."""
    if lang in TATOEBA_CODES:
        return TATOEBA_CODES[lang]
    if len(lang) == 3:
        return lang
    raise ConfigError(f"unknown Tatoeba language {lang!r}")


def tatoeba_languages(root: Path | None = None) -> list[str]:
    """All three-letter codes with both files present (112 in the staged set)."""
    root = root or data_root(required=True)
    return sorted(p.name.split(".")[1].split("-")[0] for p in (root / "tatoeba").glob("tatoeba.*-eng.eng"))


def read_tatoeba(src_path: str | Path, eng_path: str | Path, lang: str) -> TatoebaPair:
    """Read both sides; the line counts must match, since line i of one is the translation of the other.

    Empty lines cannot be dropped without breaking the alignment, so they are an error.
    """
    src_path, eng_path = Path(src_path), Path(eng_path)
    report = LoadReport(f"{src_path} + {eng_path.name}")
    sides = []
    for path in (src_path, eng_path):
        sides.append([line for _, line in iter_records(path, report, empty="error")])
    if len(sides[0]) != len(sides[1]):
        raise DataFormatError(
            src_path, None, f"{len(sides[0])} lines but {eng_path.name} has {len(sides[1])}: sides not aligned"
        )
    report.kept = len(sides[0])
    report.finish()
    return TatoebaPair(lang, sides[0], sides[1])


def load_tatoeba(lang: str, max_sentences: int | None = None) -> TatoebaPair:
    """One language of the Tatoeba test set, from the data root or the hub (``mteb/tatoeba-bitext-mining``)."""
    code = tatoeba_code(lang)
    root = data_root()
    if root is None:
        from mlkd_utils.data.hub import load_hub_tatoeba

        pair = load_hub_tatoeba(code)
    else:
        base = root / "tatoeba" / f"tatoeba.{code}-eng"
        pair = read_tatoeba(f"{base}.{code}", f"{base}.eng", code)
    if max_sentences is not None:
        pair = TatoebaPair(code, pair.source[:max_sentences], pair.english[:max_sentences])
    return pair
