"""Teacher encoding throughput against the CPU's own matmul throughput, measured in one run.

How far from the machine's limit is encoding? The reference is a plain matmul of the shape that
dominates a BERT layer (tokens x 384 @ 384 x 1536, the feed-forward block) timed here, now. The
encoders are timed on a realistic mix of 5-40-word sentences: sentence-transformers' default
``encode`` (batch 32) and ours (``mlkd_utils.encode``: inference mode, bf16 autocast where the CPU
makes it fast) at several batch sizes. Achieved GFLOP/s counts only useful work (each sentence's real
tokens); the padded count says what length sorting left on the table.

    python bench/encoding.py [--sentences 2000] [--threads 2]
"""

from __future__ import annotations

import argparse

import torch

from benchlib import bert_flops, best_of, mixed_pairs, padded_lengths, write_bench
from mlkd_utils.encode import encode, resolve_bf16
from mlkd_utils.models import load_sentence_model


def matmul_gflops(dtype: torch.dtype, tokens: int = 4096, d: int = 384, repeats: int = 5) -> float:
    a, b = torch.randn(tokens, d, dtype=dtype), torch.randn(d, 4 * d, dtype=dtype)
    seconds = best_of(lambda: torch.mm(a, b), repeats)
    return 2 * tokens * d * 4 * d / seconds / 1e9


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 32, 64, 128])
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    teacher = load_sentence_model("all-MiniLM-L6-v2")
    sentences = [e for e, _ in mixed_pairs(args.sentences, seed=1)]
    cfg = teacher[0].auto_model.config
    ids = teacher.tokenizer(sentences, truncation=True, max_length=teacher.max_seq_length)["input_ids"]
    lengths = [len(x) for x in ids]
    useful = bert_flops(lengths, cfg.hidden_size, cfg.num_hidden_layers)

    rows = []
    fp32 = matmul_gflops(torch.float32)
    rows.append({"what": "matmul fp32 (4096x384 @ 384x1536)", "gflops": fp32, "of_matmul_fp32": 1.0})
    bf16 = resolve_bf16("auto")
    if bf16:
        g = matmul_gflops(torch.bfloat16)
        rows.append({"what": "matmul bf16 (4096x384 @ 384x1536)", "gflops": g, "of_matmul_fp32": g / fp32})
    paths = {
        "sentence-transformers encode (batch 32, fp32)": (
            lambda: teacher.encode(sentences, batch_size=32, convert_to_numpy=True),
            32,
        )
    }
    for batch in args.batch_sizes:  # on a CPU a batch buys no parallelism, only padding
        paths[f"mlkd_utils.encode (batch {batch}, bf16 {'on' if bf16 else 'off'})"] = (
            lambda batch=batch: encode(teacher, sentences, batch_size=batch, bf16="auto"),
            batch,
        )
    reference = None
    for name, (fn, batch) in paths.items():
        fn()  # warm-up: first calls allocate
        seconds = best_of(fn, args.repeats)
        padded = bert_flops(padded_lengths(lengths, batch), cfg.hidden_size, cfg.num_hidden_layers)
        reference = reference or seconds
        rows.append(
            {
                "what": name,
                "sentences_per_s": len(sentences) / seconds,
                "gflops": useful / seconds / 1e9,
                "gflops_with_padding": padded / seconds / 1e9,
                "of_matmul_fp32": useful / seconds / 1e9 / fp32,
                "speedup_vs_reference": reference / seconds,
                "seconds": seconds,
                "sentences": len(sentences),
                "mean_tokens": sum(lengths) / len(lengths),
            }
        )
    path = write_bench("encoding", [{**r, "threads": args.threads} for r in rows])
    for r in rows:
        print({k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()})
    print("wrote", path)


if __name__ == "__main__":
    main()
