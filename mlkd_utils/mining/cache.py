"""Mining results kept in the mined model's folder, so a chapter renders on a machine without its weights.

Encoding is the expensive part of mining, and on a fresh machine a trained student's weights are gone
(they are never committed) while its run record is restored (``mlkd_utils.records``). Scores alone
make the tables; the candidate lists (the score distributions and false positives the chapters plot)
are kept only where a caller asked for them, gzipped and without texts (the texts come back from the
benchmark's own sentences), so a record stays small.
"""

from __future__ import annotations

import gzip
import io
import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from mlkd_utils.data.bucc import BUCCData
from mlkd_utils.experiments import _entry, _read_entry
from mlkd_utils.io import locked, read_checked, write_checked
from mlkd_utils.mining.bucc import MiningResult

log = logging.getLogger(__name__)

SCALARS = ("threshold", "tune_f1", "precision", "recall", "f1", "n_gold")
CANDIDATE_COLUMNS = ["src_id", "en_id", "score", "gold"]


def _candidates_path(folder: Path, key: dict) -> Path:
    path = _entry(folder, "mining-candidates", key)
    return path.with_name(path.name + ".gz")


def _write_candidates(path: Path, candidates: pd.DataFrame) -> None:
    text = candidates[CANDIDATE_COLUMNS].to_csv(index=False, float_format="%.8g")
    write_checked(path, gzip.compress(text.encode("utf-8"), mtime=0))


def _read_candidates(path: Path, test: BUCCData) -> pd.DataFrame | None:
    """The kept candidates with their texts put back, or None when missing, damaged or not of ``test``."""
    data = read_checked(path)
    if data is None:
        return None
    try:
        frame = pd.read_csv(
            io.BytesIO(gzip.decompress(data)), dtype={"src_id": str, "en_id": str}, keep_default_na=False
        )
        frame["source"] = frame.src_id.map(test.source)
        frame["english"] = frame.en_id.map(test.english)
    except (OSError, EOFError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        log.warning("%s unreadable (%s): mining again", path, exc)
        return None
    if frame[["source", "english"]].isna().any().any():
        log.warning("%s names sentences the benchmark does not have: mining again", path)
        return None
    return frame.astype({"gold": bool})


def cached_mine(
    folder: Path | None,
    key: dict,
    test: BUCCData,
    compute: Callable[[], MiningResult],
    need_candidates: bool = True,
) -> MiningResult:
    """``compute()``, unless ``folder`` holds its scores (and, when ``need_candidates``, its candidates).

    Without ``need_candidates`` the result's ``candidates`` may be empty: the caller reads scores only.
    """
    if folder is None:
        return compute()
    scores_path = _entry(folder, "mining", key)
    candidates_path = _candidates_path(folder, key)

    def cached() -> MiningResult | None:
        scores = _read_entry(scores_path)
        candidates = _read_candidates(candidates_path, test) if need_candidates else None
        if scores is None or (need_candidates and candidates is None):
            return None
        row = scores.iloc[0]
        return MiningResult(
            **{k: (int(row[k]) if k == "n_gold" else float(row[k])) for k in SCALARS},
            candidates=pd.DataFrame(columns=[*CANDIDATE_COLUMNS, "source", "english"])
            if candidates is None
            else candidates,
        )

    if (hit := cached()) is not None:
        return hit
    # Two workers mining one model (the teacher, a guest) wait for each other instead of both encoding,
    # and never leave one's file beside the other's checksum.
    with locked(scores_path):
        if (hit := cached()) is not None:
            return hit
        result = compute()
        if need_candidates:  # before the scores: a scores file alone must not stand for both
            _write_candidates(candidates_path, result.candidates)
        write_checked(
            scores_path,
            pd.DataFrame([{"subset": test.pair, **{k: getattr(result, k) for k in SCALARS}}])
            .to_csv(index=False)
            .encode("utf-8"),
        )
    return result
