"""A run killed with SIGKILL resumes from its last checkpoint and ends where an uninterrupted run
ends; the same config and seed give the same numbers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from test_distill import TINY

from mlkd_utils.config import load_profile
from mlkd_utils.distill import distill
from mlkd_utils.encode import encode

STEPS = {**TINY, "distill.max_steps": 12, "distill.save_steps": 2, "distill.eval_steps": 6}
PROBE = ["The cat sleeps in the garden.", "Die Katze schläft im Garten.", "A dog runs."]
#: Resuming restores weights, optimiser, scheduler, RNG and data order; what remains is float
#: summation order in a fresh process. Embeddings must agree to this absolute tolerance.
ATOL = 1e-4


def _embeddings(result) -> np.ndarray:
    return encode(result.load_model(), PROBE, bf16=False)


@pytest.mark.slow
def test_sigkilled_run_resumes_and_matches_an_uninterrupted_one(tiny_root, tmp_path):
    prof = load_profile("quick", STEPS)
    reference = distill(prof, "student-en-de", seed=3, output_root=tmp_path / "ref")

    killed_root = tmp_path / "killed"
    code = (
        "import json, pathlib, sys\n"
        "from mlkd_utils.config import load_profile\n"
        "from mlkd_utils.distill import distill\n"
        "profile = load_profile('quick', json.loads(sys.argv[1]))\n"
        "distill(profile, 'student-en-de', 3, output_root=pathlib.Path(sys.argv[2]))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, json.dumps(STEPS), str(killed_root)], env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    deadline = time.time() + 600
    checkpoint = None
    while time.time() < deadline and proc.poll() is None:
        found = sorted(killed_root.glob("*/checkpoints/checkpoint-4"))
        if found:
            checkpoint = found[0]
            break
        time.sleep(0.2)
    assert checkpoint is not None, "the training subprocess never reached its checkpoint at step 4"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    run_dir = checkpoint.parents[1]
    assert not (run_dir / "done.json").exists(), "the run finished before it could be killed"

    resumed = distill(prof, "student-en-de", seed=3, output_root=killed_root)
    assert resumed.info["resumed_from"] is not None and resumed.info["resumed_from"] != "checkpoint-12"
    assert resumed.log.dropna(subset=["loss"]).step.tolist() == list(range(1, 13))  # no step lost or doubled
    np.testing.assert_allclose(_embeddings(resumed), _embeddings(reference), atol=ATOL)
    final = resumed.log.eval_loss.dropna().iloc[-1]
    assert final == pytest.approx(reference.log.eval_loss.dropna().iloc[-1], rel=1e-3)


@pytest.mark.slow
def test_same_config_and_seed_give_the_same_metrics(tiny_root, tmp_path):
    prof = load_profile("quick", {**TINY, "distill.max_steps": 3})
    a = distill(prof, "student-en-de", seed=5, output_root=tmp_path / "a")
    b = distill(prof, "student-en-de", seed=5, output_root=tmp_path / "b")
    cols = ["loss", "eval_loss", "eval_sts17-en-de_spearman_cosine"]
    for col in cols:  # the same process, the same data order: equal to float precision
        np.testing.assert_allclose(a.log[col].dropna().to_numpy(), b.log[col].dropna().to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(_embeddings(a), _embeddings(b), atol=1e-6)
    c = distill(prof, "student-en-de", seed=6, output_root=tmp_path / "c")
    assert not np.allclose(_embeddings(a), _embeddings(c), atol=1e-6)  # the seed matters


@pytest.mark.slow
@pytest.mark.parametrize("force", [False, True])
def test_two_processes_asking_for_one_run_train_it_once(tiny_root, tmp_path, force):
    """Two chapters executed side by side may ask for the same student: the second waits on the
    run's lock and reuses the first one's result instead of training the same folder at once. The
    same holds for a forced retrain (weights lost with a machine): two jobs retraining one run
    train it once."""
    code = (
        "import json, logging, pathlib, sys\n"
        "from mlkd_utils.config import load_profile\n"
        "from mlkd_utils.distill import distill\n"
        "logging.basicConfig(level=logging.INFO)\n"
        "prof = load_profile('quick', json.loads(sys.argv[1]))\n"
        "r = distill(prof, 'student-en-de', 4, output_root=pathlib.Path(sys.argv[2]), force=sys.argv[3] == 'True')\n"
        "print(json.dumps({'run': r.run_dir.name, 'train_seconds': r.info['train_seconds']}))"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, json.dumps(TINY), str(tmp_path / "runs"), str(force)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outs]
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    # One training: both report the same run and the same (single) training time.
    assert results[0] == results[1]
    assert sum("finished by another process" in err for _, err in outs) == 1
