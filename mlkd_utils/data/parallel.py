"""Parallel ``english<TAB>other`` corpora: ``parallel/<source>/en-<xx>.tsv.gz`` under the data root."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlkd_utils.data.report import LoadReport
from mlkd_utils.data.text import iter_records, split_columns
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
    pairs = PairFilter(corpus, max_chars)
    for lineno, line in iter_records(path, report):
        en, xx = split_columns(path, lineno, line, 2)
        pairs.add(en, xx)
    return pairs.finish()


class PairFilter:
    """The one rule for which pairs a corpus keeps, shared by the local and the hub loaders:
    both sides non-empty, neither over ``max_chars``, no exact duplicate. Each skip is counted."""

    def __init__(self, corpus: ParallelCorpus, max_chars: int) -> None:
        self.corpus = corpus
        self.max_chars = max_chars
        self.seen: set[tuple[str, str]] = set()

    def add(self, en: str | None, xx: str | None) -> None:
        en, xx = (en or "").strip(), (xx or "").strip()
        report = self.corpus.report
        if not en or not xx:
            report.drop("empty_side")
        elif len(en) > self.max_chars or len(xx) > self.max_chars:
            report.drop("too_long")
        elif (en, xx) in self.seen:
            report.drop("duplicate")
        else:
            self.seen.add((en, xx))
            self.corpus.english.append(en)
            self.corpus.other.append(xx)

    def finish(self) -> ParallelCorpus:
        self.corpus.report.kept = len(self.corpus)
        self.corpus.report.finish()
        return self.corpus


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
