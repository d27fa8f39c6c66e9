"""The one training entry point runs data-parallel under torchrun: two CPU processes over gloo
train one run together, with the same run key (the same recipe) as a single process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_distill import TINY

from mlkd_utils.config import load_profile
from mlkd_utils.distill import distill
from mlkd_utils.encode import encode

SCRIPT = """
import json, pathlib, sys
from mlkd_utils.config import load_profile
from mlkd_utils.distill import distill
profile = load_profile("quick", json.loads(sys.argv[1]))
distill(profile, "student-en-de", 3, output_root=pathlib.Path(sys.argv[2]))
"""


@pytest.mark.slow
def test_two_torchrun_processes_train_one_run_with_the_single_process_key(tiny_root, tmp_path):
    steps = {**TINY, "distill.eval_steps": 4, "distill.save_steps": 4}
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    torchrun = Path(sys.executable).with_name("torchrun")
    proc = subprocess.run(
        [str(torchrun), "--standalone", "--nproc_per_node=2", str(script), json.dumps(steps), str(tmp_path / "ddp")],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (done,) = (tmp_path / "ddp").glob("*/done.json")
    info = json.loads(done.read_text())
    assert info["processes"] == 2
    log = pd.read_csv(done.parent / "train_log.csv")
    losses = log.dropna(subset=["loss"])
    assert losses.step.tolist() == [1, 2, 3, 4]  # logged once, by rank 0
    # 64 pairs, global batch 8 split 4 + 4: four steps are half an epoch (not a whole one, as two
    # processes each taking a batch of 8 would make it)
    assert losses.epoch.iloc[-1] == pytest.approx(0.5)
    assert np.isfinite(losses.loss).all()

    single = distill(load_profile("quick", steps), "student-en-de", 3, output_root=tmp_path / "single")
    assert single.run_dir.name == done.parent.name and single.info["processes"] == 1
    emb = encode(
        distill(load_profile("quick", steps), "student-en-de", 3, output_root=tmp_path / "ddp").load_model(),
        ["Die Katze schläft.", "The cat sleeps."],
        bf16=False,
    )
    assert np.isfinite(emb).all() and float(emb[0] @ emb[1]) > 0.5
