"""The runs behind chapter 5: which corpus, how many pairs, which vocabulary, which target scale.

Every run is a distilled student built from the profile's ``distill`` defaults, the chapter's
``base`` settings and one change (a source, a number of pairs, a vocabulary, a target mode), so a
difference between two rows has one cause. The plan is data (``chapters.05_dataset_ablations``);
runs and scores are cached by config hash, so the notebook re-renders in seconds, and a background
job (``python -m mlkd_utils.chapters.ch5_dataset_ablations --profile cpu --worker 0 --workers 2``) and the notebook
call the same functions.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from mlkd_utils import prose
from mlkd_utils.config import TATOEBA_CODES, VOCABULARIES, DistillConfig, Profile, _merge_dataclass, load_profile
from mlkd_utils.corpus import sources_for
from mlkd_utils.data.parallel import load_parallel
from mlkd_utils.data.tatoeba import load_tatoeba
from mlkd_utils.distill import finished_run
from mlkd_utils.errors import ConfigError
from mlkd_utils.experiments import train_and_evaluate
from mlkd_utils.paths import runs_dir
from mlkd_utils.tables import one_row_per_run, own_pair

log = logging.getLogger(__name__)

CHAPTER = "05_dataset_ablations"
#: Every model of this chapter is named ``ablation-...``: other chapters leave them out of their tables.
PREFIX = "ablation-"
STUDIES = ("corpus", "pairs", "fixed-steps", "targets", "vocabulary", "curse")

#: What each staged source is (for the corpus table; see the data root's README for provenance).
SOURCE_DOMAINS = {
    "wmt_newstest": "news (WMT test sets)",
    "tatoeba_challenge": "short everyday sentences (Tatoeba)",
    "xnli_devtest": "NLI premises/hypotheses, human-translated",
    "multi30k": "image captions",
    "opennmt_wmt_sample": "news/web (WMT training sample)",
    "iwslt17_ted_devtest": "TED talk transcripts",
    "ntrex128": "news, translated from English",
    "flores101_devtest": "Wikipedia-style prose",
    "muse_dict": "bilingual dictionary (single words)",
    "unpc_devtest": "UN parliamentary documents",
    "tico19_test": "COVID-19 health texts",
    "all": "all of the above, balanced",
}


@dataclass(frozen=True)
class PlannedRun:
    study: str
    name: str
    seed: int
    languages: tuple[str, ...]
    overrides: dict[str, Any] = field(default_factory=dict, hash=False)
    #: Descriptors for the tables: the source, the pairs per language, the steps.
    source: str = ""
    pairs: int = 0
    steps: int = 0


def settings(profile: Profile) -> dict[str, Any]:
    return profile.chapter(CHAPTER)


def _steps_for_one_epoch(pairs: int, batch_size: int) -> int:
    return max(1, pairs // batch_size)  # the trainer drops the last partial batch


def plan(profile: Profile, studies: tuple[str, ...] = STUDIES) -> list[PlannedRun]:
    """All runs, in training order: one seed of everything before further seeds, so an interrupted
    session still has every table."""
    spec = settings(profile)
    if not spec:
        return []
    base = dict(spec.get("base", {}))
    seeds = list(spec.get("seeds", profile.seeds))
    first = seeds[0]
    batch = base.get("batch_size", profile.distill.batch_size)
    steps = base.get("max_steps", profile.distill.max_steps)
    pairs = base.get("pairs_per_language", profile.distill.pairs_per_language)
    out: list[PlannedRun] = []
    if "corpus" in studies:
        for lang, sources in spec.get("corpora", {}).items():
            for source in [*sources, "all"]:
                corpora = list(sources) if source == "all" else [source]
                out.append(
                    PlannedRun(
                        "corpus", f"{PREFIX}corpus-en-{lang}-{source}", first, (lang,),
                        {**base, "languages": [lang], "corpora": corpora}, source, pairs, steps,
                    )
                )  # fmt: skip
    curve = spec.get("curve", {})

    def curve_runs(seed: int) -> list[PlannedRun]:
        runs = []
        for lang in curve.get("languages", []):
            for n in curve.get("pairs", []):
                k = _steps_for_one_epoch(n, batch)
                over = {**base, "languages": [lang], "pairs_per_language": n, "max_steps": k, "eval_steps": k}
                runs.append(PlannedRun("pairs", f"{PREFIX}pairs-en-{lang}-{n}", seed, (lang,), over, "", n, k))
        return runs

    # ``one_epoch: false``: only the equal-budget series (every size trained for ``fixed_steps`` steps)
    one_epoch = curve.get("one_epoch", True)
    if "pairs" in studies and one_epoch:
        out += curve_runs(first)
    if "targets" in studies and spec.get("targets"):
        t = spec["targets"]
        lang = t["language"]
        t_base = dict(t.get("base", base))  # a study may run on a start of its own (the English one)
        if "base" in t:  # its own base merges over the profile's defaults, not over the chapter's base
            t_steps = t_base.get("max_steps", profile.distill.max_steps)
            t_pairs = t_base.get("pairs_per_language", profile.distill.pairs_per_language)
        else:
            t_steps, t_pairs = steps, pairs
        for mode in t.get("modes", ["normalized", "scaled", "raw"]):
            over = {**t_base, "languages": [lang], "target_mode": mode}
            if mode == "scaled":
                over["target_scale"] = float(t["scale"])
            name = f"{PREFIX}target-{mode}-en-{lang}"
            out.append(PlannedRun("targets", name, first, (lang,), over, "", t_pairs, t_steps))
    if "vocabulary" in studies and spec.get("vocabulary"):
        v = spec["vocabulary"]
        langs = tuple(v["languages"])
        v_steps = v.get("max_steps", v["base"].get("max_steps", profile.distill.max_steps) if "base" in v else steps)
        for variant in v.get("variants", list(VOCABULARIES)):
            over = {
                **v.get("base", base),
                "languages": list(langs),
                "pairs_per_language": v["pairs_per_language"],
                "max_steps": v_steps,
                "vocabulary": variant,
                "new_vocab_size": v.get("new_vocab_size", 4000),
            }
            name = f"{PREFIX}vocab-{variant}-{len(langs)}lang"
            out.append(PlannedRun("vocabulary", name, first, langs, over, "", v["pairs_per_language"], v_steps))
    if "fixed-steps" in studies and curve.get("fixed_steps"):
        k = int(curve["fixed_steps"])
        for lang in curve.get("languages", []):
            for n in curve.get("pairs", []):
                if curve.get("one_epoch", True) and _steps_for_one_epoch(n, batch) >= k:
                    continue  # one epoch already takes at least k steps: it is its own point
                over = {**base, "languages": [lang], "pairs_per_language": n, "max_steps": k, "eval_steps": k}
                name = f"{PREFIX}pairs-en-{lang}-{n}-steps{k}"
                out.append(PlannedRun("fixed-steps", name, first, (lang,), over, "", n, k))
    if "curse" in studies and spec.get("curse"):
        # The multilingual student's own recipe (pairs per language, steps, batch) on one language:
        # equal compute, and every step spent on that language instead of shared with nine others.
        c = spec["curse"]
        recipe = {**profile.students[c["base"]], **c.get("overrides", {})}
        for lang in c.get("languages", []):
            over = {**recipe, "languages": [lang]}
            cfg = _merge_dataclass(profile.distill, over, f"chapters.{CHAPTER}.curse")
            name = f"{PREFIX}curse-en-{lang}"
            out.append(PlannedRun("curse", name, first, (lang,), over, "", cfg.pairs_per_language, cfg.max_steps))
    if "corpus" in studies:  # later seeds of the sources whose order one seed cannot settle
        extra = spec.get("corpus_seeds", {})
        planned = {(r.name, r.seed): r for r in out if r.study == "corpus"}
        for seed in extra.get("seeds", []):
            for lang, sources in extra.get("sources", {}).items():
                for source in sources:
                    run = planned.get((f"{PREFIX}corpus-en-{lang}-{source}", first))
                    if run is None:
                        raise ConfigError(f"chapters.{CHAPTER}.corpus_seeds: {lang} {source} is not in corpora.{lang}")
                    out.append(dataclasses.replace(run, seed=seed))
    if "fixed-steps" in studies:  # later seeds of the curve points the reading leans on
        extra = spec.get("curve_seeds", {})
        points = {(r.languages[0], r.pairs): r for r in out if r.study == "fixed-steps"}
        for seed in extra.get("seeds", []):
            for lang, sizes in extra.get("pairs", {}).items():
                for n in sizes:
                    if (lang, n) not in points and one_epoch and n in curve.get("pairs", []):
                        continue  # its own one-epoch point, which every seed already trains
                    if (lang, n) not in points:
                        raise ConfigError(f"chapters.{CHAPTER}.curve_seeds: {lang} {n} is not a point of the curve")
                    out.append(dataclasses.replace(points[(lang, n)], seed=seed))
    if "pairs" in studies and one_epoch:
        for seed in seeds[1:]:
            out += curve_runs(seed)
    return out


def config_for(profile: Profile, run: PlannedRun) -> DistillConfig:
    return _merge_dataclass(profile.distill, run.overrides, f"chapters.{CHAPTER}: {run.name}")


def validate_plan(profile: Profile, runs: list[PlannedRun]) -> None:
    """Every run's config is valid and every source exists, before the first hour of training."""
    for run in runs:
        cfg = config_for(profile, run)
        for lang in cfg.languages:
            missing = sorted(set(cfg.corpora) - set(sources_for(cfg, lang)))
            if run.study == "corpus" and missing:
                raise ConfigError(f"chapters.{CHAPTER}.corpora.{lang}: no en-{lang} data for {missing}")


def run_study(
    profile: Profile,
    studies: tuple[str, ...] = STUDIES,
    worker: int = 0,
    workers: int = 1,
    train: bool = True,
    reverse: bool = False,
) -> pd.DataFrame:
    """Train what is missing and evaluate what is not cached (a ``worker`` of ``workers`` takes every
    ``workers``-th run); one row per planned run with its run id and training cost. With
    ``train=False`` (``chapters.05_dataset_ablations.train: false``) only finished runs are scored:
    a chapter rendered before all runs exist, with the missing ones listed as not done.
    ``reverse`` takes the worker's share from its end: a second process that helps a lagging worker
    (they meet in the middle; a run one of them trains, the other waits for and reuses)."""
    runs = plan(profile, studies)
    validate_plan(profile, runs)
    mine = runs[worker::workers][:: -1 if reverse else 1]
    for run in tqdm(mine, desc=f"chapter 5 runs (worker {worker + 1}/{workers}{', reversed' if reverse else ''})"):
        cfg = config_for(profile, run)
        if not train and finished_run(profile, run.name, run.seed, cfg) is None:
            continue
        train_and_evaluate(
            profile,
            run.name,
            CHAPTER,
            run.seed,
            tatoeba_languages=list(run.languages),
            cfg=cfg,
            sts17_subsets=settings(profile).get("sts17_subsets"),
        )
    return runs_frame(profile, runs)


def runs_frame(profile: Profile, runs: list[PlannedRun]) -> pd.DataFrame:
    """One row per planned run: what it is, its run id and training seconds (finished runs only;
    the others are listed with ``done`` False, never silently left out)."""
    rows = []
    for run in runs:
        cfg = config_for(profile, run)
        row = {
            "study": run.study,
            "model": run.name,
            "seed": run.seed,
            "languages": " ".join(run.languages),
            "source": run.source,
            "pairs": run.pairs,
            "steps": run.steps,
            "done": False,
        }
        result = finished_run(profile, run.name, run.seed, cfg)
        if result is not None:
            row.update(
                done=True,
                run_id=result.run_dir.name,
                train_seconds=round(result.info.get("train_seconds", math.nan), 1),
                vocabulary_added=result.info.get("vocabulary_added", 0),
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _scores(metrics: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Per finished run and seed: every STS17 file and the Tatoeba accuracy of each own language, wide."""
    d = metrics[(metrics.chapter == CHAPTER) & metrics.model.isin(runs.model)]
    sts = d[(d.task == "sts17") & (d.metric == "spearman")].pivot_table(
        index=["model", "seed"], columns="subset", values="value"
    )
    tat = d[(d.task == "tatoeba") & (d.metric == "accuracy")].pivot_table(
        index=["model", "seed"], columns="subset", values="value"
    )
    tat.columns = [f"tatoeba {c}" for c in tat.columns]
    return sts.join(tat, how="outer").reset_index()


def tatoeba_overlap(source: str, lang: str, max_chars: int) -> float:
    """Share (%) of the Tatoeba test pairs whose non-English sentence is in the training source:
    a source that contains the test set would score on Tatoeba by memory, not by alignment."""
    test = set(load_tatoeba(lang).source)
    train = {t.strip() for t in load_parallel(source, lang, max_chars).other}
    return 100 * len({t.strip() for t in test} & train) / max(1, len(test))


def corpus_table(profile: Profile, metrics: pd.DataFrame, runs: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The paper's Table 4 for one language: each source (and all together) with its size, domain,
    overlap with the Tatoeba test set, STS17 on its own pair (and AR-AR for Arabic), Tatoeba; scores
    are means over the source's finished seeds, with the own pair's sd where a source has several."""
    rows = runs[(runs.study == "corpus") & (runs.languages == lang) & runs.done]
    per_seed = _scores(metrics, rows)
    scores = per_seed.groupby("model").mean(numeric_only=True)
    pair, code = own_pair(lang), TATOEBA_CODES[lang]
    spread = per_seed.groupby("model")[pair].std() if pair in per_seed else pd.Series(dtype=float)
    seeds = per_seed.groupby("model").seed.nunique()
    planned = {p.name: p for p in plan(profile, ("corpus",))}
    overlaps: dict[str, float] = {}  # per source: the "all" row reuses the single-source rows' values
    out = []
    for r in rows.drop_duplicates("model").itertuples():
        comp = pd.read_csv(runs_dir(profile.name) / r.run_id / "composition.csv")
        sc = scores.loc[r.model] if r.model in scores.index else pd.Series(dtype=float)
        cfg = config_for(profile, planned[r.model])
        for s in cfg.corpora:
            if s not in overlaps:
                overlaps[s] = tatoeba_overlap(s, lang, cfg.max_sentence_chars)
        out.append(
            {
                "source": r.source,
                "domain": SOURCE_DOMAINS.get(r.source, ""),
                "pairs available": int(comp.available.sum()),
                # pairs sharing a sentence with the mining benchmark (chapter 4), dropped before drawing
                "benchmark excluded": int(comp.benchmark_excluded.sum()),
                "tatoeba test overlap %": round(max(overlaps[s] for s in cfg.corpora), 1),
                f"STS17 {pair}": sc.get(pair),
                f"sd {pair}": spread.get(r.model),
                "seeds": int(seeds.get(r.model, 0)),
                **({"STS17 ar-ar": sc.get("ar-ar")} if lang == "ar" else {}),
                "STS17 en-en": sc.get("en-en"),
                f"tatoeba {code}": sc.get(f"tatoeba {code}"),
            }
        )
    if not out:  # no run of this language finished yet (a partial render): an empty table, not an error
        return pd.DataFrame(columns=["source"]).set_index("source")
    table = pd.DataFrame(out).set_index("source").round(1)
    if table[f"sd {pair}"].isna().all():  # one seed everywhere: no spread column, the seeds column says so
        table = table.drop(columns=f"sd {pair}")
    return table


def curve_frame(metrics: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Learning-curve points, one per (language, pairs, steps, seed): own-pair STS17 and Tatoeba,
    with the series: one epoch over the pairs, or the pairs repeated to a fixed number of steps."""
    rows = runs[runs.study.isin(["pairs", "fixed-steps"]) & runs.done]
    scores = _scores(metrics, rows)
    out = rows.merge(scores, on=["model", "seed"], how="left")
    out["series"] = out.study.map({"pairs": "one epoch", "fixed-steps": "repeated to fixed steps"})
    out["own-pair STS17"] = [r.get(own_pair(r["languages"])) for _, r in out.iterrows()]
    out["tatoeba"] = [r.get(f"tatoeba {TATOEBA_CODES[r['languages']]}") for _, r in out.iterrows()]
    return out[["languages", "series", "pairs", "steps", "seed", "own-pair STS17", "tatoeba"]].rename(
        columns={"languages": "lang"}
    )


def curve_table(curve: pd.DataFrame) -> pd.DataFrame:
    """Mean and sd over seeds of each learning-curve point."""
    g = curve.groupby(["lang", "series", "pairs", "steps"])
    out = g[["own-pair STS17", "tatoeba"]].agg(["mean", "std"]).round(1)
    out[("seeds", "")] = g.size()
    if (out[("seeds", "")] == 1).all():  # one seed everywhere: the sd columns would be empty
        out = out.drop(columns=[c for c in out.columns if c[1] == "std"])
    return out


def study_table(metrics: pd.DataFrame, runs: pd.DataFrame, study: str, columns: list[str]) -> pd.DataFrame:
    """One row per model of a study (mean over its seeds), the given score columns."""
    rows = runs[(runs.study == study) & runs.done]
    scores = _scores(metrics, rows)
    keep = [c for c in columns if c in scores.columns]
    return scores.groupby("model", sort=False)[keep].mean().reindex(rows.model.unique()).round(1)


def curse_table(metrics: pd.DataFrame, entries: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """Bilingual against multilingual students, whichever chapter trained them: ``entries`` maps a
    model to (pairs per language, steps); mean over seeds of EN-DE, AR-EN, AR-AR and Tatoeba."""
    d = one_row_per_run(metrics[metrics.model.isin(entries)])
    rows = []
    for model, (pairs, steps) in entries.items():
        m = d[d.model == model]
        if m.empty:
            continue
        sts = m[(m.task == "sts17") & (m.metric == "spearman")].groupby("subset").value.mean()
        tat = m[(m.task == "tatoeba") & (m.metric == "accuracy")].groupby("subset").value.mean()
        rows.append(
            {
                "model": model,
                "pairs per language": pairs,
                "steps": steps,
                "seeds": m.seed.nunique(),
                **{f"STS17 {k}": sts.get(k) for k in ("en-de", "ar-en", "ar-ar", "en-en")},
                **{f"tatoeba {k}": tat.get(k) for k in ("deu", "ara")},
            }
        )
    return pd.DataFrame(rows).set_index("model").round(1)


def start_scores(profile: Profile) -> tuple[str, pd.Series]:
    """The students' start as it is, scored on this chapter's STS17 files and Tatoeba languages
    (cached in its folder): the line every run is read against. The e5 start's fitted map keeps its
    cosines, so the start scores what multilingual-e5-small scores. Returns (label, scores by STS17
    file and ``tatoeba <code>``)."""
    from mlkd_utils.baselines import baseline_folder, label, teacher_folder
    from mlkd_utils.experiments import LazyModel, evaluate_model
    from mlkd_utils.models import load_encoder, load_sentence_model

    spec = settings(profile)
    init = spec.get("base", {}).get("init", "profile")
    init = profile.student_init if init == "profile" else init
    langs = sorted({lang for r in plan(profile, ("corpus", "pairs", "fixed-steps", "curse")) for lang in r.languages})
    if init == "teacher":
        name, model, folder = (
            "teacher",
            LazyModel(lambda: load_sentence_model(profile.teacher)),
            teacher_folder(profile),
        )
    else:
        name, model, folder = label(init), LazyModel(lambda: load_encoder(init)), baseline_folder(profile, init)
    scores = evaluate_model(
        model,
        name,
        profile,
        CHAPTER,
        ("sts17", "tatoeba"),
        tatoeba_languages=langs,
        cache_dir=folder,
        sts17_subsets=spec.get("sts17_subsets"),
    )
    sts = scores["sts17"].set_index("subset")["spearman"]
    tat = scores["tatoeba"].set_index("subset")["accuracy"]
    return name, pd.concat([sts, tat.rename(lambda c: f"tatoeba {c}")])


def curse_entries(profile: Profile, planned: list[PlannedRun]) -> dict[str, tuple[int, int]]:
    """The rows of the curse table: the multilingual student whose recipe the curse runs copy (``shared``:
    the model trained on that recipe, by whichever chapter; the recipe's own name by default), the
    curse runs (that recipe on one language), and the bilingual students of the same start that
    chapter 3 trained; each with (pairs per language, steps)."""
    c = settings(profile).get("curse", {})
    base = c.get("base")
    if not base:
        return {}
    cfg = profile.student_config(base)
    init = cfg.init
    entries = {c.get("shared", base): (cfg.pairs_per_language, cfg.max_steps)}
    entries |= {r.name: (r.pairs, r.steps) for r in planned if r.study == "curse"}
    for name in profile.chapter("03_sts").get("students", []):
        cfg = profile.student_config(name)
        if cfg.init == init and len(cfg.languages) == 1:
            entries.setdefault(name, (cfg.pairs_per_language, cfg.max_steps))
    return entries


def vocabulary_coverage(profile: Profile, runs: pd.DataFrame, max_sentences: int | None = 1000) -> pd.DataFrame:
    """Tokens per sentence and [UNK] rate on the Tatoeba test sentences, with the teacher's
    vocabulary and with the extended one the vocabulary runs saved."""
    from transformers import AutoTokenizer

    from mlkd_utils.evaluation.tokenizer import tatoeba_texts
    from mlkd_utils.vocabulary import coverage_table

    rows = runs[(runs.study == "vocabulary") & runs.done]
    tokenizers = {}
    for r in rows.itertuples():
        variant = r.model.removeprefix(f"{PREFIX}vocab-").rsplit("-", 1)[0]
        if variant in ("teacher", "extended"):  # extended-random shares the extended tokenizer
            tokenizers[variant] = AutoTokenizer.from_pretrained(str(runs_dir(profile.name) / r.run_id / "model"))
    if not tokenizers:
        return pd.DataFrame()
    langs = rows.languages.iloc[0].split()
    return coverage_table(tokenizers, tatoeba_texts(langs, max_sentences))


def reading(
    profile: Profile,
    corpus_tables: dict[str, pd.DataFrame],
    curve: pd.DataFrame,
    curse: pd.DataFrame,
    start: pd.Series | None = None,
    vocab: pd.DataFrame | None = None,
    coverage: pd.DataFrame | None = None,
    targets: pd.DataFrame | None = None,
    cost: pd.DataFrame | None = None,
) -> prose.Reading:
    """The chapter's findings from its tables; ``start`` holds the scores of the students' start
    (multilingual-e5-small as it is: the fitted map keeps its cosines), by STS17 file and Tatoeba code."""
    r = prose.Reading("ch5_dataset_ablations.reading")
    start = start if start is not None else pd.Series(dtype=float)
    for lang, table in corpus_tables.items():
        if len(table):
            _corpus(r, lang, table, start, float(settings(profile).get("noise_floor", 0.0)))
    if len(curve):
        _curve(r, curve, start)
    if len(curse):
        _curse(r, profile, curse)
    if vocab is not None and len(vocab):
        _vocabulary(r, vocab, coverage)
    if targets is not None and len(targets):
        first = [c for c in targets.columns if c not in ("en-en",)][0]
        r.add(
            "Target scaling (English start).",
            ", ".join(f"{m.split('target-')[-1].split('-en-')[0]} {prose.fmt(v)}" for m, v in targets[first].items())
            + f" on {first.upper()}: "
            + (
                "the plain normalised targets are best."
                if targets[first].idxmax().startswith(f"{PREFIX}target-normalized")
                else f"`{targets[first].idxmax()}` is best here."
            ),
        )
    if cost is not None and len(cost):
        r.add(
            "Budget.",
            "Training wall time per study (one-thread workers, two at a time): "
            + ", ".join(
                f"{study} {prose.fmt(row.minutes)} min over {int(row.done)} of {int(row.runs)} runs"
                for study, row in cost.iterrows()
            )
            + f"; {prose.fmt(float(cost.minutes.sum()) / 60)} hours in all.",
        )
    return r


def _seed_noise(table: pd.DataFrame, pair: str, order: pd.Series, floor: float) -> str:
    """Which sources lead by more than the seed noise: the largest sd of a source with several seeds,
    and never less than ``floor`` points (two equal seeds give sd 0)."""
    sd_col = f"sd {pair}"
    if sd_col not in table or table[sd_col].isna().all() or len(order) < 2:
        return (
            " One seed per source: a difference of a point or two is within what a new seed could move."
            if len(order) > 1
            else ""
        )
    noise = float(table[sd_col].max())
    margin = max(noise, floor)
    several = int((table["seeds"] > 1).sum())
    lead = float(order.iloc[0] - order.iloc[1])
    leaders = [s for s, v in order.items() if order.iloc[0] - v <= margin]
    text = (
        f" {prose.count(several, len(order), 'sources')} have several seeds (largest sd {prose.fmt(noise)}"
        + (f"; a lead must exceed {prose.fmt(floor)} points" if noise < floor else "")
        + f"): `{order.index[0]}` leads `{order.index[1]}` by {prose.fmt(lead)}, "
        + ("more than the seed noise." if lead > margin else "within the seed noise.")
    )
    if len(leaders) > 1:
        text += f" Within that noise of the best: {prose.names(f'`{s}`' for s in leaders)}; their order is no finding."
    return text


def _corpus(r: prose.Reading, lang: str, table: pd.DataFrame, start: pd.Series, floor: float = 0.0) -> None:
    pair = own_pair(lang)
    col = f"STS17 {pair}"
    single = table.drop(index="all", errors="ignore")[col].dropna().sort_values(ascending=False)
    if single.empty:
        return
    text = (
        f"{len(single)} source{'s' if len(single) != 1 else ''}, each alone for the same number of pairs seen: "
        f"{pair.upper()} from "
        f"{prose.fmt(single.iloc[-1])} (`{single.index[-1]}`) to {prose.fmt(single.iloc[0])} (`{single.index[0]}`), "
        f"a spread of {prose.fmt(single.iloc[0] - single.iloc[-1])} points"
    )
    if pair in start:
        above = int((single > start[pair]).sum())
        text += f"; {prose.count(above, len(single), 'sources')} end above the start's {prose.fmt(start[pair])}"
    if "all" in table.index and pd.notna(table.loc["all", col]):
        text += (
            f". All sources together: {prose.fmt(table.loc['all', col])}, "
            f"{prose.gap(table.loc['all', col], single.iloc[0])} the best single source"
        )
    text += ". The ranking: " + ", ".join(f"{s} {prose.fmt(v)}" for s, v in single.items()) + "."
    text += _seed_noise(table.drop(index="all", errors="ignore"), pair, single, floor)
    overlap = table["tatoeba test overlap %"].max() if "tatoeba test overlap %" in table else 0.0
    text += (
        " No source contains Tatoeba test sentences."
        if overlap == 0
        else f" The largest Tatoeba test overlap of a source is {prose.fmt(overlap)}%: read its Tatoeba column "
        "with care."
    )
    r.add(f"Which corpus, EN-{lang.upper()} (Table 4).", text)


def _curve(r: prose.Reading, curve: pd.DataFrame, start: pd.Series) -> None:
    by_point = curve.groupby(["lang", "series", "pairs", "steps"])["own-pair STS17"]
    mean, spread = by_point.mean().reset_index(), by_point.agg(["std", "size"])
    parts, fractions, shares = [], {}, {}
    for (lang, series), d in mean.groupby(["lang", "series"], sort=False):
        d = d.sort_values("pairs")
        pair = own_pair(lang)
        points = ", ".join(f"{int(n):,} -> {prose.fmt(v)}" for n, v in zip(d.pairs, d["own-pair STS17"]))
        part = f"EN-{lang.upper()}, {series} (STS17 {pair.upper()}): {points}"
        scores = d.set_index("pairs")["own-pair STS17"]
        if len(d) > 1 and scores.idxmax() != scores.index[-1]:
            part += f"; the best point is {int(scores.idxmax()):,} pairs, not the largest set"
        if pair in start and len(d) > 1 and scores.max() > start[pair]:  # the smallest set's share of the best gain
            shares[lang] = (scores.iloc[0] - start[pair]) / (scores.max() - start[pair])
        if pair in start and len(d) > 1:
            gain = scores.iloc[-1] - start[pair]
            above = [f"{int(n):,}" for n, v in scores.items() if v > start[pair]]
            if gain > 0:
                fractions[lang] = (scores.iloc[0] - start[pair]) / gain
                part += (
                    f"; the smallest set gives {prose.fmt(100 * fractions[lang], 0)}% of the largest set's gain "
                    f"over the start ({prose.fmt(start[pair])})"
                )
            elif above:
                part += (
                    f"; the largest set ends {prose.gap(scores.iloc[-1], start[pair])} the start "
                    f"({prose.fmt(start[pair])}), and only {prose.names(above)} pairs end above it"
                )
            else:
                part += f"; no size ends above the start ({prose.fmt(start[pair])})"
        parts.append(part)
    text = ". ".join(parts) + "."
    several = spread[spread["size"] > 1]
    if len(several):
        text += (
            f" {len(several)} point{'s' if len(several) != 1 else ''} with several seeds (their mean above; "
            f"largest sd {prose.fmt(float(several['std'].max()))})."
        )
    if "de" in shares and "ar" in shares:
        text += (
            f" The smallest set gives German {prose.fmt(100 * shares['de'], 0)}% and Arabic "
            f"{prose.fmt(100 * shares['ar'], 0)}% of the gain of their best size. The paper's reading, that a similar "
            "language needs fewer pairs than a dissimilar one, "
            + (
                "holds here: German gets more of its gain from the smallest set than Arabic."
                if shares["de"] > shares["ar"]
                else "does not show here: Arabic gets as much or more of its gain from the smallest set as German."
            )
        )
    r.add("How many pairs (Table 5).", text)


def _curse(r: prose.Reading, profile: Profile, curse: pd.DataFrame) -> None:
    c = settings(profile).get("curse", {})
    base = c.get("shared", c.get("base"))
    if base not in curse.index:
        return
    parts = []
    for name in [n for n in curse.index if n.startswith(f"{PREFIX}curse-")]:
        lang = name.rsplit("-", 1)[-1]
        col = f"STS17 {own_pair(lang)}"
        if col in curse.columns:
            a, b = curse.loc[name, col], curse.loc[base, col]
            parts.append(
                f"{own_pair(lang).upper()}: {prose.fmt(a)} alone against {prose.fmt(b)} shared ({prose.signed(a - b)})"
            )
    if parts:
        r.add(
            "One student or many.",
            f"`{base}`'s recipe ({int(curse.loc[base, 'pairs per language']):,} pairs per language, "
            f"{int(curse.loc[base, 'steps'])} steps) on one language alone: "
            + "; ".join(parts)
            + ". Same steps and pairs per language: the difference is what sharing the steps "
            "with the other languages costs or gives.",
        )


def _vocabulary(r: prose.Reading, vocab: pd.DataFrame, coverage: pd.DataFrame | None) -> None:
    text = ""
    if coverage is not None and len(coverage):
        c = coverage.pivot_table(index="subset", columns="vocabulary", values="tokens_per_sentence")
        if {"teacher", "extended"} <= set(c.columns):
            text += (
                "Tokens per Tatoeba sentence, teacher -> extended vocabulary: "
                + ", ".join(f"{s} {prose.fmt(row.teacher)} -> {prose.fmt(row.extended)}" for s, row in c.iterrows())
                + ". "
            )
    cols = [c for c in vocab.columns if c != "vocabulary_added"]
    text += (
        "Scores per variant: "
        + "; ".join(
            f"`{m.removeprefix(PREFIX)}` " + ", ".join(f"{c} {prose.fmt(v)}" for c, v in row[cols].items())
            for m, row in vocab.iterrows()
        )
        + "."
    )
    r.add("The English student's vocabulary.", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--studies", nargs="*", default=list(STUDIES), choices=STUDIES)
    parser.add_argument("--worker", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    frame = run_study(load_profile(args.profile), tuple(args.studies), args.worker, args.workers)
    print(frame.to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
