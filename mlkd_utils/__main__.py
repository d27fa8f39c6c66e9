"""Command line: ``python -m mlkd_utils distill|evaluate|profiles`` (also installed as ``mlkd``).

It writes the same results files as the notebooks (``results/<profile>/metrics.csv`` and
``results/<profile>/runs/*.json``), under the chapter name given by ``--chapter`` (default ``cli``).
"""

from __future__ import annotations

import argparse
import logging
import sys

import yaml


def _overrides(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise SystemExit(f"--set expects key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        out[key] = yaml.safe_load(value)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlkd", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    d = sub.add_parser("distill", help="train a student by multilingual distillation, then evaluate it")
    d.add_argument("--profile", default="quick")
    d.add_argument("--student", required=True, help="a student defined in the profile, or a new name")
    d.add_argument("--teacher", help="sentence-transformers name or path (default: the profile's)")
    d.add_argument("--student-init", help="'teacher' or any model name/path (default: the profile's)")
    d.add_argument("--languages", help="comma-separated, e.g. de,fr")
    d.add_argument("--corpora", help="comma-separated staged sources or hub:<name>")
    d.add_argument("--seed", type=int)
    d.add_argument("--output-dir", help="root folder of runs (default: runs/<profile>, or MLKD_RUNS_DIR)")
    d.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="profile override, e.g. distill.max_steps=50"
    )
    d.add_argument("--chapter", default="cli")
    d.add_argument("--tasks", default="sts17,tatoeba")

    e = sub.add_parser("evaluate", help="evaluate any model on STS17 and Tatoeba")
    e.add_argument("--model", required=True, help="sentence-transformers name or path")
    e.add_argument("--model-id", help="short id in the results (default: the model argument)")
    e.add_argument("--profile", default="quick")
    e.add_argument("--tasks", default="sts17,tatoeba")
    e.add_argument("--chapter", default="cli")
    e.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")

    sub.add_parser("profiles", help="list the profiles")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    from mlkd_utils.config import available_profiles, load_profile

    if args.command == "profiles":
        print("\n".join(available_profiles()))
        return 0
    overrides = _overrides(args.set)
    tasks = tuple(t for t in args.tasks.split(",") if t)
    if args.command == "distill":
        from pathlib import Path

        from mlkd_utils.distill import distill, world_rank_size
        from mlkd_utils.experiments import evaluate_model
        from mlkd_utils.results import record_run

        for flag, key in (("teacher", "teacher"), ("student_init", "student_init")):
            if getattr(args, flag):
                overrides[key] = getattr(args, flag)
        profile = load_profile(args.profile, overrides)
        student_over = {}
        if args.languages:
            student_over["languages"] = args.languages.split(",")
        if args.corpora:
            student_over["corpora"] = args.corpora.split(",")
        if args.student in profile.students:
            profile.students[args.student].update(student_over)
        else:
            profile.students[args.student] = student_over
        seed = args.seed if args.seed is not None else profile.seeds[0]
        result = distill(profile, args.student, seed, output_root=Path(args.output_dir) if args.output_dir else None)
        print(f"model: {result.model_path}")
        if tasks and world_rank_size()[0] == 0:  # under torchrun: trained by all ranks, scored once
            # scores kept in the run folder: a chapter that evaluates the same run later reads them
            scores = evaluate_model(
                result.load_model(),
                args.student,
                profile,
                args.chapter,
                tasks,
                seed,
                result.run_dir.name,
                cache_dir=result.run_dir,
            )
            record_run(
                profile.name,
                result.run_dir.name,
                {"chapter": args.chapter, "seed": seed, "config": result.info.get("run_key")},
            )
            for task, df in scores.items():
                print(f"\n{task}\n{df.round(2).to_string(index=False)}")
        return 0
    if args.command == "evaluate":
        from mlkd_utils.experiments import evaluate_model
        from mlkd_utils.models import load_encoder

        profile = load_profile(args.profile, overrides)
        model = load_encoder(args.model)  # any sentence-transformers name or path, or "muse"
        scores = evaluate_model(model, args.model_id or args.model, profile, args.chapter, tasks)
        for task, df in scores.items():
            print(f"\n{task}\n{df.round(2).to_string(index=False)}")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
