"""Figures fit the page: at most two panels a row and no wider than MAX_WIDTH_IN once saved with a
tight bounding box (labels and legends included), whatever the number of models or languages."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from mlkd_utils import plots  # noqa: E402

DPI = 110


def _width_in(fig) -> float:
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    buf.seek(0)
    matplotlib.pyplot.close(fig)
    return Image.open(buf).size[0] / DPI


def _sts(models):
    subsets = ["en-en", "ar-ar", "es-es", "ar-en", "en-de", "tr-en", "es-en", "fr-en", "it-en", "nl-en", "en-tr"]
    return pd.DataFrame(
        [
            {
                "task": "sts17",
                "metric": "spearman",
                "model": m,
                "subset": s,
                "value": 50.0,
                "ci_low": 45.0,
                "ci_high": 55.0,
            }  # fmt: skip
            for m in models
            for s in subsets
        ]
    )


def _figures():
    rng = np.random.default_rng(0)
    cands = pd.DataFrame({"score": rng.random(300), "gold": rng.random(300) > 0.8})
    tat = pd.DataFrame(
        [{"model": m, "subset": f"l{i:03d}", "accuracy": rng.random() * 100} for m in "abc" for i in range(112)]
    )
    nine = list("abcdefghi")
    stats = pd.DataFrame({"subset": nine, "tokens_per_sentence": np.arange(9.0), "unk_rate": np.arange(9.0),
                          "tokens_per_char": np.linspace(0.2, 1, 9)})  # fmt: skip
    corpus = pd.DataFrame({"pairs available": [100, 5000, 200000, 30, 30], "STS17 en-de": [10, 20, 30, 15, 15]},
                          index=["a", "b", "c", "d", "e"])  # fmt: skip
    return {
        "sts_bars with 8 models": lambda: plots.sts_bars(_sts(list("abcdefgh")), list("abcdefgh")),
        "score distributions of 9 models": lambda: plots.score_distributions(
            {f"m{i}": cands for i in range(9)}, {f"m{i}": 0.5 for i in range(9)}, "t"
        ),
        "Tatoeba in 112 languages": lambda: plots.tatoeba_all_languages(tat, {"a": {"l001"}}),
        "tokenizer panel": lambda: plots.tokenizer_panel(stats, pd.DataFrame({"subset": list("abcdefghi"),
                                                                              "accuracy": np.linspace(5, 90, 9)})),
        "corpus scatter, coinciding points": lambda: plots.corpus_scatter({"de": corpus, "ar": corpus.iloc[:2]},
                                                                           "pairs available", "t"),
        "corpus scatter, a language not run yet": lambda: plots.corpus_scatter(
            {"de": corpus, "ar": pd.DataFrame(columns=["source"]).set_index("source")}, "pairs available", "t"
        ),
        "learning curves before the first run": lambda: plots.learning_curves(
            pd.DataFrame(columns=["lang", "series", "pairs", "steps", "own-pair STS17", "tatoeba"]), "pairs", "t"
        ),
        "corpus scatter, one point twice": lambda: plots.corpus_scatter(
            {"de": pd.DataFrame({"pairs available": [9, 9], "STS17 en-de": [1.0, 1.0]}, index=["x", "all"])},
            "pairs available", "t",
        ),
        "objective trade-off": lambda: plots.objective_tradeoff(_race(), "x", "y", "t"),
    }  # fmt: skip


def _race() -> pd.DataFrame:
    rows = [{"objective": "teacher", "seed": None, "x": 20.0, "y": 18.0}]
    rows += [{"objective": o, "seed": s, "x": 70.0 + i + s / 100, "y": 80.0 + i} for i, o in enumerate("abcde")
             for s in (42, 43)]  # fmt: skip
    return pd.DataFrame(rows)


def test_the_trade_off_frames_the_race_and_names_a_far_teacher_in_a_corner():
    fig = plots.objective_tradeoff(_race(), "x", "y", "t")
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert lo > 60 and hi < 80  # the race fills the axes; the teacher at 20 would squeeze it to a blob
    assert any("teacher (20.0, 18.0): off the axes" in t.get_text() for t in ax.texts)
    near = _race().assign(x=lambda d: d.x.where(d.objective != "teacher", 71.0),
                          y=lambda d: d.y.where(d.objective != "teacher", 81.0))  # fmt: skip
    ax = plots.objective_tradeoff(near, "x", "y", "t").axes[0]
    assert not any("off the axes" in t.get_text() for t in ax.texts)
    assert any(t.get_text() == "teacher" for t in ax.texts)
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize("name", list(_figures()))
def test_every_figure_fits_the_page(name):
    assert _width_in(_figures()[name]()) <= plots.MAX_WIDTH_IN * 1.1, name
