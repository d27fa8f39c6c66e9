"""Figures of the book: one function per kind of figure, each returning the matplotlib Figure.

Every figure fits the page: at most two panels side by side and at most :data:`MAX_WIDTH_IN` wide,
so the book's ~690 px content column shows its text at a readable size (``tests/browser_checks.py``
measures it on every rendered page); point labels are placed by adjustText so they do not overlap.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from mlkd_utils.data.sts import CROSSLINGUAL, MONOLINGUAL, STS17_SUBSETS

#: The widest figure drawn (inches at the notebooks' 110 dpi): ~1,100 px, shown in a ~690 px column.
MAX_WIDTH_IN = 10.0
#: Panels side by side at most; more panels wrap onto further rows.
MAX_COLUMNS = 2


def _grid(n: int, panel_width: float, panel_height: float, **kwargs) -> tuple[plt.Figure, list[plt.Axes]]:
    """``n`` panels, at most :data:`MAX_COLUMNS` a row, the figure no wider than the page allows."""
    ncols = max(1, min(MAX_COLUMNS, n))
    nrows = math.ceil(n / ncols)
    width = min(MAX_WIDTH_IN, panel_width * ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, panel_height * nrows), squeeze=False, **kwargs)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _label_points(ax: plt.Axes, xs, ys, labels, **text_kwargs) -> None:
    """Text beside each point, moved apart by adjustText where labels would overlap; points that
    coincide share one label ("a, b") instead of two texts stacked on each other."""
    from adjustText import adjust_text

    merged: dict[tuple[float, float], list[str]] = {}
    for x, y, label in zip(xs, ys, labels):
        merged.setdefault((float(x), float(y)), []).append(str(label))
    kwargs = {"fontsize": 8, **text_kwargs}
    texts = [ax.text(x, y, ", ".join(names), **kwargs) for (x, y), names in merged.items()]
    if len(texts) > 1:  # with one distinct point there is nothing to move apart (and no range to move in)
        adjust_text(texts, ax=ax, arrowprops={"arrowstyle": "-", "color": "0.6", "lw": 0.5})


def sts_bars(df: pd.DataFrame, models: list[str], title: str = "STS 2017") -> plt.Figure:
    """Spearman per STS17 file with 95% bootstrap intervals, same-language files first."""
    d = df[(df.task == "sts17") & (df.metric == "spearman") & df.model.isin(models)].copy()
    order = [s for s in MONOLINGUAL + CROSSLINGUAL + STS17_SUBSETS if s in set(d.subset)]
    order = list(dict.fromkeys(order))
    fig, ax = plt.subplots(figsize=(min(MAX_WIDTH_IN, max(7, 0.8 * len(order) * max(1, len(models)) / 1.5)), 4))
    width = 0.8 / len(models)
    x = np.arange(len(order))
    palette = sns.color_palette("deep", len(models))
    for i, model in enumerate(models):
        m = d[d.model == model].groupby("subset")[["value", "ci_low", "ci_high"]].mean().reindex(order)
        err = np.vstack([m.value - m.ci_low, m.ci_high - m.value])
        ax.bar(
            x + (i - (len(models) - 1) / 2) * width,
            m.value,
            width,
            yerr=np.nan_to_num(err),
            capsize=2,
            label=model,
            color=palette[i],
        )
    ax.axvspan(-0.5, len([s for s in order if s in MONOLINGUAL]) - 0.5, color="0.93", zorder=-1)
    ax.set_xticks(x, order, rotation=45, ha="right")
    ax.set_ylabel("Spearman x100")
    ax.set_title(f"{title}\n(shaded: same-language files; bars: 95% bootstrap CI)", fontsize=10)
    ax.axhline(0, color="0.3", lw=0.8)
    ax.legend(fontsize=7, ncol=min(3, len(models)), loc="upper center", bbox_to_anchor=(0.5, -0.28), frameon=False)
    fig.tight_layout()
    return fig


def tatoeba_bars(df: pd.DataFrame, models: list[str]) -> plt.Figure:
    d = df[(df.task == "tatoeba") & (df.metric == "accuracy") & df.model.isin(models)]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    sns.barplot(data=d, x="subset", y="value", hue="model", hue_order=models, ax=ax, errorbar=None)
    ax.set_ylabel("accuracy (%), mean of both directions")
    ax.set_xlabel("Tatoeba language")
    ax.set_title("Tatoeba nearest-neighbour retrieval")
    ax.set_ylim(0, 100)
    fig.tight_layout()
    return fig


def tokenizer_panel(stats: pd.DataFrame, tatoeba: pd.DataFrame | None = None) -> plt.Figure:
    fig, axes = _grid(3 if tatoeba is not None else 2, 4.6, 3.4)
    sns.barplot(data=stats, x="subset", y="tokens_per_sentence", ax=axes[0], color="C0")
    axes[0].set_title("tokens per sentence")
    sns.barplot(data=stats, x="subset", y="unk_rate", ax=axes[1], color="C3")
    axes[1].set_title("[UNK] tokens (%)")
    for ax in axes[:2]:
        ax.tick_params(axis="x", rotation=45)
        ax.set_xlabel("")
    if tatoeba is not None:
        m = stats.merge(tatoeba, on="subset")
        axes[2].scatter(m.tokens_per_char, m.accuracy)
        _label_points(axes[2], m.tokens_per_char, m.accuracy, m.subset)
        axes[2].set_xlabel("tokens per character")
        axes[2].set_ylabel("Tatoeba accuracy (%)")
        axes[2].set_title("fragmentation vs retrieval")
    fig.tight_layout()
    return fig


def training_curves(logs: dict[str, pd.DataFrame], pairs_per_step: dict[str, int] | None = None) -> plt.Figure:
    """Train loss, dev MSE, dev translation accuracy and dev STS, one line per run, in a 2x2 grid
    that fits the page. With ``pairs_per_step`` the x axis is training pairs seen, so runs with
    other batch sizes or lengths are compared at equal data."""
    panels = [
        ("loss", "train MSE loss"),
        ("eval_loss", "dev MSE (held-out pairs)"),
        ("eval_dev-translation_mean_accuracy", "dev translation accuracy"),
        ("sts", "dev STS Spearman"),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.4))
    xlabel = "training pairs seen" if pairs_per_step else "step"
    for (col, title), ax in zip(panels, axes.flat):
        for name, log in logs.items():
            x_scale = (pairs_per_step or {}).get(name, 1)
            if col == "sts":
                dev_cols = [
                    c
                    for c in log.columns
                    if c.startswith(("eval_sts17-", "eval_stsb-dev-")) and c.endswith("spearman_cosine")
                ]
                for c in dev_cols:
                    d = log[["step", c]].dropna()
                    short = c.removeprefix("eval_").removesuffix("_spearman_cosine").replace("stsb-dev-", "STSb dev ")
                    ax.plot(x_scale * d.step, 100 * d[c], marker=".", label=f"{name}: {short}")
            elif col in log:
                d = log[["step", col]].dropna()
                scale = 100 if "accuracy" in col else 1
                ax.plot(x_scale * d.step, scale * d[col], marker="." if col != "loss" else None, label=name)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel, fontsize=9)
    axes[0, 0].legend(fontsize=7)
    axes[1, 1].legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    return fig


def sts_heatmap(table: pd.DataFrame, title: str = "STS 2017, Spearman x100") -> plt.Figure:
    """A models x files table as a heatmap: where a row is strong or weak shows at a glance."""
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * table.shape[1], 0.9 + 0.42 * table.shape[0]))
    sns.heatmap(table, annot=True, fmt=".1f", cmap="RdYlGn", vmin=-10, vmax=90, cbar=False, ax=ax)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def seed_spread_plot(df: pd.DataFrame, subsets: list[str], models: list[str], title: str) -> plt.Figure:
    """One dot per seed of the average over ``subsets``, with the mean: the noise a seed adds."""
    d = df[(df.task == "sts17") & (df.metric == "spearman") & df.subset.isin(subsets) & df.model.isin(models)]
    per_seed = d.groupby(["model", "seed"], dropna=False).value.mean().reset_index()
    fig, ax = plt.subplots(figsize=(7.5, 0.6 + 0.4 * len(models)))
    sns.stripplot(data=per_seed, y="model", x="value", order=models, ax=ax, size=6, color="C0", jitter=0.1)
    means = per_seed.groupby("model").value.mean().reindex(models)
    ax.scatter(means.values, range(len(models)), marker="|", s=400, color="C3", label="mean over seeds")
    ax.set_xlabel("Spearman x100, average over the files")
    ax.set_ylabel("")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def gold_vs_cosine(pairs: dict[str, pd.DataFrame], subset: str) -> plt.Figure:
    """Gold score against cosine for each model on the same file: what a Spearman number summarises."""
    fig, axes = _grid(len(pairs), 4.6, 3.8, sharey=True)
    for ax, (label, frame) in zip(axes, pairs.items()):
        d = frame[frame.subset == subset]
        ax.scatter(d.gold, d.cosine, s=10, alpha=0.6)
        rho = d[["gold", "cosine"]].corr(method="spearman").iloc[0, 1] * 100
        ax.set_title(f"{label}\n{subset}: Spearman {rho:.1f}", fontsize=10)
        ax.set_xlabel("gold similarity (0-5)")
    for ax in axes[::MAX_COLUMNS]:
        ax.set_ylabel("cosine of the two embeddings")
    fig.tight_layout()
    return fig


def score_distributions(candidates: dict[str, pd.DataFrame], thresholds: dict[str, float], title: str) -> plt.Figure:
    """Scores of gold and non-gold mined candidates per model, with the tuned threshold: how well
    the score separates translations from the rest is what mining F1 depends on."""
    fig, axes = _grid(len(candidates), 4.6, 2.9)
    for ax, (label, c) in zip(axes, candidates.items()):
        bins = np.linspace(c.score.min(), c.score.max(), 40)
        for part, label_, color, alpha in ((~c.gold, "not gold", "C7", 0.6), (c.gold, "gold pair", "C2", 0.7)):
            if part.any():  # a density of nothing is 0/0: leave an empty group out
                ax.hist(c.score[part], bins=bins, alpha=alpha, label=label_, color=color, density=True)
        ax.axvline(thresholds[label], color="C3", ls="--", lw=1, label="threshold (tuned)")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("ratio margin score")
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def tatoeba_all_languages(
    df: pd.DataFrame, seen: dict[str, set[str]], metric: str = "accuracy", per_row: int = 40
) -> plt.Figure:
    """Accuracy per language (sorted by the best model), filled dots for languages a model was
    distilled on, open ones for languages it never saw in training; ``per_row`` languages a row, so
    every language code stays readable at the page's width."""
    models = list(dict.fromkeys(df.model))
    wide = df.pivot_table(index="subset", columns="model", values=metric)[models]
    wide = wide.loc[wide.max(axis=1).sort_values(ascending=False).index]
    nrows = max(1, math.ceil(len(wide) / per_row))
    fig, axes = plt.subplots(nrows, 1, figsize=(MAX_WIDTH_IN, 2.6 * nrows + 0.8), squeeze=False, sharey=True)
    for r, ax in enumerate(axes[:, 0]):
        part = wide.iloc[r * per_row : (r + 1) * per_row]
        x = np.arange(len(part))
        for i, model in enumerate(models):
            filled = part.index.isin(list(seen.get(model, set())))
            label = model if r == 0 else None
            ax.scatter(x[~filled], part[model][~filled], s=14, facecolors="none", edgecolors=f"C{i}", label=label)
            if filled.any():
                ax.scatter(x[filled], part[model][filled], s=30, color=f"C{i}",
                           label=f"{model}: distilled on" if r == 0 else None)  # fmt: skip
        ax.set_xticks(x, part.index, rotation=90, fontsize=7)
        ax.set_xlim(-0.8, per_row - 0.2)
        ax.set_ylabel(f"{metric} (%)", fontsize=9)
    axes[0, 0].set_title(f"Tatoeba, all {len(wide)} languages ({metric}, both directions), best first", fontsize=10)
    fig.legend(fontsize=7, ncol=3, loc="lower center", frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def learning_curves(curve: pd.DataFrame, x: str, title: str) -> plt.Figure:
    """Own-pair STS17 and Tatoeba accuracy against ``x`` (``pairs`` or ``steps``), one panel per
    language and metric, one line per series, mean over seeds with their standard deviation."""
    langs = list(dict.fromkeys(curve.lang)) if len(curve) else []
    metrics = ["own-pair STS17", "tatoeba"]
    if not langs:  # a partial render before the first curve run finished
        fig, ax = plt.subplots(figsize=(6.4, 1.6))
        ax.text(0.5, 0.5, "no finished run yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        ax.set_title(title)
        return fig
    # one row per language, the two metrics side by side: any number of languages fits the page
    fig, axes = plt.subplots(len(langs), len(metrics), figsize=(9.2, 3.2 * len(langs)), squeeze=False)
    for j, lang in enumerate(langs):
        for i, metric in enumerate(metrics):
            ax = axes[j][i]
            d = curve[curve.lang == lang].dropna(subset=[metric])
            sns.lineplot(
                data=d, x=x, y=metric, hue="series", style="series", markers=True, dashes=False,
                errorbar="sd", err_style="bars", ax=ax,
            )  # fmt: skip
            ax.set_xscale("log")
            ax.minorticks_off()  # label the measured points only: log minor labels collide
            ticks = sorted(d[x].unique())
            ax.set_xticks(ticks, [str(t) for t in ticks])
            ax.set_title(f"EN-{lang.upper()}: {metric}")
            ax.set_xlabel("training pairs (distinct)" if x == "pairs" else "training steps")
            ax.set_ylabel("Spearman x100" if "STS" in metric else "accuracy (%)")
            if ax.get_legend() is not None and (i, j) != (0, 0):
                ax.get_legend().remove()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def corpus_scatter(tables: dict[str, pd.DataFrame], x: str, title: str) -> plt.Figure:
    """Each training source as a point: ``x`` (e.g. size) against its own-pair STS17 score. A language
    with no finished run yet (a partial render) gets no panel."""
    tables = {lang: t for lang, t in tables.items() if len(t)}
    fig, axes = _grid(max(1, len(tables)), 5.0, 3.8)
    if not tables:
        axes[0].text(0.5, 0.5, "no finished run yet", ha="center", va="center", transform=axes[0].transAxes)
    for ax, (lang, t) in zip(axes, tables.items()):
        y = next(c for c in t.columns if c.startswith("STS17") and c != "STS17 en-en" and c != "STS17 ar-ar")
        ax.scatter(t[x], t[y])
        _label_points(ax, t[x], t[y], t.index, fontsize=7)
        ax.set_xscale("log")
        ax.set_xlabel(x)
        ax.set_ylabel(f"{y} (Spearman x100)")
        ax.set_title(f"EN-{lang.upper()}")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def objective_tradeoff(per_seed: pd.DataFrame, x: str, y: str, title: str) -> plt.Figure:
    """One point per (objective, seed) with the objective's mean ringed and labelled; the teacher as
    a grey star: where each objective lands between STS quality and mining quality. The axes frame
    the race and the systems beside it; a teacher far outside that frame is named in a corner
    instead of stretching the axes until the race is one crowded blob."""
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    marks: list[tuple[float, float, str, str]] = []
    data = per_seed.dropna(subset=[x, y])
    others = data[data.objective != "teacher"]
    pad = 3.0
    frame = (
        (others[x].min() - pad, others[x].max() + pad, others[y].min() - pad, others[y].max() + pad)
        if len(others)
        else None
    )
    for i, (label, d) in enumerate(data.groupby("objective", sort=False)):
        if label == "teacher":
            tx, ty = d[x].mean(), d[y].mean()
            if frame is None or frame[0] <= tx <= frame[1] and frame[2] <= ty <= frame[3]:
                ax.scatter(d[x], d[y], marker="*", s=160, color="0.45", zorder=3)
                marks.append((tx, ty, "teacher", "0.3"))
            else:
                ax.text(0.02, 0.03, f"teacher ({tx:.1f}, {ty:.1f}): off the axes", transform=ax.transAxes,
                        fontsize=8.5, color="0.3")  # fmt: skip
            continue
        color = f"C{i % 10}"
        ax.scatter(d[x], d[y], s=18, color=color, alpha=0.6)
        mx, my = d[x].mean(), d[y].mean()
        ax.scatter([mx], [my], s=110, facecolors="none", edgecolors=color, linewidths=1.6)
        marks.append((mx, my, label, color))
    if frame is not None:
        ax.set_xlim(frame[0], frame[1])
        ax.set_ylim(frame[2], frame[3])
    if marks:
        from adjustText import adjust_text

        texts = [ax.text(mx, my, label, fontsize=9, color=color) for mx, my, label, color in marks]
        adjust_text(texts, ax=ax, arrowprops={"arrowstyle": "-", "color": "0.6", "lw": 0.5})
    ax.set_xlabel(f"{x} (Spearman x100)")
    ax.set_ylabel(f"{y} (x100)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
