"""Distillation throughput: our ``distill`` against sentence-transformers' reference recipe.

The reference is ``examples/.../multilingual/make_multilingual.py``: teacher labels added with
``datasets.map``, the default ``SentenceTransformerTrainer`` (random batches), batch 64,
``MSELoss``. Ours is :func:`mlkd_utils.distill.distill` with the same pairs (the corpus it draws
from the staged sources: short captions next to long news sentences), the same student
initialisation, steps, batch, learning rate and seed; it adds the length-grouped batch sampler,
the teacher-embedding cache and bf16 autocast where the CPU makes it fast. Both run in this
process, alternately, on a cold teacher cache. Reported: student sentences/s in the optimisation
loop (evaluations excluded), wall time including teacher labels, the optimisation seconds each path
needs to reach the dev MSE both reach (a trace every few steps, ``results/bench/distill_trace.csv``),
and what the speed costs in quality: dev MSE to the teacher (sentence-transformers'
``MSEEvaluator``) and STS17 en-en/en-de.

    python bench/distill_throughput.py [--steps 30] [--threads 2] [--repeats 1]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import tempfile
import time
from pathlib import Path

import torch

from benchlib import write_bench

SOURCES = ["multi30k", "tatoeba_challenge", "wmt_newstest", "iwslt17_ted_devtest"]


class DevMSETrace:
    """Dev MSE to the teacher every ``every`` steps, against optimisation seconds (its own time
    excluded): the same sentence-transformers ``MSEEvaluator`` in both paths, so "time to the same
    dev MSE" compares like with like."""

    def __init__(self, teacher, corpus, every: int) -> None:
        from sentence_transformers.evaluation import MSEEvaluator
        from transformers import TrainerCallback

        self.evaluator = MSEEvaluator(corpus.dev_en, corpus.dev_xx, teacher_model=teacher, name="dev", write_csv=False)
        self.every, self.points, self.start, self.spent = every, [], 0.0, 0.0
        trace = self

        class Callback(TrainerCallback):
            def on_train_begin(self, args, state, control, **kwargs):
                trace.start, trace.spent = time.perf_counter(), 0.0

            def on_step_end(self, args, state, control, model=None, **kwargs):
                if state.global_step % trace.every and state.global_step != state.max_steps:
                    return
                t0 = time.perf_counter()
                was_training = model.training
                model.eval()
                mse = -float(trace.evaluator(model)["dev_negative_mse"])
                model.train(was_training)
                elapsed = t0 - trace.start - trace.spent
                trace.spent += time.perf_counter() - t0
                trace.points.append((state.global_step, elapsed, mse))

        self.callback = Callback()

    def seconds_to(self, target: float) -> float:
        """Optimisation seconds until dev MSE first reached ``target``, interpolated linearly between
        the two trace points around the crossing (NaN: never reached)."""
        prev = None
        for _, t, mse in self.points:
            if mse <= target + 1e-9:
                if prev is None or prev[1] == mse:
                    return t
                return prev[0] + (t - prev[0]) * (prev[1] - target) / (prev[1] - mse)
            prev = (t, mse)
        return float("nan")


def quality(model, trace: DevMSETrace) -> dict[str, float]:
    """Dev MSE from the trace's last point (taken at the final step, on this model) and STS17."""
    from mlkd_utils.evaluation import evaluate_sts17

    sts = evaluate_sts17(model, ["en-en", "en-de"], n_boot=0).set_index("subset").spearman
    return {"dev_mse_x100": trace.points[-1][2], "sts17_en_en": sts["en-en"], "sts17_en_de": sts["en-de"]}


@contextlib.contextmanager
def mega_factor_set(mega_factor: int):
    """The length-grouped sampler with ``mega_factor`` batches sorted together (0: its default)."""
    from mlkd_utils.sampler import LengthGroupedBatchSampler

    default = LengthGroupedBatchSampler.mega_factor
    LengthGroupedBatchSampler.mega_factor = mega_factor or default
    try:
        yield default
    finally:
        LengthGroupedBatchSampler.mega_factor = default


def reference(profile, cfg, corpus, seed: int, out: Path, every: int) -> tuple[dict, DevMSETrace]:
    """make_multilingual.py's recipe on our pairs (its hub loading replaced by the local teacher)."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.losses import MSELoss

    from mlkd_utils.models import load_sentence_model

    t0 = time.perf_counter()
    teacher = load_sentence_model(profile.teacher, cfg.max_seq_length)
    student = load_sentence_model(profile.teacher, cfg.max_seq_length)
    train = Dataset.from_dict({"english": corpus.train_en, "non_english": corpus.train_xx})

    def prepare(batch):
        return {"label": teacher.encode(batch["english"], batch_size=64, convert_to_numpy=True)}

    train = train.map(prepare, batched=True, batch_size=30_000)
    labels_s = time.perf_counter() - t0
    args = SentenceTransformerTrainingArguments(
        output_dir=str(out),
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        warmup_ratio=cfg.warmup_ratio,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        seed=seed,
        logging_steps=cfg.logging_steps,
    )
    trace = DevMSETrace(teacher, corpus, every)
    trainer = SentenceTransformerTrainer(
        model=student, args=args, train_dataset=train, loss=MSELoss(student), callbacks=[trace.callback]
    )
    runtime = trainer.train().metrics["train_runtime"] - trace.spent
    return {
        "path": "reference (make_multilingual.py recipe)",
        "student_sentences_per_s": 2 * cfg.batch_size * cfg.max_steps / runtime,
        "optimisation_s": runtime,
        "teacher_labels_s": labels_s,
        "wall_s": time.perf_counter() - t0 - trace.spent,
        **quality(student, trace),
    }, trace


def ours(profile, cfg, corpus, seed: int, out: Path, every: int, mega_factor: int = 0) -> tuple[dict, DevMSETrace]:
    """``mega_factor`` (0: the sampler's default) sets how many batches are sorted by length together:
    fewer means less homogeneous batches (more padding, a more random gradient)."""
    from mlkd_utils.distill import distill, training_cost
    from mlkd_utils.models import load_sentence_model

    teacher = load_sentence_model(profile.teacher, cfg.max_seq_length)
    trace = DevMSETrace(teacher, corpus, every)
    with mega_factor_set(mega_factor) as default:
        t0 = time.perf_counter()
        result = distill(profile, "bench", seed, cfg=cfg, output_root=out, force=True, callbacks=[trace.callback])
        wall = time.perf_counter() - t0 - trace.spent
    cost = training_cost(result)
    runtime = cost["training wall (s)"] - cost["dev evaluation inside (s)"] - trace.spent
    path = "ours (mlkd_utils.distill)"
    if mega_factor and mega_factor != default:
        path = f"ours, length-sorted mega-batches of {mega_factor} batches (default {default})"
    return {
        "path": path,
        "student_sentences_per_s": 2 * cfg.batch_size * cfg.max_steps / runtime,
        "optimisation_s": runtime,
        "teacher_labels_s": result.info["teacher_seconds"],
        "wall_s": wall,
        **quality(result.load_model(), trace),
    }, trace


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--trace-every", type=int, default=5, help="steps between dev-MSE points")
    parser.add_argument(
        "--mega-factors", type=int, nargs="*", default=[4], help="extra runs of ours with other length grouping"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    tmp = Path(tempfile.mkdtemp(prefix="bench-distill-"))
    from mlkd_utils.config import load_profile
    from mlkd_utils.corpus import benchmark_holdout, build_corpus

    profile = load_profile("cpu")
    cfg = profile.distill.__class__(
        languages=["de"],
        corpora=SOURCES,
        pairs_per_language=args.steps * args.batch_size,  # one epoch: every pair seen once
        dev_pairs=200,
        max_steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        eval_steps=args.steps,
        save_steps=args.steps,
        dev_sts_subsets=[],
    )
    corpus = build_corpus(cfg, args.seed, benchmark_holdout(profile))  # what distill draws too
    rows, traces = [], []
    for rep in range(args.repeats):
        paths = [("reference", reference), ("ours", ours)]
        paths += [(f"ours-mega{m}", functools.partial(ours, mega_factor=m)) for m in args.mega_factors]
        for name, fn in paths:
            os.environ["MLKD_CACHE_DIR"] = str(tmp / f"cache-{rep}-{name}")  # cold for each run
            row, trace = fn(profile, cfg, corpus, args.seed, tmp / f"{name}-{rep}", args.trace_every)
            rows.append({**row, "repeat": rep})
            traces.append(trace)
            print(rows[-1], trace.points, flush=True)
    ref = [(r, t) for r, t in zip(rows, traces) if r["path"].startswith("reference")]
    for r, trace in zip(rows, traces):
        base, base_trace = ref[r["repeat"]]
        # the dev MSE both paths reach by the end; each one's optimisation seconds to get there
        target = max(base_trace.points[-1][2], trace.points[-1][2])
        r["target_dev_mse_x100"] = target
        r["seconds_to_target"] = trace.seconds_to(target)
        r["speedup_to_target"] = base_trace.seconds_to(target) / r["seconds_to_target"]
        r["speedup_sentences_per_s"] = r["student_sentences_per_s"] / base["student_sentences_per_s"]
        r["speedup_wall"] = base["wall_s"] / r["wall_s"]
        r.update(
            {"steps": args.steps, "batch_size": args.batch_size, "threads": args.threads, "pairs": len(corpus.train_en)}
        )
    print("wrote", write_bench("distill_throughput", rows))
    trace_rows = [
        {"path": r["path"], "repeat": r["repeat"], "step": step, "seconds": sec, "dev_mse_x100": mse}
        for r, t in zip(rows, traces)
        for step, sec, mse in t.points
    ]
    print("wrote", write_bench("distill_trace", trace_rows))


if __name__ == "__main__":
    main()
