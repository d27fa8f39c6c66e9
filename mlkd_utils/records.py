"""A finished run's small files kept in git, so a fresh machine renders the chapters without training.

Weights stay out of git (``runs/``, hundreds of MB each). What a chapter reads of a finished run
besides its weights is small: ``done.json`` (how it trained), ``config.json`` (its key), the training
log, the corpus composition and the evaluation caches (``eval/``, checked by sha256 sidecars).
``save`` copies them to ``results/<profile>/records/<run>/``; ``restore`` copies them back into an
empty runs folder, where ``distill`` then finds the run finished and the evaluations find their
scores. A chapter that needs the weights themselves (a new evaluation) says which run to train again.

    python -m mlkd_utils.records save --profile cpu      # after runs finish, before committing
    python -m mlkd_utils.records restore --profile cpu   # on a fresh clone, before `make book`
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from mlkd_utils.paths import results_dir, runs_dir

#: The files of a run folder that are kept (globs relative to the run folder).
KEPT = ("done.json", "config.json", "train_log.csv", "composition.csv", "new_tokens.json", "eval/*")


def records_dir(profile: str) -> Path:
    return results_dir(profile) / "records"


def _copy_kept(src: Path, dst: Path, missing_only: bool = False) -> int:
    n = 0
    for pattern in KEPT:
        for f in sorted(src.glob(pattern)):
            if f.is_file() and not f.name.endswith(".lock"):
                target = dst / f.relative_to(src)
                if missing_only and target.exists():
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, target)
                n += 1
    return n


def _recorded(folder: Path) -> bool:
    """A finished run, or the score folder of a model that is not trained here (the teacher, a system
    scored as it is): its scores take encoding time to compute again, its weights none to get back."""
    return (folder / "done.json").is_file() or (
        folder.name.startswith(SCORE_FOLDERS) and any((folder / "eval").glob("*"))
    )


#: Folders of models scored but not trained here (``baselines.teacher_folder``, ``baseline_folder``).
SCORE_FOLDERS = ("teacher-", "baseline-")


def save(profile: str) -> list[str]:
    """Copy the kept files of every finished run of ``profile`` into its records; returns the runs."""
    saved = []
    for run in sorted(p for p in runs_dir(profile).glob("*") if _recorded(p)):
        record = records_dir(profile) / run.name
        done, kept = run / "done.json", record / "done.json"
        if done.is_file() and kept.is_file() and kept.read_bytes() != done.read_bytes():
            shutil.rmtree(record)  # trained again: no score of the old model may stay beside the new ones
        _copy_kept(run, record)
        saved.append(run.name)
    return saved


def restore(profile: str) -> list[str]:
    """Copy recorded runs back into the runs folder where it has no finished run of that name."""
    restored = []
    for record in sorted(p for p in records_dir(profile).glob("*") if _recorded(p)):
        target = runs_dir(profile) / record.name
        if (target / "done.json").is_file():
            continue
        if not (record / "done.json").is_file():  # a score folder: add what this machine lacks
            if _copy_kept(record, target, missing_only=True):
                restored.append(record.name)
            continue
        _copy_kept(record, target)
        restored.append(record.name)
    return restored


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["save", "restore"])
    parser.add_argument("--profile", default="cpu")
    args = parser.parse_args(argv)
    runs = save(args.profile) if args.action == "save" else restore(args.profile)
    print(f"{args.action}: {len(runs)} runs ({records_dir(args.profile)} <-> {runs_dir(args.profile)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
