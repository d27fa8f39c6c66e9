"""Shared fixtures: isolated output folders, a tiny data root made by the tests, the real teacher."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(autouse=True)
def isolated_outputs(tmp_path, monkeypatch):
    """No test writes into the repository's results, runs or cache."""
    monkeypatch.setenv("MLKD_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("MLKD_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("MLKD_CACHE_DIR", str(tmp_path / "cache"))
    from mlkd_utils.data import report

    report.REPORTS.clear()
    return tmp_path


def real_data_root() -> Path | None:
    env = os.environ.get("MLKD_DATA_ROOT")
    root = Path(env) if env and env != "hub" else REAL_DATA
    return root if root.is_dir() else None


needs_real_data = pytest.mark.skipif(real_data_root() is None, reason="staged data root not present")

ANIMALS = ["cat", "dog", "bird", "horse", "fish", "cow", "mouse", "sheep"]
TIERE = ["Katze", "Hund", "Vogel", "Pferd", "Fisch", "Kuh", "Maus", "Schaf"]
VERBS = [("sleeps", "schläft"), ("runs", "rennt"), ("eats", "frisst"), ("plays", "spielt")]


def tiny_pairs(n: int) -> list[tuple[str, str]]:
    out = []
    for i in range(n):
        a, t = ANIMALS[i % 8], TIERE[i % 8]
        v, vd = VERBS[(i // 8) % 4]
        out.append((f"The {a} number {i} {v} in the garden.", f"Die {t} Nummer {i} {vd} im Garten."))
    return out


def write_gz(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("".join(line + "\n" for line in lines))


@pytest.fixture
def tiny_root(tmp_path, monkeypatch) -> Path:
    """A data root in the staged layout with a few made-up files, set as MLKD_DATA_ROOT."""
    from mlkd_utils.data.sts import STS17_SUBSETS

    root = tmp_path / "data"
    pairs = tiny_pairs(200)
    for subset in STS17_SUBSETS:
        rows = ["score\tsentence1\tsentence2"]
        for i in range(20):
            en, de = pairs[i]
            other = pairs[(i * 7 + 3) % 200][1]
            rows.append(f"{(i % 6) * 0.9:.1f}\t{en}\t{de if i % 2 else other}")
        (root / "sts17").mkdir(parents=True, exist_ok=True)
        (root / "sts17" / f"{subset}.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (root / "tatoeba").mkdir(parents=True)
    for code in ("deu", "ara", "cmn", "spa", "fra", "ita", "nld", "rus", "tur"):
        (root / "tatoeba" / f"tatoeba.{code}-eng.{code}").write_text("".join(d + "\n" for _, d in pairs[:30]))
        (root / "tatoeba" / f"tatoeba.{code}-eng.eng").write_text("".join(e + "\n" for e, _ in pairs[:30]))
    write_gz(root / "parallel" / "tatoeba_challenge" / "en-de.tsv.gz", [f"{e}\t{d}" for e, d in pairs[:150]])
    write_gz(root / "parallel" / "xnli_devtest" / "en-de.tsv.gz", [f"{e}\t{d}" for e, d in pairs[150:]])
    monkeypatch.setenv("MLKD_DATA_ROOT", str(root))
    return root


@pytest.fixture(scope="session")
def teacher():
    from mlkd_utils.models import load_sentence_model

    return load_sentence_model("all-MiniLM-L6-v2")
