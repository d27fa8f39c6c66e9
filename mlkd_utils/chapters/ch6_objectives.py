"""Chapter 6: the competing systems' objectives trained on equal terms.

Every objective (``mlkd_utils.objectives``) is trained by the same ``distill`` entry point on the
*same* pairs with the same student initialisation and number of steps: the profile's ``base``
student with only ``objective`` changed (the LASER-style model alone starts from scratch, as LASER
does). Without ``learning_rates`` the ``mse`` run *is* the base student (chapter 3's run, reused);
with them every objective, mse included, is trained at each candidate rate and its race row is the
one best on dev (``dev_score``), so no test file decides anything. Each
run is scored the way the other chapters score: STS17 (all files), Tatoeba in every staged
language (cosine), BUCC zh-en and the BUCC-style benchmark (max retrieval, ratio margin).

CLI: ``python -m mlkd_utils.chapters.ch6_objectives --profile cpu --worker 0 --workers 2``.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from mlkd_utils import prose
from mlkd_utils.baselines import evaluate_baselines
from mlkd_utils.baselines import label as baseline_label
from mlkd_utils.config import OBJECTIVES, TATOEBA_CODES, DistillConfig, Profile, _merge_dataclass, load_profile
from mlkd_utils.data.sts import CROSSLINGUAL, MONOLINGUAL
from mlkd_utils.distill import DistillResult, dev_scores, distill, finished_run
from mlkd_utils.errors import ConfigError, WeightsMissingError
from mlkd_utils.experiments import LazyModel, evaluate_model, evaluate_run, record_training
from mlkd_utils.mining import benchmark
from mlkd_utils.models import load_sentence_model

CHAPTER = "06_objectives"
log = logging.getLogger(__name__)
PREFIX = "objective-"
#: The system each objective stands for, for tables and plots.
SYSTEMS = {
    "mse": "distillation (paper)",
    "ranking": "mUSE-style ranking",
    "labse": "LaBSE-style AMS",
    "ems": "EMS-style contrastive + XTR",
    "laser": "LASER-style BiLSTM",
    "combined": "distillation + ranking",
}
DEFAULTS: dict[str, Any] = {
    "base": "student-10lang",
    "objectives": list(OBJECTIVES),
    "seeds": None,  # None: the profile's seeds
    #: DistillConfig fields changed for every run, the ``mse`` one included (the quick profile's size).
    "base_overrides": {},
    #: Per objective, DistillConfig fields that differ from the base (kept empty for a fair race).
    "overrides": {},
    #: Objectives repeated at the seeds after the first (None: all of them); a budget knob.
    "later_seeds_objectives": None,
    #: Sensitivity runs on the first seed: ``{name, objective, **fields}``.
    "extra": [],
    #: STS17 files scored (None: all of them; the quick profile scores a few).
    "sts17_subsets": None,
    #: Tatoeba languages (LASER codes; None: all staged) and sentences per language (None: chapter 4's).
    "tatoeba_languages": None,
    "tatoeba_max_sentences": None,
    #: Mining benchmarks scored (None: all of chapter 4's, e.g. ["BUCC zh-en", "BUCC-style de"]).
    "mining_benchmarks": None,
    "train": True,
    #: Learning rates tried for every objective at the first seed (None: the base's own only). The race
    #: row of an objective is its run with the best ``dev_score``; the others stay dev-only rows.
    "learning_rates": None,
    #: Systems scored as they are beside the race (``mlkd_utils.baselines``): reference rows, not trained.
    "baselines": [],
    #: Points a lead must exceed (besides the largest seed sd) to be read as a win: two seeds bound the
    #: spread poorly, and two equal scores give sd 0.
    "noise_floor": 0.0,
}


@dataclass(frozen=True)
class PlannedRun:
    name: str
    objective: str
    seed: int
    overrides: dict = field(default_factory=dict, hash=False)
    label: str = ""
    #: A learning-rate candidate that is not (or not yet known to be) its objective's race row: trained
    #: and read on the dev sets only, never scored on a test file.
    dev_only: bool = False
    #: A sensitivity run of the ``extra`` list (not one of the race's objectives).
    extra: bool = False


def dev_score(log: pd.DataFrame) -> float:
    """The one dev number a learning rate is chosen by: the mean of the STSb dev Spearmans and the dev
    translation accuracy (x100) at the end of training. Both sides of the trade-off the chapter
    measures (similarity and exact translation), and no STS17 or mining test file."""
    scores = dev_scores(log)
    parts = [v for k, v in scores.items() if k.startswith("STSb dev") or k == "dev translation acc."]
    if not parts:
        raise ConfigError("dev_score needs dev_stsb or dev pairs in the base student's config")
    return float(np.mean(parts))


def _lr_name(objective: str, lr: float) -> str:
    return f"{PREFIX}{objective}-lr{prose.rate(lr)}"  # objective-labse-lr2e-4


def chosen_learning_rates(profile: Profile) -> dict[str, float | None]:
    """Per objective: the candidate learning rate with the best dev score at the first seed, or None
    while a candidate is unfinished (the choice waits for all of them)."""
    s = settings(profile)
    seed = (s["seeds"] or profile.seeds)[0]
    out: dict[str, float | None] = {}
    for obj in s["objectives"]:
        best, best_lr = -np.inf, None
        for lr in s["learning_rates"] or []:
            run = PlannedRun(_lr_name(obj, lr), obj, seed, _fields(s, obj, lr))
            result = finished_run(profile, run.name, seed, config_for(profile, run))
            if result is None:
                best_lr = None
                break
            if (score := dev_score(result.log)) > best:
                best, best_lr = score, lr
        out[obj] = best_lr
    return out


def _fields(s: dict, obj: str, lr: float | None = None) -> dict:
    fields = {**s["base_overrides"], "objective": obj, **s["overrides"].get(obj, {})}
    return fields if lr is None else {**fields, "learning_rate": lr}


def settings(profile: Profile) -> dict[str, Any]:
    return {**DEFAULTS, **profile.chapter(CHAPTER)}


def plan(profile: Profile) -> list[PlannedRun]:
    """Seed-major, so a partial run of the plan holds every objective of the first seed (and the
    sensitivity runs) before any second seed."""
    s = settings(profile)
    unknown = sorted(set(s["objectives"]) - set(OBJECTIVES))
    if unknown:
        raise ConfigError(f"chapters.{CHAPTER}.objectives: unknown {unknown}; known: {list(OBJECTIVES)}")
    seeds = s["seeds"] or profile.seeds
    extras = []
    for extra in s["extra"]:
        extra = dict(extra)
        label = extra.pop("name")
        obj = extra.get("objective", "mse")
        fields = {**s["base_overrides"], **extra}
        extras.append(PlannedRun(f"{PREFIX}{label}", obj, seeds[0], fields, label, extra=True))
    later = s["later_seeds_objectives"]
    unknown = sorted(set(later or []) - set(s["objectives"]))
    if unknown:
        raise ConfigError(f"chapters.{CHAPTER}.later_seeds_objectives: {unknown} not in objectives {s['objectives']}")
    lrs = s["learning_rates"]
    chosen = chosen_learning_rates(profile) if lrs else {}
    runs = []
    for seed in seeds:
        for obj in s["objectives"]:
            if seed != seeds[0] and later is not None and obj not in later:
                continue
            if not lrs:  # one run per objective at the base's learning rate; mse is the base itself
                name = s["base"] if obj == "mse" else f"{PREFIX}{obj}"
                runs.append(PlannedRun(name, obj, seed, _fields(s, obj), obj))
            elif seed == seeds[0]:  # every candidate; the dev-best one is the race row
                for lr in lrs:
                    race = chosen.get(obj) == lr
                    label = obj if race else f"{obj} (lr {prose.rate(lr)})"
                    runs.append(PlannedRun(_lr_name(obj, lr), obj, seed, _fields(s, obj, lr), label, not race))
            elif chosen.get(obj) is not None:  # later seeds once the choice is made
                lr = chosen[obj]
                runs.append(PlannedRun(_lr_name(obj, lr), obj, seed, _fields(s, obj, lr), obj))
        if seed == seeds[0]:
            runs += extras  # the sensitivity runs right after the first seed's objectives
    return runs


def config_for(profile: Profile, run: PlannedRun) -> DistillConfig:
    base = profile.student_config(settings(profile)["base"])
    return _merge_dataclass(base, run.overrides, f"chapters.{CHAPTER}: {run.name}")


def run_miner(run: PlannedRun, result: DistillResult, profile: Profile) -> benchmark.Miner:
    return benchmark.run_miner(profile, run.name, result, tuple(config_for(profile, run).languages))


def evaluate(profile: Profile, miner: benchmark.Miner, result: DistillResult | None, baseline: str = "") -> None:
    """STS17, Tatoeba, mining (as the chapter's settings say); each cached in the model's folder. No
    ``result``: the teacher, or with ``baseline`` a system scored as it is (mUSE, e5-small)."""
    s = settings(profile)
    subsets = s["sts17_subsets"]
    if baseline:
        evaluate_baselines(profile, CHAPTER, ("sts17",), names=[baseline], sts17_subsets=subsets)
    elif result is None:  # the teacher: no training run, scores cached in its own folder
        model = LazyModel(lambda: load_sentence_model(profile.teacher))
        evaluate_model(model, "teacher", profile, CHAPTER, ("sts17",), cache_dir=miner.folder, sts17_subsets=subsets)
    else:
        evaluate_run(result, profile, CHAPTER, ("sts17",), miner.label, sts17_subsets=subsets)
    benchmark.run_tatoeba_all(profile, [miner], CHAPTER, s["tatoeba_languages"], s["tatoeba_max_sentences"])
    benchmark.run_mining(profile, [miner], chapter=CHAPTER, all_modes=False, only=s["mining_benchmarks"])


def run_study(profile: Profile, worker: int = 0, workers: int = 1, train: bool | None = None) -> pd.DataFrame:
    """Train what is missing and score what is not cached; ``worker`` of ``workers`` takes every
    ``workers``-th run (the teacher is scored by worker 0). With ``train`` False only finished runs
    are scored and the missing ones are listed as not done."""
    train = settings(profile)["train"] if train is None else train
    runs = plan(profile)
    for run in runs:
        config_for(profile, run)  # every config valid before the first hour of training
    if worker == 0:
        evaluate(profile, benchmark.teacher_miner(profile), None)
        for name in settings(profile)["baselines"]:
            evaluate(profile, benchmark.baseline_miner(profile, name), None, baseline=name)
    objectives = list(settings(profile)["objectives"])

    def mine(planned: list[PlannedRun]) -> list[PlannedRun]:
        """This worker's share: whole objectives (every candidate and every later seed of one objective
        go to one worker, so it can make that objective's choice alone); sensitivity runs by position."""
        keys = [i if r.extra else objectives.index(r.objective) for i, r in enumerate(planned)]
        return [r for r, key in zip(planned, keys) if key % workers == worker]

    for _ in range(2):  # the second pass: the later seeds planned once the learning rates are chosen
        for run in tqdm(mine(runs), desc=f"chapter 6 runs (worker {worker + 1}/{workers})"):
            cfg = config_for(profile, run)
            if not train and finished_run(profile, run.name, run.seed, cfg) is None:
                continue
            result = distill(profile, run.name, run.seed, cfg=cfg)
            record_training(profile, result, CHAPTER)
            if not run.dev_only:
                try:
                    evaluate(profile, run_miner(run, result, profile), result)
                except WeightsMissingError:  # recorded on another machine, a score not cached: train it again
                    if not train:
                        log.warning("%s has no weights here and a score to compute: not scored (train=False)", run.name)
                        continue
                    log.warning("%s has no weights here and a score to compute: training it again", run.name)
                    result = distill(profile, run.name, run.seed, cfg=cfg, force=True)
                    record_training(profile, result, CHAPTER)
                    evaluate(profile, run_miner(run, result, profile), result)
        if not settings(profile)["learning_rates"]:
            break
        runs = plan(profile)
    return runs_frame(profile, runs)


def runs_frame(profile: Profile, runs: list[PlannedRun]) -> pd.DataFrame:
    rows = []
    for run in runs:
        result = finished_run(profile, run.name, run.seed, config_for(profile, run))
        rows.append(
            {
                "objective": run.label,
                "model": run.name,
                "seed": run.seed,
                "learning rate": config_for(profile, run).learning_rate,
                "dev only": run.dev_only,
                "done": result is not None,
                "run_id": result.run_dir.name if result else None,
                "train_seconds": round(result.info.get("train_seconds", np.nan), 1) if result else np.nan,
            }
        )
    return pd.DataFrame(rows)


def learning_rate_table(profile: Profile) -> pd.DataFrame:
    """Every learning-rate candidate of the first seed: its dev scores at the end of training, the dev
    score the choice is made by, and which one became the race row (the choice never reads a test file)."""
    s = settings(profile)
    if not s["learning_rates"]:
        return pd.DataFrame()
    seed = (s["seeds"] or profile.seeds)[0]
    chosen = chosen_learning_rates(profile)
    rows = []
    for obj in s["objectives"]:
        for lr in s["learning_rates"]:
            run = PlannedRun(_lr_name(obj, lr), obj, seed, _fields(s, obj, lr))
            result = finished_run(profile, run.name, seed, config_for(profile, run))
            row = {"objective": obj, "learning rate": lr, "done": result is not None}
            if result is not None:
                row |= {k: v for k, v in dev_scores(result.log).items() if k != "dev MSE x1e4" or obj == "mse"}
                row |= {"dev score": dev_score(result.log), "race row": chosen[obj] == lr}
            rows.append(row)
    table = pd.DataFrame(rows).set_index(["objective", "learning rate"]).round(1)
    # a column of True only once every candidate is trained: one column less for the page's width
    return table.drop(columns="done") if table["done"].all() else table


def finished_students(profile: Profile, seed: int) -> list[tuple[str, DistillResult, tuple[str, ...]]]:
    """(model name, run, languages) of this chapter's finished runs at ``seed``: for the other
    chapters to show them next to their own students without training anything."""
    out = []
    for run in plan(profile):
        if run.seed != seed or run.dev_only:
            continue
        cfg = config_for(profile, run)
        result = finished_run(profile, run.name, run.seed, cfg)
        if result is not None:
            out.append((run.name, result, tuple(cfg.languages)))
    return out


def scores(metrics: pd.DataFrame, runs: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """One row per (objective, seed) of the finished runs, plus the teacher: the summary columns."""
    d = metrics[metrics.chapter == CHAPTER]
    done = runs[runs.done & ~runs["dev only"]]
    references = ["teacher", *(baseline_label(b) for b in settings(profile)["baselines"])]
    labels = {(m, None): m for m in references} | {(r.model, r.seed): r.objective for r in done.itertuples()}
    seen_codes = {TATOEBA_CODES[lang] for lang in profile.student_config(settings(profile)["base"]).languages}
    rows = []
    for (model, seed), label in labels.items():
        m = d[(d.model == model) & ((d.seed == seed) if seed is not None else d.seed.isna())]
        if m.empty:
            continue
        sts = m[(m.task == "sts17") & (m.metric == "spearman")].set_index("subset").value
        tat = m[(m.task == "tatoeba_all") & (m.metric == "accuracy")].set_index("subset").value
        f1 = m[(m.task == "mining") & (m.metric == "f1")].set_index("subset").value
        style = f1[f1.index.str.startswith("BUCC-style")]
        rows.append(
            {
                "objective": label,
                "seed": seed,
                "STS17 en-en": sts.get("en-en", np.nan),
                # one definition across the book: the paper's files (Table 1 without EN-EN, Table 2)
                "STS17 same language (non-en)": sts.reindex([s for s in MONOLINGUAL if s != "en-en"]).mean(),
                "STS17 cross-lingual": sts.reindex(CROSSLINGUAL).mean(),
                "Tatoeba trained": tat[tat.index.isin(seen_codes)].mean(),
                "Tatoeba unseen": tat[~tat.index.isin(seen_codes)].mean(),
                "BUCC zh-en F1": f1.get("BUCC zh-en", np.nan),
                "BUCC-style F1": style.mean() if len(style) else np.nan,
            }
        )
    return pd.DataFrame(rows)


def summary_table(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Mean +- sd over seeds (sd left out for a single seed), objectives in the plan's order. The
    system each objective stands for is in the chapter's first table and its Reading, not here: one
    more text column squeezes the score columns below the width of their headers."""
    order = [*dict.fromkeys(per_seed.objective)]  # the references (teacher, as-is systems) come first
    cols = [c for c in per_seed.columns if c not in ("objective", "seed")]
    rows = []
    for label in dict.fromkeys(o for o in order if o in set(per_seed.objective)):
        d = per_seed[per_seed.objective == label]
        row = {"objective": label, "seeds": int(d.seed.notna().sum())}
        for c in cols:
            mean, sd = d[c].mean(), d[c].std(ddof=1)
            row[c] = f"{mean:.1f}" if len(d) < 2 or np.isnan(sd) else f"{mean:.1f} ± {sd:.1f}"
        rows.append(row)
    return pd.DataFrame(rows).set_index("objective")


def summary_tables(per_seed: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The summary split in two for the page's width: similarity (the STS17 columns) and retrieval
    (Tatoeba and mining), each with the number of seeds."""
    table = summary_table(per_seed)
    sts = [c for c in table.columns if c.startswith("STS17")]
    rest = [c for c in table.columns if c not in sts and c != "seeds"]
    return table[["seeds", *sts]], table[["seeds", *rest]]


def score_candidates(profile: Profile, runs: pd.DataFrame, objectives: list[str], bench: str) -> dict:
    """Mined candidates (score, gold) of the first seed of each objective on one benchmark, from the
    embedding caches: how each objective separates translations from the rest."""
    splits = benchmark.benchmarks(profile)[bench]
    out, thresholds = {}, {}
    first = runs[runs.done].sort_values("seed").drop_duplicates("objective").set_index("objective")
    for obj in objectives:
        if obj not in first.index:
            continue
        run = _planned(profile, obj, int(first.loc[obj].seed))
        result = finished_run(profile, run.name, run.seed, config_for(profile, run))
        miner = run_miner(run, result, profile)
        mined = benchmark.mine(miner, splits, k=benchmark.settings(profile)["k"])
        out[obj], thresholds[obj] = mined.candidates, mined.threshold
    return {"candidates": out, "thresholds": thresholds}


def _planned(profile: Profile, objective: str, seed: int) -> PlannedRun:
    return next(r for r in plan(profile) if r.label == objective and r.seed == seed)


#: The columns the race is read by: (column, what it measures).
RACE_COLUMNS = {
    "STS17 cross-lingual": "cross-lingual STS",
    "STS17 en-en": "English STS",
    "BUCC-style F1": "BUCC-style mining",
    "BUCC zh-en F1": "BUCC zh-en mining",
    "Tatoeba trained": "Tatoeba (trained languages)",
}


def reading(profile: Profile, per_seed: pd.DataFrame, lr_table: pd.DataFrame, runs: pd.DataFrame) -> prose.Reading:
    """The race read from its tables: per column, the winning objective and whether it wins by more
    than the seed noise (the largest seed sd of an objective with several seeds on that column)."""
    r = prose.Reading("ch6_objectives.reading")
    race = per_seed[per_seed.seed.notna()]
    refs = per_seed[per_seed.seed.isna()].set_index("objective")
    if race.empty:
        r.add("No race yet.", "None of the race's runs is finished.")
        return r
    mean = race.groupby("objective", sort=False).mean(numeric_only=True)
    sd = race.groupby("objective", sort=False).std(numeric_only=True)
    seeds = race.groupby("objective", sort=False).size()
    floor = float(settings(profile)["noise_floor"])
    leaders: dict[str, list[str]] = {}  # per column, the objectives within the noise of the best
    for col, what in RACE_COLUMNS.items():
        if col not in mean or mean[col].isna().all():
            continue
        order = mean[col].dropna().sort_values(ascending=False)
        noise = float(sd.loc[seeds > 1, col].max()) if (seeds > 1).any() else float("nan")
        if len(order) < 2:
            continue
        lead = order.iloc[0] - order.iloc[1]
        margin = floor if np.isnan(noise) else max(noise, floor)
        leaders[col] = [o for o in order.index if order.iloc[0] - order[o] <= margin]
        verdict = (
            "no seed spread measured yet, so the margin is not tested"
            if np.isnan(noise)
            else "more than the seed noise"
            if lead > margin
            else "within the seed noise"
        )
        spread = f"largest seed sd {prose.fmt(noise)}"
        if noise < floor:
            spread += f", a win needs more than {prose.fmt(floor)}"
        r.add(
            f"{what[0].upper()}{what[1:]}.",
            f"`{order.index[0]}` ({SYSTEMS.get(order.index[0], '')}) {prose.fmt(order.iloc[0])}, "
            f"then `{order.index[1]}` {prose.fmt(order.iloc[1])}: a lead of {prose.fmt(lead)} points, {verdict}"
            + (f" ({spread})" if not np.isnan(noise) else "")
            + ". All: "
            + ", ".join(f"{o} {prose.fmt(v)}" for o, v in order.items())
            + ".",
        )
    _trade_off(r, mean, leaders)
    start = baseline_label(profile.student_config(settings(profile)["base"]).init)
    if start in refs.index:  # what every race row starts from, scored as it is
        cols = [c for c in ("STS17 cross-lingual", "STS17 en-en", "BUCC-style F1") if c in mean and c in refs]
        deltas = {
            obj: [(c, mean.loc[obj, c] - refs.loc[start, c]) for c in cols if not np.isnan(mean.loc[obj, c])]
            for obj in mean.index
        }
        cross = "STS17 cross-lingual"
        below = [o for o in mean.index if cross in cols and mean.loc[o, cross] < refs.loc[start, cross]]
        r.add(
            f"Against the start (`{start}`, where every race row begins).",
            "; ".join(f"`{o}` " + ", ".join(f"{c} {prose.signed(v)}" for c, v in d) for o, d in deltas.items() if d)
            + "."
            + (
                f" {prose.names([f'`{o}`' for o in below])} {'ends' if len(below) == 1 else 'end'} below the start "
                "on cross-lingual STS: at this budget, training took away some of what e5 already had."
                if below
                else ""
            ),
        )
    if len(refs):
        cols = [c for c in ("STS17 cross-lingual", "BUCC-style F1") if c in refs.columns]
        r.add(
            "Reference rows (as they are, not trained here).",
            "; ".join(f"{m}: " + ", ".join(f"{c} {prose.fmt(refs.loc[m, c])}" for c in cols) for m in refs.index) + ".",
        )
    if len(lr_table) and "race row" in lr_table:
        chosen = lr_table[lr_table["race row"] == True].reset_index()  # noqa: E712 (a column of objects)
        r.add(
            "Learning rates chosen on dev.",
            ", ".join(
                f"{row.objective} {prose.rate(row['learning rate'])} (dev score {prose.fmt(row['dev score'])})"
                for _, row in chosen.iterrows()
            )
            + ".",
        )
    done = runs[runs.done & runs.train_seconds.notna()]
    if len(done):
        r.add(
            "Budget.",
            f"{len(done)} finished runs took {prose.span(done.train_seconds / 60)} minutes of training "
            f"each, {prose.fmt(float(done.train_seconds.sum()) / 3600)} hours in all "
            "(one-thread workers, two at a time).",
        )
    return r


def _trade_off(r: prose.Reading, mean: pd.DataFrame, leaders: dict[str, list[str]]) -> None:
    """The paper's trade-off read from the leading groups (objectives within the noise of the best):
    distillation leading similarity while a ranking objective leads mining."""
    sts, mining = leaders.get("STS17 cross-lingual"), leaders.get("BUCC-style F1")
    if not sts or not mining:
        return
    claim = "distillation shapes the best space for similarity and a translation-ranking objective the best for mining"

    def group(g: list[str]) -> str:
        """'`a` leads' or '`a` and `b` (level within the noise) lead'."""
        if len(g) == 1:
            return f"`{g[0]}` leads"
        return prose.names([f"`{o}`" for o in g]) + " (level within the noise) lead"

    both = [o for o in sts if o in mining]  # an objective that leads both leaves nothing to trade
    if both:
        text = f"No trade-off at this budget: {group(both)} both cross-lingual STS and BUCC-style mining."
    elif "mse" in sts and set(mining) - {"combined"}:  # combined is half distillation: not a ranking win
        text = f"The paper's trade-off appears: {claim}."
    else:
        text = (
            f"{group(sts)} cross-lingual STS and {group(mining)} BUCC-style mining; the paper's reading "
            f"({claim}) " + ("holds in part." if "mse" in sts + mining else "does not show here.")
        )
    if "mse" in mean.index and "mse" not in both:
        gaps = [
            f"{prose.fmt(mean[c].max() - mean.loc['mse', c])} points on {w}"
            for c, w in (("STS17 cross-lingual", "cross-lingual STS"), ("BUCC-style F1", "BUCC-style mining"))
            if "mse" not in leaders[c]
        ]
        if gaps:
            text += " Distillation (`mse`) is behind the best by " + " and ".join(gaps) + "."
    r.add("The trade-off.", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--worker", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print(run_study(load_profile(args.profile), args.worker, args.workers, train=True).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
