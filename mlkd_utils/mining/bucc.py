"""Mining a BUCC-format corpus pair and scoring it against the gold, without leakage.

The paper (and LASER) tune the threshold on BUCC's *sample* split and report F1 on its *training*
split. Only the zh-en sample is staged here, so ``split_bucc`` cuts it into two disjoint corpora
(tune and test): each gold pair goes wholly to one side, every other sentence to a random side.
Mining runs within each half; the threshold is chosen on the tune half's gold and applied once to
the test half. Each half is about half as large as the sample, which makes mining slightly easier
than on the full corpus (fewer distractors per gold pair).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlkd_utils.data.bucc import BUCCData
from mlkd_utils.mining.margin import mine_candidates
from mlkd_utils.mining.threshold import best_threshold, precision_recall_f1

Embed = Callable[[list[str]], np.ndarray]


def split_bucc(data: BUCCData, seed: int = 0, tune_fraction: float = 0.5) -> dict[str, BUCCData]:
    """Two disjoint BUCC corpora, ``tune`` and ``test``; gold pairs (and any sentence linked to them
    through the gold) stay together."""
    rng = random.Random(seed)
    side: dict[str, str] = {}
    # Connected components of the gold graph go to one split together.
    links: dict[str, set[str]] = {}
    for s, e in data.gold:
        links.setdefault(s, set()).add(e)
        links.setdefault(e, set()).add(s)
    for start in sorted(links):
        if start in side:
            continue
        split = "tune" if rng.random() < tune_fraction else "test"
        stack = [start]
        while stack:
            node = stack.pop()
            if node not in side:
                side[node] = split
                stack.extend(links[node])
    for sid in list(data.source) + list(data.english):
        if sid not in side:
            side[sid] = "tune" if rng.random() < tune_fraction else "test"
    out = {}
    for split in ("tune", "test"):
        out[split] = BUCCData(
            data.pair,
            {k: v for k, v in data.source.items() if side[k] == split},
            {k: v for k, v in data.english.items() if side[k] == split},
            [(s, e) for s, e in data.gold if side[s] == split],
        )
    return out


def _unique(sentences: dict[str, str]) -> tuple[list[str], dict[str, list[str]]]:
    """Distinct texts and, for each, every id that carries it: mining runs on texts once, and a
    mined text pair stands for all its id pairs (as in LASER's BUCC scripts)."""
    ids: dict[str, list[str]] = {}
    for sid, text in sentences.items():
        ids.setdefault(text, []).append(sid)
    texts = list(ids)
    return texts, ids


def candidate_frame(
    data: BUCCData,
    embed: Embed,
    k: int = 4,
    mode: str = "max",
    scoring: str = "ratio",
    index: str = "flat",
    nprobe: int = 16,
) -> pd.DataFrame:
    """Every mined candidate as id pairs: ``src_id, en_id, score, gold``, best first."""
    src_texts, src_ids = _unique(data.source)
    en_texts, en_ids = _unique(data.english)
    cand = mine_candidates(
        embed(src_texts), embed(en_texts), k=k, mode=mode, scoring=scoring, index=index, nprobe=nprobe
    )
    gold = set(data.gold)
    rows = []
    for i, j, score in zip(cand.src, cand.trg, cand.score):
        for s in src_ids[src_texts[i]]:
            for e in en_ids[en_texts[j]]:
                rows.append((s, e, float(score), (s, e) in gold, src_texts[i], en_texts[j]))
    frame = pd.DataFrame(rows, columns=["src_id", "en_id", "score", "gold", "source", "english"])
    return frame.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)


@dataclass
class MiningResult:
    threshold: float
    tune_f1: float
    precision: float
    recall: float
    f1: float
    n_gold: int
    #: Test-split candidates with scores and gold flags (for false positives and distributions).
    candidates: pd.DataFrame


def mine_and_score(
    tune: BUCCData,
    test: BUCCData,
    embed: Embed,
    k: int = 4,
    mode: str = "max",
    scoring: str = "ratio",
    index: str = "flat",
    nprobe: int = 16,
) -> MiningResult:
    """Threshold by best F1 on ``tune``'s gold, then precision/recall/F1 on ``test``."""
    tc = candidate_frame(tune, embed, k, mode, scoring, index, nprobe)
    threshold, tune_f1 = best_threshold(tc.score.to_numpy(), tc.gold.to_numpy(), len(tune.gold))
    cand = candidate_frame(test, embed, k, mode, scoring, index, nprobe)
    predicted = {(s, e) for s, e, sc in zip(cand.src_id, cand.en_id, cand.score) if sc > threshold}
    p, r, f = precision_recall_f1(predicted, set(test.gold))
    return MiningResult(threshold, tune_f1, p, r, f, len(test.gold), cand)
