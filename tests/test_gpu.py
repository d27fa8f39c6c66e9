"""The gpu profile's path, on CPU at a tiny size: bundle (capped pairs, trimmed e5, trimmed int8
teacher) and the device step (unpack, convert, distil, score, archive)."""

from __future__ import annotations

import tarfile

import numpy as np
import pandas as pd
import pytest

from conftest import needs_real_data


def test_int8_and_trimmed_teacher_embed_like_the_teacher(tmp_path, teacher):
    from mlkd_utils.models import int8, load_sentence_model, resolve_model_path
    from mlkd_utils.models.wordpiece_trim import trim_wordpiece_model

    texts = ["A man is playing a guitar.", "Ein Mann spielt Gitarre.", "一个男人在弹吉他。", "The cat sleeps."]
    sizes = trim_wordpiece_model(resolve_model_path("all-MiniLM-L6-v2"), tmp_path / "trim", texts)
    assert sizes["kept"] < sizes["vocabulary"] / 10
    trimmed = load_sentence_model(str(tmp_path / "trim"))
    assert np.allclose(trimmed.encode(texts), teacher.encode(texts), atol=1e-5)  # same pieces, same rows
    int8.pack(tmp_path / "trim", tmp_path / "packed")
    assert not (tmp_path / "packed" / "model.safetensors").exists()
    packed = load_sentence_model(str(int8.unpack(tmp_path / "packed")))
    a, b = packed.encode(texts), teacher.encode(texts)
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() > 0.995, cos
    assert int8.unpack(tmp_path / "packed")  # idempotent


@needs_real_data
@pytest.mark.slow
def test_bundle_then_device_on_cpu(tmp_path, monkeypatch):
    from conftest import real_data_root
    from mlkd_utils import gpu
    from mlkd_utils.config import load_profile

    monkeypatch.setenv("MLKD_DATA_ROOT", str(real_data_root()))
    tiny = {
        "gpu.pairs_per_source": 30,
        "gpu.budget_mib": 200,
        "sts17_max_pairs": 20,
        "encode_batch_size": 32,
        "bf16_inference": False,
        "distill.bf16": False,
        "distill.corpora": ["tatoeba_challenge", "xnli_devtest"],
        "students.student-e5-10lang.languages": ["de"],
        "students.student-e5-10lang.dev_stsb": ["en-en", "en-de"],
        "students.student-e5-10lang.max_steps": 2,
        "students.student-e5-10lang.eval_steps": 2,
        "students.student-e5-10lang.save_steps": 2,
        "students.student-e5-10lang.batch_size": 8,
        "distill.dev_pairs": 16,
    }
    manifest = gpu.bundle(load_profile("gpu", tiny), tmp_path / "bundle", wheels=False)
    assert manifest["pairs_per_source"] == 30 and manifest["total_mib"] < 64
    assert {"data", "e5", "teacher"} <= set(manifest["parts_mib"])
    archive = gpu.device("gpu", tmp_path / "out", tmp_path / "bundle", overrides=tiny)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        metrics = pd.read_csv(tar.extractfile("results/gpu/metrics.csv"))
    assert any(n.endswith("train_log.csv") for n in names)
    assert {"teacher", "multilingual-e5-small", "student-e5-10lang"} <= set(metrics.model)
    assert metrics[metrics.model == "student-e5-10lang"].subset.nunique() == 11
