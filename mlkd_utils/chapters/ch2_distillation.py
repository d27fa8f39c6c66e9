"""Chapter 2's recipe study for the multilingual-e5-small students: which start, learning rate and
frozen parts make a student that learns, chosen on dev sets only.

Every grid run is a short distillation on the ten-language pairs (``chapters.02_distillation.e5_grid``
in the profile); it is scored during training on held-out pairs (dev MSE, dev translation accuracy)
and on the STS benchmark's dev split (English, and English against machine-translated sentence 2),
never on an STS17 test file. The table reads the training logs; nothing here is tuned by hand.
"""

from __future__ import annotations

import pandas as pd

from mlkd_utils import prose, tables
from mlkd_utils.config import Profile
from mlkd_utils.data.sts import STS17_SUBSETS
from mlkd_utils.distill import DistillResult, dev_scores, distill, training_cost

CHAPTER = "02_distillation"


def grid(profile: Profile, chapter: str = CHAPTER) -> list[str]:
    return list(profile.chapter(chapter).get("e5_grid", []))


def run_grid(profile: Profile, chapter: str = CHAPTER) -> dict[str, DistillResult]:
    """Train what is missing (cached runs are reused) and record each run's provenance."""
    from mlkd_utils.experiments import record_training

    results = {name: distill(profile, name) for name in grid(profile, chapter)}
    for result in results.values():
        record_training(profile, result, chapter)
    return results


def grid_table(profile: Profile, results: dict[str, DistillResult]) -> pd.DataFrame:
    """One row per recipe: what was changed, what it cost, and the dev scores at the start and the end."""
    rows = {}
    for name, r in results.items():
        cfg = profile.student_config(name)
        start, end = dev_scores(r.log, "first"), dev_scores(r.log, "last")
        cost = training_cost(r)
        rows[name] = {
            "start": f"{cfg.align} map" if cfg.align != "none" else "plain",
            "frozen": cfg.freeze,
            "learning rate": cfg.learning_rate,
            "steps": cfg.max_steps,
            "trainable params (M)": round(r.info.get("trainable_parameters", float("nan")) / 1e6, 1),
            "student sentences/s": cost["student sentences/s"],
            "dev MSE x1e4 at step 0": start["dev MSE x1e4"],
            **end,
        }
    table = pd.DataFrame(rows).T
    for col in table.columns:
        if col not in ("start", "frozen"):
            table[col] = pd.to_numeric(table[col])
    return table.round({c: 1 for c in table.columns if c not in ("start", "frozen", "learning rate")})


def dev_sts_mean(table: pd.DataFrame) -> pd.Series:
    """The mean of the STSb dev columns at the end of each run: the one number the grid is read by."""
    cols = [c for c in table.columns if c.startswith("STSb dev")]
    return table[cols].mean(axis=1).round(1)


def reading(
    profile: Profile,
    metrics: pd.DataFrame,
    study: dict[str, dict],
    students: list[str],
    grid_table: pd.DataFrame,
    e5_table: pd.DataFrame,
    costs: pd.DataFrame,
) -> prose.Reading:
    """The chapter's findings, from the settings study (``study``: name -> its settings), the STS17
    tables, the e5 recipe grid, the e5 students' ten-file table and the cost table."""
    r = prose.Reading("ch2_distillation.reading")
    # the EN-DE student is both a student and the settings study's lr 1e-3 point: one row each
    full = tables.sts_table(metrics, STS17_SUBSETS[:-1], list(dict.fromkeys(["teacher", *students, *study])))
    if study and "en-de" in full.columns:
        _settings(r, full, study)
    teacher = full.loc["teacher"] if "teacher" in full.index else None
    if teacher is not None:
        _english_students(r, full, teacher, [s for s in students if s in full.index], profile)
    if len(grid_table):
        _grid(r, grid_table)
    if len(e5_table):
        _e5_students(r, e5_table)
    if len(costs):
        r.add(
            "Cost.",
            "; ".join(
                f"`{n}` {prose.fmt(row['student sentences/s'])} student sentences/s over {int(row['steps'])} steps"
                + (
                    f" (timed on the last {int(row['steps timed'])}, after a resume)"
                    if row.get("steps timed", row["steps"]) < row["steps"]
                    else ""
                )
                for n, row in costs.iterrows()
            )
            + " (both sentences of a pair counted, dev evaluations left out; the machine was shared with other "
            "runs, so these are lower bounds of what a quiet machine does).",
        )
    return r


def _settings(r: prose.Reading, full: pd.DataFrame, study: dict[str, dict]) -> None:
    rows = pd.DataFrame({n: {"lr": s["learning rate"], "targets": s["targets"]} for n, s in study.items()}).T
    rows["en-de"] = [full.loc[n, "en-de"] if n in full.index else float("nan") for n in rows.index]
    norm = rows[rows.targets == "normalized"].sort_values("lr")
    text = ""
    if len(norm) > 1:
        best = norm["en-de"].astype(float).idxmax()
        text += (
            "With normalised targets, EN-DE after the same steps: "
            + ", ".join(f"lr {prose.rate(row.lr)} {prose.fmt(row['en-de'])}" for _, row in norm.iterrows())
            + f" (the teacher: {prose.fmt(full.loc['teacher', 'en-de'])}); "
            f"the best is lr {prose.rate(norm.loc[best, 'lr'])}. "
        )
    pairs = []
    for lr, d in rows.groupby("lr"):
        if {"normalized", "raw"} <= set(d.targets):
            n, w = d[d.targets == "normalized"]["en-de"].iloc[0], d[d.targets == "raw"]["en-de"].iloc[0]
            pairs.append(f"at lr {prose.rate(lr)} normalised {prose.fmt(n)} against raw {prose.fmt(w)}")
    if pairs:
        text += "Raw targets (no Normalize layer on either side): " + "; ".join(pairs) + "."
    if text:
        r.add("The setting.", text)


def _english_students(
    r: prose.Reading, full: pd.DataFrame, teacher: pd.Series, students: list[str], profile: Profile
) -> None:
    for name in students:
        row, langs = full.loc[name], profile.student_config(name).languages
        own = [tables.own_pair(lang) for lang in langs if tables.own_pair(lang) in full.columns]
        moved = ", ".join(
            f"{s.upper()} {prose.fmt(teacher[s])} -> {prose.fmt(row[s])}" for s in [*own[:3], "en-en", "es-es", "ar-ar"]
        )
        lost = [s.upper() for s in ("es-es", "ar-ar") if row[s] < teacher[s]]
        r.add(
            f"`{name}` ({len(langs)} language{'s' if len(langs) > 1 else ''}).",
            f"{moved}. "
            + (
                f"It forgets on {prose.names(lost)}: training moves the shared encoder for every language, "
                "and with an English vocabulary the other languages have little to hold on to."
                if lost
                else "It keeps the other languages' same-language scores."
            ),
        )


def _grid(r: prose.Reading, grid_table: pd.DataFrame) -> None:
    dev = dev_sts_mean(grid_table)
    best, mse = dev.idxmax(), grid_table["dev MSE x1e4"].idxmin()
    text = (
        f"On dev only (STSb dev, never an STS17 test file), the mean STSb score after training is highest for "
        f"`{best}` ({prose.fmt(dev[best])}), the lowest dev MSE is `{mse}`'s "
        f"({prose.fmt(grid_table.loc[mse, 'dev MSE x1e4'])} x1e-4). "
    )
    linear = [n for n in grid_table.index if grid_table.loc[n, "frozen"] == "encoder"]
    if linear:
        n = linear[0]
        text += (
            f"A change of axes alone (a linear map trained on the frozen e5 encoder, `{n}`) reaches "
            f"{prose.fmt(dev[n])}, {prose.gap(dev[n], dev[best])} the best recipe: "
            + (
                "most of the gain is that change of axes. "
                if dev[n] >= dev[best] - 1.0
                else "the gain needs the encoder itself to move. "
            )
        )
    plain = [n for n in grid_table.index if grid_table.loc[n, "start"] == "plain"]
    mapped = [n for n in grid_table.index if n not in plain and n not in linear]
    if plain and mapped:
        p, m = plain[0], max(mapped, key=lambda n: dev[n])
        text += (
            f"Without the fitted map (`{p}`) the dev mean is {prose.fmt(dev[p])}, {prose.gap(dev[p], dev[m])} `{m}`."
        )
    r.add("The e5 recipe.", text)


def _e5_students(r: prose.Reading, e5_table: pd.DataFrame) -> None:
    refs = [m for m in e5_table.index if m.startswith("multilingual-e5")]
    rows = [m for m in e5_table.index if m.startswith("student-e5")]
    if not rows:
        return
    text = (
        "Average over the ten STS17 files: "
        + "; ".join(f"`{m}` {prose.fmt(e5_table.loc[m, 'avg'])}" for m in rows)
        + (", against " + " and ".join(f"{m} {prose.fmt(e5_table.loc[m, 'avg'])}" for m in refs) if refs else "")
    )
    if "teacher" in e5_table.index:
        text += f" and the teacher's {prose.fmt(e5_table.loc['teacher', 'avg'])}"
    r.add("The e5 students.", text + ". Chapter 3 reads them file by file.")
