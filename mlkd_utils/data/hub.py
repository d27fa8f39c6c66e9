"""The Hugging Face hub copies, for users who are online and have no staged data root.

Each function maps the hub's columns onto the same objects the local loaders return. Offline, the
hub raises deep inside ``datasets``; we turn that into one :class:`DataNotFoundError` that says
what was tried and how to fix it.
"""

from __future__ import annotations

from typing import Any

from mlkd_utils.errors import DataNotFoundError


def _load(repo: str, config: str | None, split: str) -> Any:
    import datasets

    try:
        return datasets.load_dataset(repo, config, split=split)
    except Exception as exc:  # noqa: BLE001 - datasets raises many types when offline
        raise DataNotFoundError(
            f"could not load {repo!r} (config {config!r}, split {split!r}) from the hub: "
            f"{type(exc).__name__}: {exc}. Offline? Set MLKD_DATA_ROOT to the staged data "
            "(see README: Data)."
        ) from exc


def load_hub_sts17(subset: str, config: str):
    from mlkd_utils.data.sts import STSData

    ds = _load("mteb/sts17-crosslingual-sts", config, "test")
    return STSData(
        subset,
        list(ds["sentence1"]),
        list(ds["sentence2"]),
        [float(s) for s in ds["score"]],
        f"hub:mteb/sts17-crosslingual-sts/{config}",
    )


def load_hub_tatoeba(code: str):
    from mlkd_utils.data.tatoeba import TatoebaPair

    ds = _load("mteb/tatoeba-bitext-mining", f"{code}-eng", "test")
    return TatoebaPair(code, list(ds["sentence1"]), list(ds["sentence2"]))


def load_hub_parallel(name: str, lang: str, max_chars: int = 512):
    """``sentence-transformers/parallel-sentences-<name>``, config ``en-<lang>``, filtered like local files."""
    from mlkd_utils.data.parallel import PairFilter, ParallelCorpus
    from mlkd_utils.data.report import LoadReport

    repo = f"sentence-transformers/parallel-sentences-{name}"
    ds = _load(repo, f"en-{lang}", "train")
    corpus = ParallelCorpus(f"hub:{name}", lang, report=LoadReport(f"hub:{repo}/en-{lang}"))
    pairs = PairFilter(corpus, max_chars)
    for en, xx in zip(ds["english"], ds["non_english"]):
        pairs.add(en, xx)
    return pairs.finish()
