"""Multilingual knowledge distillation (Reimers & Gurevych, 2020) with SentenceTransformerTrainer.

For each pair (s, t) of an English sentence and its translation, the student learns
``MSE(student(s), teacher(s)) + MSE(student(t), teacher(s))``: sentence-transformers' ``MSELoss``
computes exactly this when the dataset has two text columns and the teacher embedding as label.
The same entry point trains the competing systems' objectives on the same pairs (``objective``,
see ``mlkd_utils.objectives``), so every student of the book is trained, resumed and cached alike.

A run is identified by a hash of everything that determines it (profile settings, student
config, seed, teacher, initialisation). Its folder holds checkpoints (resumed after a kill), the
training log as CSV, the final model and ``done.json``; a finished run is never trained again.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
from sentence_transformers.evaluation import EmbeddingSimilarityEvaluator, SequentialEvaluator, TranslationEvaluator
from sentence_transformers.sampler import BatchSamplers
from transformers import TrainerCallback, set_seed

from mlkd_utils import objectives
from mlkd_utils.config import ADDED_LATER, DistillConfig, Profile
from mlkd_utils.corpus import benchmark_holdout, build_corpus
from mlkd_utils.encode import resolve_bf16
from mlkd_utils.errors import ConfigError
from mlkd_utils.evaluation.sts import load_sts17_files, stsb_dev_pairs
from mlkd_utils.io import atomic_write_json, atomic_write_text, check_writable, locked, stable_hash
from mlkd_utils.models import (
    build_student,
    load_sentence_model,
    load_trained,
    model_fingerprint,
    weights_bytes,
    with_normalize,
)
from mlkd_utils.models.align import add_map, freeze
from mlkd_utils.paths import runs_dir
from mlkd_utils.provenance import provenance
from mlkd_utils.sampler import LengthGroupedBatchSampler
from mlkd_utils.teacher_cache import TeacherCache, make_targets
from mlkd_utils.vocabulary import extend_vocabulary

log = logging.getLogger(__name__)
#: Checkpoints the trainer keeps; each holds the weights and Adam's two moments (3x the weights).
KEEP_CHECKPOINTS = 2
#: Caches, logs and evaluation files beside the weights.
SLACK_BYTES = 64 << 20


def required_free_bytes(init: str, max_steps: int, save_steps: int, keep: int = KEEP_CHECKPOINTS) -> int:
    """Disk a run will write: its kept checkpoints (weights + optimizer state) and the final model.

    Measured from the student's weights on disk, so a MiniLM test run on a small /tmp is not refused
    for what a base-size model would need (a floor, not a promise: tokenizer files are not counted).
    """
    weights = weights_bytes(init)
    # max_steps <= 0 means "train by epochs": the number of saves is unknown, assume all are kept.
    checkpoints = keep if max_steps <= 0 else min(keep, max_steps // max(save_steps, 1))
    return weights * (1 + 3 * checkpoints) + SLACK_BYTES


@dataclasses.dataclass
class DistillResult:
    name: str
    run_dir: Path
    model_path: Path
    log: pd.DataFrame
    info: dict

    @property
    def has_weights(self) -> bool:
        return (self.model_path / "modules.json").is_file()

    def load_model(self) -> SentenceTransformer:
        if not self.has_weights:
            from mlkd_utils.errors import WeightsMissingError

            raise WeightsMissingError(
                f"{self.run_dir.name}: the run is recorded (results/<profile>/records) but its weights are not on "
                f"this machine, and a score that is not cached needs them: delete {self.run_dir / 'done.json'} "
                "to train it again"
            )
        return load_trained(self.model_path)


def run_key(profile: Profile, cfg: DistillConfig, seed: int) -> dict:
    """Everything that determines a trained student; its hash names the run folder."""
    return {
        "teacher": profile.teacher,
        "teacher_fp": model_fingerprint(profile.teacher),
        "student_init": profile.student_init,
        "seed": seed,
        "distill": {k: v for k, v in dataclasses.asdict(cfg).items() if not (k in ADDED_LATER and v == ADDED_LATER[k])},
        "holdout": dataclasses.asdict(profile.bucc_style) if cfg.exclude_benchmarks else None,
    }


class CSVLogCallback(TrainerCallback):
    """Every log event (train loss, learning rate, dev metrics) as a CSV row, resume-safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fields: list[str] | None = None

    def truncate_after(self, step: int) -> None:
        """After resuming from ``step``, drop rows logged later by the killed run."""
        if self.path.is_file():
            df = pd.read_csv(self.path)
            atomic_write_text(self.path, df[df["step"] <= step].to_csv(index=False))

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        row = {"step": state.global_step, "epoch": state.epoch, "time": time.time(), **logs}
        rows = [row]
        if self.path.is_file():
            rows = pd.read_csv(self.path).to_dict("records") + rows
        pd.DataFrame(rows).to_csv(self.path.with_suffix(".tmp"), index=False, quoting=csv.QUOTE_MINIMAL)
        self.path.with_suffix(".tmp").replace(self.path)


def _dev_evaluator(cfg: DistillConfig, corpus, sts_max_pairs: int | None = None) -> SequentialEvaluator:
    """Dev translation accuracy and STS17 during training; ``sts_max_pairs`` is the profile's cap on
    STS17 pairs (the quick profile's evaluations are smoke tests, and this one runs in every run)."""
    evaluators = [
        TranslationEvaluator(corpus.dev_en, corpus.dev_xx, batch_size=64, name="dev-translation", write_csv=False)
    ]
    for d in load_sts17_files(list(cfg.dev_sts_subsets), sts_max_pairs) if cfg.dev_sts_subsets else []:
        evaluators.append(
            EmbeddingSimilarityEvaluator(
                d.sentences1, d.sentences2, d.scores, batch_size=64, name=f"sts17-{d.subset}", write_csv=False
            )
        )
    for d in stsb_dev_pairs(cfg.dev_stsb, cfg.dev_stsb_max_pairs):
        evaluators.append(
            EmbeddingSimilarityEvaluator(
                d.sentences1, d.sentences2, d.scores, batch_size=64, name=d.subset, write_csv=False
            )
        )
    return SequentialEvaluator(evaluators)


def _run_dir(profile: Profile, name: str, seed: int, cfg: DistillConfig, output_root: Path | None) -> tuple[dict, Path]:
    # JSON round trip: the key as it is stored in done.json (tuples become lists), same hash.
    key = json.loads(json.dumps(run_key(profile, cfg, seed), default=str))
    return key, (output_root or runs_dir(profile.name)) / f"{name}-s{seed}-{stable_hash(key)}"


def finished_run(
    profile: Profile, name: str, seed: int, cfg: DistillConfig | None = None, output_root: Path | None = None
) -> DistillResult | None:
    """The finished run of this config and seed, or None: to list what exists without training."""
    _, run_dir = _run_dir(profile, name, seed, cfg or profile.student_config(name), output_root)
    done = run_dir / "done.json"
    if not done.is_file():
        return None
    return DistillResult(name, run_dir, run_dir / "model", _read_log(run_dir), json.loads(done.read_text()))


def distill(
    profile: Profile,
    name: str,
    seed: int | None = None,
    cfg: DistillConfig | None = None,
    output_root: Path | None = None,
    teacher: SentenceTransformer | None = None,
    force: bool = False,
    keep_checkpoints: bool = False,
    callbacks: list[TrainerCallback] | None = None,
) -> DistillResult:
    """Train (or load the finished run of) the named student of ``profile``.

    ``callbacks`` watch the training (a benchmark's dev-MSE trace); they are not part of the run key,
    so they must not change what is trained.

    Checkpoints (weights plus optimizer state, ~7x the model) only serve resuming a killed run, so a
    finished run deletes them unless ``keep_checkpoints``: the cpu book's 70 runs would otherwise
    hold ~40 GB. The final model, logs and evaluation caches stay.
    """
    cfg = cfg or profile.student_config(name)
    seed = profile.seeds[0] if seed is None else seed
    key, run_dir = _run_dir(profile, name, seed, cfg, output_root)
    done = run_dir / "done.json"
    if done.is_file() and not force:
        log.info("reusing finished run %s", run_dir)
        return finished_run(profile, name, seed, cfg, output_root)

    init = student_init(profile, cfg)
    init = profile.teacher if init == "teacher" else init
    objectives.check(cfg)
    rank, world = world_rank_size()
    if cfg.batch_size % world:
        raise ConfigError(f"batch_size {cfg.batch_size} does not split over {world} data-parallel processes")
    check_writable(run_dir, required_free_bytes(init, cfg.max_steps, cfg.save_steps))
    # Two processes asked for the same run (two chapters executed side by side, or a worker and a
    # notebook): the second waits for the first and then reuses its result instead of training the
    # same folder at the same time. Under torchrun the ranks train it *together*: only rank 0 locks.
    asked = time.time()
    with locked(run_dir) if rank == 0 else contextlib.nullcontext():
        # a forced retrain (weights lost with another machine) that waited for another process
        # retraining the same run reuses that fresh result instead of training it a second time
        if done.is_file() and (not force or done.stat().st_mtime >= asked):
            log.info("reusing run %s, finished by another process", run_dir)
            return finished_run(profile, name, seed, cfg, output_root)
        return _train(profile, name, seed, cfg, key, run_dir, teacher, force, keep_checkpoints, callbacks or [])


def training_elsewhere(profile: Profile, name: str, seed: int, cfg: DistillConfig | None = None) -> bool:
    """True while another process trains this run (it holds the run's lock): a queue of runs can do
    the others first instead of waiting behind it."""
    from mlkd_utils.io import held_elsewhere

    _, run_dir = _run_dir(profile, name, seed, cfg or profile.student_config(name), None)
    return not (run_dir / "done.json").is_file() and held_elsewhere(run_dir)


def student_init(profile: Profile, cfg: DistillConfig) -> str:
    """The student's starting model: the run's own ``init``, else the profile's."""
    return profile.student_init if cfg.init == "profile" else cfg.init


def quiet_trainer(trainer) -> None:
    """In a book execution, no progress table or printed log dict per step in the page: the training
    log is the run folder's ``train_log.csv`` (and the chapter's log file)."""
    from mlkd_utils.notebook import quiet_outputs

    if not quiet_outputs():
        return
    from transformers.trainer_callback import PrinterCallback, ProgressCallback
    from transformers.utils.notebook import NotebookProgressCallback  # imports IPython: book runs only

    for cb in (PrinterCallback, ProgressCallback, NotebookProgressCallback):
        trainer.remove_callback(cb)


def world_rank_size() -> tuple[int, int]:
    """(rank, number of processes) under ``torchrun`` / ``accelerate launch``; (0, 1) otherwise."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def _barrier() -> None:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()


def _train(
    profile: Profile,
    name: str,
    seed: int,
    cfg: DistillConfig,
    key: dict,
    run_dir: Path,
    teacher: SentenceTransformer | None,
    force: bool,
    keep_checkpoints: bool,
    callbacks: list[TrainerCallback],
) -> DistillResult:
    done = run_dir / "done.json"
    rank, world = world_rank_size()
    main = rank == 0  # data-parallel: every rank trains, rank 0 alone writes the run folder
    if force and main:  # scores of the previous model must not be served for the new one
        shutil.rmtree(run_dir / "eval", ignore_errors=True)
    if main:
        atomic_write_json(run_dir / "config.json", key)
    set_seed(seed)
    teacher = teacher or load_sentence_model(profile.teacher, cfg.max_seq_length)
    corpus = build_corpus(cfg, seed, benchmark_holdout(profile) if cfg.exclude_benchmarks else frozenset())
    if main:
        atomic_write_text(run_dir / "composition.csv", corpus.composition.to_csv(index=False))

    cache = TeacherCache(
        teacher, model_fingerprint(profile.teacher), batch_size=profile.encode_batch_size, bf16=profile.bf16_inference
    )
    t0 = time.time()
    targets = dev_targets = raw_train = None
    if cfg.objective in objectives.NEEDS_TARGETS:  # the other objectives never read the teacher's vectors
        raw_train = cache.raw_embeddings(corpus.train_en)
        raw_dev = cache.raw_embeddings(corpus.dev_en, show_progress_bar=False)
        targets = make_targets(raw_train, cfg.target_mode, cfg.target_scale)
        dev_targets = make_targets(raw_dev, cfg.target_mode, cfg.target_scale)
    teacher_seconds = time.time() - t0

    if cfg.objective == "laser":  # from scratch: LASER has no pretrained encoder to start from
        student = objectives.build_laser(cfg, teacher, corpus.train_lang)
    else:
        student = build_student(student_init(profile, cfg), teacher, cfg.target_mode, cfg.max_seq_length)
        if cfg.align != "none":  # fitted on English training sentences against the teacher (unit vectors)
            n = min(cfg.align_sentences, len(corpus.train_en))
            # the teacher's vectors of these sentences were just encoded with the rest of the corpus
            fit = raw_train[:n] if raw_train is not None else cache.raw_embeddings(corpus.train_en[:n])
            student = add_map(student, corpus.train_en[:n], fit, cfg.align)
    trainable = freeze(student, cfg.freeze)
    # Before the trainer exists: a resumed checkpoint must find the extended embedding matrix.
    vocab = extend_vocabulary(
        student, sorted(set(corpus.train_xx)), cfg.vocabulary, cfg.new_vocab_size, seed, run_dir / "new_tokens.json"
    )
    train_ds = objectives.dataset(cfg, student, corpus.train_en, corpus.train_xx, corpus.train_lang, targets)
    dev_ds = objectives.dataset(cfg, student, corpus.dev_en, corpus.dev_xx, corpus.dev_lang, dev_targets)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(run_dir / "checkpoints"),
        max_steps=cfg.max_steps,
        # the run's batch is global: under DDP each of ``world`` processes takes its share, so the
        # run (and its key) is the same recipe on one process or many
        per_device_train_batch_size=cfg.batch_size // world,
        per_device_eval_batch_size=cfg.batch_size // world,
        learning_rate=cfg.learning_rate,
        warmup_steps=int(cfg.warmup_ratio * cfg.max_steps),
        lr_scheduler_type=cfg.lr_scheduler,
        weight_decay=cfg.weight_decay,
        bf16=resolve_bf16(cfg.bf16),
        use_cpu=not torch.cuda.is_available(),
        seed=seed,
        data_seed=seed,
        logging_steps=cfg.logging_steps,
        eval_strategy="steps",
        eval_steps=cfg.eval_steps,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=2,
        report_to="none",
        batch_sampler=LengthGroupedBatchSampler if cfg.group_by_length else BatchSamplers.BATCH_SAMPLER,
        dataloader_drop_last=True,
    )
    log_cb = CSVLogCallback(run_dir / "train_log.csv")
    trainer = SentenceTransformerTrainer(
        model=student,
        args=args,
        train_dataset=train_ds,
        eval_dataset=dev_ds,
        loss=objectives.make_loss(cfg, student),
        evaluator=_dev_evaluator(cfg, corpus, profile.sts17_max_pairs),
        callbacks=[log_cb, *callbacks],
    )
    quiet_trainer(trainer)
    checkpoint = _last_checkpoint(run_dir / "checkpoints")
    if checkpoint is not None:
        step = int(checkpoint.name.split("-")[1])
        log.warning("resuming %s from %s", run_dir.name, checkpoint.name)
        if main:
            log_cb.truncate_after(step)
    else:
        if main:
            (run_dir / "train_log.csv").unlink(missing_ok=True)
        trainer.evaluate()  # step-0 dev metrics: the starting point of every curve
    t1 = time.time()
    out = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    train_seconds = time.time() - t1
    if cfg.max_steps % cfg.eval_steps:
        trainer.evaluate()  # the final point of every curve

    final = with_normalize(student)
    if main:
        final.save(str(run_dir / "model"))
    info = {
        "name": name,
        "seed": seed,
        "run_key": key,
        "train_pairs": len(corpus.train_en),
        "trainable_parameters": trainable,
        "dev_pairs": len(corpus.dev_en),
        "vocabulary_added": vocab.added,
        "vocabulary_no_pieces": vocab.no_pieces,
        "teacher_seconds": teacher_seconds,
        "teacher_cache_hit": cache.hits > 0 and cache.misses == 0,
        "train_seconds": train_seconds,
        "resumed_from": checkpoint.name if checkpoint else None,
        "train_runtime": out.metrics.get("train_runtime"),
        "processes": world,
        **provenance(),
    }
    if main:
        atomic_write_json(done, info)
        if not keep_checkpoints:
            shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    _barrier()  # the other ranks return once the model is on disk
    return DistillResult(name, run_dir, run_dir / "model", _read_log(run_dir), info)


#: Column names of the STSb dev evaluators in a training log (``eval_stsb-dev-en-de_spearman_cosine``).
STSB_PREFIX, STS_SUFFIX = "eval_stsb-dev-", "_spearman_cosine"


def training_cost(result: DistillResult) -> dict[str, float]:
    """Wall time of training split into optimisation and the dev evaluations run inside it.

    The trainer's ``train_runtime`` includes the evaluations at every ``eval_steps``; the
    throughput a reader compares across machines should not depend on how often we evaluated.
    """
    cfg = result.info["run_key"]["distill"]
    log = result.log
    # a run resumed from a checkpoint timed only the steps after it (the earlier ones ran in another process)
    resumed = result.info.get("resumed_from")
    start = int(resumed.split("-")[1]) if resumed else 0
    eval_seconds = 0.0
    if "eval_runtime" in log:  # step-0 and a final off-grid evaluation ran outside train_runtime
        inside = (log.step > start) & (log.step % cfg["eval_steps"] == 0)
        eval_seconds = float(log.loc[inside, "eval_runtime"].sum())
    runtime = float(result.info.get("train_runtime") or result.info["train_seconds"])
    sentences = 2 * cfg["batch_size"] * (cfg["max_steps"] - start)  # each pair: two sentences through the student
    return {
        "training wall (s)": round(runtime, 1),
        "dev evaluation inside (s)": round(eval_seconds, 1),
        "student sentences/s": round(sentences / max(1e-9, runtime - eval_seconds), 1),
        "steps timed": cfg["max_steps"] - start,
        "teacher encoding (s)": round(result.info["teacher_seconds"], 1),
    }


def dev_scores(log: pd.DataFrame, which: str = "last") -> dict[str, float]:
    """The dev metrics of one evaluation of a training log (the first or the last), x100 where a
    score, MSE x1e4 (unit vectors of 384 dimensions make it ~1e-3; for another objective "MSE" is
    that objective's dev loss). Chapter 2 reads its recipe grid by them, chapter 6 its learning rates."""
    ev = log.dropna(subset=["eval_loss"])
    if ev.empty:
        raise ValueError("the training log has no dev evaluation (eval_loss)")
    row = ev.iloc[0] if which == "first" else ev.iloc[-1]
    out = {"dev MSE x1e4": 1e4 * row["eval_loss"]}
    if "eval_dev-translation_mean_accuracy" in row:
        out["dev translation acc."] = 100 * row["eval_dev-translation_mean_accuracy"]
    for col in [c for c in ev.columns if c.startswith(STSB_PREFIX) and c.endswith(STS_SUFFIX)]:
        out[f"STSb dev {col[len(STSB_PREFIX) : -len(STS_SUFFIX)]}"] = 100 * row[col]
    return out


def _last_checkpoint(folder: Path) -> Path | None:
    if not folder.is_dir():
        return None
    ckpts = [p for p in folder.glob("checkpoint-*") if p.is_dir() and (p / "trainer_state.json").is_file()]
    return max(ckpts, key=lambda p: int(p.name.split("-")[1]), default=None)


def _read_log(run_dir: Path) -> pd.DataFrame:
    path = run_dir / "train_log.csv"
    return pd.read_csv(path) if path.is_file() else pd.DataFrame()


def mse_to_teacher(student: SentenceTransformer, english: list[str], other: list[str], targets: np.ndarray) -> float:
    """Mean MSE of student(other) to the teacher's targets: the quantity the loss drives down."""
    from mlkd_utils.encode import encode

    emb = encode(student, other)
    return float(((emb - targets) ** 2).mean())
