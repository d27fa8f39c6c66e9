"""Parallel ``english<TAB>other`` corpora: ``parallel/<source>/en-<xx>.tsv.gz`` under the data root."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlkd_utils.data.report import LoadReport
from mlkd_utils.data.text import iter_lines, split_columns
from mlkd_utils.errors import ConfigError, DataNotFoundError
from mlkd_utils.paths import data_root

#: Staged sources, their domain (for tables), and the hub copy a user online can use instead.
SOURCES: dict[str, dict[str, str]] = {
    "muse_dict": {"domain": "bilingual dictionary (words)", "hub": "muse"},
    "wmt_newstest": {"domain": "news", "hub": "news-commentary"},
    "tatoeba_challenge": {"domain": "short everyday sentences", "hub": "tatoeba"},
    "xnli_devtest": {"domain": "NLI premises and hypotheses", "hub": ""},
    "unpc_devtest": {"domain": "UN documents", "hub": ""},
    "multi30k": {"domain": "image captions", "hub": ""},
    "opennmt_wmt_sample": {"domain": "WMT training mix (tokenized)", "hub": ""},
    "iwslt17_ted_devtest": {"domain": "TED talks", "hub": "talks"},
    "tico19_test": {"domain": "COVID-19", "hub": ""},
    "ntrex128": {"domain": "news", "hub": ""},
    "flores101_devtest": {"domain": "Wikipedia", "hub": ""},
}


@dataclass
class ParallelCorpus:
    source: str
    lang: str
    english: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    report: LoadReport | None = None

    def __len__(self) -> int:
        return len(self.english)


def read_parallel_tsv(path: str | Path, source: str, lang: str, max_chars: int = 512) -> ParallelCorpus:
    """Parse a two-column file; empty sides, exact duplicates and over-long lines are skipped and counted."""
    path = Path(path)
    report = LoadReport(str(path))
    corpus = ParallelCorpus(source, lang, report=report)
    seen: set[tuple[str, str]] = set()
    for lineno, line in iter_lines(path):
        if line.endswith("\r"):
            report.repair("crlf_stripped")
            line = line[:-1]
        if not line.strip():
            report.drop("empty_line")
            continue
        en, xx = (c.strip() for c in split_columns(path, lineno, line, 2))
        if not en or not xx:
            report.drop("empty_side")
            continue
        if len(en) > max_chars or len(xx) > max_chars:
            report.drop("too_long")
            continue
        if (en, xx) in seen:
            report.drop("duplicate")
            continue
        seen.add((en, xx))
        corpus.english.append(en)
        corpus.other.append(xx)
    report.kept = len(corpus)
    report.finish()
    return corpus


def available_sources(lang: str, root: Path | None = None) -> list[str]:
    root = root or data_root()
    if root is None:
        return []
    return [s for s in SOURCES if (root / "parallel" / s / f"en-{lang}.tsv.gz").is_file()]


def load_parallel(source: str, lang: str, max_chars: int = 512) -> ParallelCorpus:
    """A staged corpus, or ``hub:<name>`` for ``sentence-transformers/parallel-sentences-<name>``.

    Without a data root, a staged source name falls back to its hub copy where one exists.
    """
    if source.startswith("hub:"):
        from mlkd_utils.data.hub import load_hub_parallel

        return load_hub_parallel(source[4:], lang, max_chars)
    if source not in SOURCES:
        raise ConfigError(f"unknown parallel source {source!r}; known: {sorted(SOURCES)} or hub:<name>")
    root = data_root()
    if root is None:
        hub = SOURCES[source]["hub"]
        if not hub:
            raise DataNotFoundError(f"no data root and no hub copy of {source!r}")
        from mlkd_utils.data.hub import load_hub_parallel

        return load_hub_parallel(hub, lang, max_chars)
    path = root / "parallel" / source / f"en-{lang}.tsv.gz"
    if not path.is_file():
        raise DataNotFoundError(f"{path}: {source} has no en-{lang} file (have: {available_sources(lang, root)})")
    return read_parallel_tsv(path, source, lang, max_chars)
