"""STS 2017 (11 language pairs), the STS benchmark and its machine-translated copies."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from mlkd_utils.data.report import LoadReport
from mlkd_utils.data.text import iter_records, split_columns
from mlkd_utils.errors import ConfigError, DataFormatError
from mlkd_utils.paths import data_root

#: The 11 STS17 files, named as in the data root (``sentence1`` language first where it is fixed).
STS17_SUBSETS = [
    "en-en",
    "es-es",
    "ar-ar",
    "ar-en",
    "en-de",
    "tr-en",
    "es-en",
    "fr-en",
    "it-en",
    "nl-en",
    "es-en-wmt",
]
MONOLINGUAL = ["en-en", "es-es", "ar-ar"]
#: The cross-lingual files of the paper's Table 2 (es-en-wmt is not in the paper).
CROSSLINGUAL = ["ar-en", "en-de", "tr-en", "es-en", "fr-en", "it-en", "nl-en"]

#: Our subset name -> config of the hub copy ``mteb/sts17-crosslingual-sts``.
_HUB_STS17 = {
    "en-en": "en-en",
    "es-es": "es-es",
    "ar-ar": "ar-ar",
    "ar-en": "en-ar",
    "en-de": "en-de",
    "tr-en": "en-tr",
    "es-en": "es-en",
    "fr-en": "fr-en",
    "it-en": "it-en",
    "nl-en": "nl-en",
}


@dataclass
class STSData:
    subset: str
    sentences1: list[str]
    sentences2: list[str]
    scores: list[float]
    source: str

    def __len__(self) -> int:
        return len(self.scores)


def read_sts_tsv(path: str | Path, subset: str | None = None, with_genre: bool = False) -> STSData:
    """Parse ``score<TAB>sentence1<TAB>sentence2[<TAB>genre]`` with a header line.

    Scores must lie in [0, 5]. Empty lines are skipped and counted; anything else malformed is an
    error naming the line.
    """
    path = Path(path)
    ncols = 4 if with_genre else 3
    report = LoadReport(str(path))
    s1: list[str] = []
    s2: list[str] = []
    scores: list[float] = []
    saw_header = False
    for lineno, line in iter_records(path, report):
        if not saw_header:
            header = line.split("\t")
            if header[:3] != ["score", "sentence1", "sentence2"]:
                raise DataFormatError(
                    path, lineno, f"expected header 'score<TAB>sentence1<TAB>sentence2', got {line[:80]!r}"
                )
            saw_header = True
            continue
        cols = split_columns(path, lineno, line, ncols)
        try:
            score = float(cols[0])
        except ValueError as exc:
            raise DataFormatError(path, lineno, f"score {cols[0]!r} is not a number") from exc
        if not (0.0 <= score <= 5.0) or math.isnan(score):
            raise DataFormatError(path, lineno, f"score {score} outside [0, 5]")
        if not cols[1].strip() or not cols[2].strip():
            raise DataFormatError(path, lineno, "empty sentence")
        scores.append(score)
        s1.append(cols[1])
        s2.append(cols[2])
    if not saw_header:
        raise DataFormatError(path, None, "empty file (no header)")
    report.kept = len(scores)
    report.finish()
    return STSData(subset or path.stem, s1, s2, scores, str(path))


def load_sts17(subset: str) -> STSData:
    """One STS17 test file from the data root, else from the hub copy (``mteb/sts17-crosslingual-sts``)."""
    if subset not in STS17_SUBSETS:
        raise ConfigError(f"unknown STS17 subset {subset!r}; known: {STS17_SUBSETS}")
    root = data_root()
    if root is not None:
        return read_sts_tsv(root / "sts17" / f"{subset}.tsv", subset)
    from mlkd_utils.data.hub import load_hub_sts17

    if subset not in _HUB_STS17:
        raise ConfigError(f"STS17 subset {subset!r} has no hub copy; use the staged data root")
    return load_hub_sts17(subset, _HUB_STS17[subset])


def load_stsb(split: str = "train", lang: str = "en") -> STSData:
    """The STS benchmark (English) or its DeepL translation (``stsb_multi_mt``, machine-translated)."""
    if split not in {"train", "dev", "test"}:
        raise ConfigError(f"unknown STSb split {split!r}")
    root = data_root(required=True)
    if lang == "en":
        return read_sts_tsv(root / "stsb" / f"{split}.tsv", f"stsb-{split}", with_genre=True)
    return read_sts_tsv(root / "stsb_multi_mt" / f"{lang}-{split}.tsv", f"stsb_mt-{lang}-{split}")
