"""The paper's "trained on English only" baseline: the student initialisation fine-tuned on the
English STS benchmark, with no parallel data at all.

The paper's mBERT/XLM-R-nli-stsb rows show that an encoder which has seen many languages in
pre-training still does not map translations together when its sentence-level training is English
only. Here the run uses sentence-transformers' STSb recipe (CosineSimilarityLoss on gold/5), and
is cached like a distillation run: ``runs/<profile>/<name>-s<seed>-<hash>/``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from pathlib import Path

from datasets import Dataset
from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
from sentence_transformers.evaluation import EmbeddingSimilarityEvaluator
from sentence_transformers.losses import CosineSimilarityLoss
from transformers import set_seed

from mlkd_utils.config import Profile
from mlkd_utils.data.sts import load_stsb
from mlkd_utils.distill import (
    CSVLogCallback,
    DistillResult,
    _last_checkpoint,
    _read_log,
    quiet_trainer,
    required_free_bytes,
)
from mlkd_utils.io import atomic_write_json, check_writable, stable_hash
from mlkd_utils.models import build_student, load_sentence_model, model_fingerprint
from mlkd_utils.paths import runs_dir
from mlkd_utils.provenance import provenance

log = logging.getLogger(__name__)

NAME = "english-only-stsb"


def train_english_baseline(profile: Profile, seed: int | None = None, output_root: Path | None = None) -> DistillResult:
    """Fine-tune ``profile.student_init`` on STSb train (English); reuse the finished run if any."""
    cfg = profile.english_baseline
    seed = profile.seeds[0] if seed is None else seed
    key = {
        "student_init": profile.student_init,
        "init_fp": model_fingerprint(profile.teacher if profile.student_init == "teacher" else profile.student_init),
        "seed": seed,
        "english_baseline": dataclasses.asdict(cfg),
    }
    run_dir = (output_root or runs_dir(profile.name)) / f"{NAME}-s{seed}-{stable_hash(key)}"
    done = run_dir / "done.json"
    if done.is_file():
        return DistillResult(NAME, run_dir, run_dir / "model", _read_log(run_dir), json.loads(done.read_text()))

    init = profile.teacher if profile.student_init == "teacher" else profile.student_init
    check_writable(run_dir, required_free_bytes(init, cfg.max_steps, cfg.save_steps, keep=1))
    atomic_write_json(run_dir / "config.json", key)
    set_seed(seed)
    teacher = load_sentence_model(profile.teacher, cfg.max_seq_length)
    model: SentenceTransformer = build_student(profile.student_init, teacher, "normalized", cfg.max_seq_length)
    train, dev = load_stsb("train"), load_stsb("dev")
    n = len(train) if cfg.max_pairs is None else min(cfg.max_pairs, len(train))
    train_ds = Dataset.from_dict(
        {
            "sentence1": train.sentences1[:n],
            "sentence2": train.sentences2[:n],
            "score": [s / 5.0 for s in train.scores[:n]],
        }
    )
    evaluator = EmbeddingSimilarityEvaluator(
        dev.sentences1, dev.sentences2, [s / 5.0 for s in dev.scores], name="stsb-dev", write_csv=False
    )
    args = SentenceTransformerTrainingArguments(
        output_dir=str(run_dir / "checkpoints"),
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        warmup_ratio=cfg.warmup_ratio,
        seed=seed,
        data_seed=seed,
        use_cpu=True,
        logging_steps=cfg.logging_steps,
        eval_strategy="no",
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=1,
        report_to="none",
    )
    log_cb = CSVLogCallback(run_dir / "train_log.csv")
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=train_ds, loss=CosineSimilarityLoss(model), callbacks=[log_cb]
    )
    quiet_trainer(trainer)
    checkpoint = _last_checkpoint(run_dir / "checkpoints")
    if checkpoint is not None:
        log_cb.truncate_after(int(checkpoint.name.split("-")[1]))
    t0 = time.time()
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    seconds = time.time() - t0
    model.save(str(run_dir / "model"))
    info = {
        "name": NAME,
        "seed": seed,
        "run_key": key,
        "train_pairs": n,
        "train_seconds": seconds,
        "stsb_dev_spearman": 100 * evaluator(model)["stsb-dev_spearman_cosine"],
        "resumed_from": checkpoint.name if checkpoint else None,
        **provenance(),
    }
    atomic_write_json(done, info)
    shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)  # only for resuming, as in distill
    return DistillResult(NAME, run_dir, run_dir / "model", _read_log(run_dir), info)
