"""The hub loaders, exercised on local data (no network here), and their offline error."""

import datasets
import pytest

from conftest import needs_real_data, real_data_root
from mlkd_utils.data import load_parallel, load_sts17, read_parallel_tsv, read_sts_tsv
from mlkd_utils.errors import DataNotFoundError


@pytest.fixture
def fake_hub(monkeypatch):
    """Serve hub requests from the staged files, in the hub's column layout; record what was asked."""
    calls = []
    root = real_data_root()
    local_sts = {"en-ar": "ar-en", "en-tr": "tr-en"}

    def load_dataset(repo, config=None, split=None, **kw):
        calls.append((repo, config, split))
        if repo == "mteb/sts17-crosslingual-sts":
            d = read_sts_tsv(root / "sts17" / f"{local_sts.get(config, config)}.tsv")
            return datasets.Dataset.from_dict({"sentence1": d.sentences1, "sentence2": d.sentences2, "score": d.scores})
        if repo.startswith("sentence-transformers/parallel-sentences-"):
            c = read_parallel_tsv(root / "parallel" / "tatoeba_challenge" / f"{config}.tsv.gz", "t", config[3:])
            return datasets.Dataset.from_dict({"english": c.english + [""], "non_english": c.other + ["x"]})
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    monkeypatch.setenv("MLKD_DATA_ROOT", "hub")
    return calls


@needs_real_data
def test_hub_sts17_maps_names_and_columns(fake_hub, monkeypatch):
    hub = load_sts17("ar-en")
    assert fake_hub[-1] == ("mteb/sts17-crosslingual-sts", "en-ar", "test")
    monkeypatch.setenv("MLKD_DATA_ROOT", str(real_data_root()))
    local = load_sts17("ar-en")
    assert hub.scores == local.scores and hub.sentences1 == local.sentences1


@needs_real_data
def test_hub_parallel_filters_like_the_local_loader(fake_hub):
    corpus = load_parallel("tatoeba_challenge", "de")
    assert fake_hub[-1] == ("sentence-transformers/parallel-sentences-tatoeba", "en-de", "train")
    assert corpus.report.dropped["empty_side"] == 1
    assert len(corpus) > 15000


def test_offline_without_data_root_gives_one_clear_error(monkeypatch):
    monkeypatch.setenv("MLKD_DATA_ROOT", "hub")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(DataNotFoundError, match="mteb/sts17-crosslingual-sts.*Offline\\? Set MLKD_DATA_ROOT"):
        load_sts17("en-de")
