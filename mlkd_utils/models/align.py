"""Starting a student in the teacher's space: an orthogonal map fitted by Procrustes, and freezing.

multilingual-e5-small and the teacher embed English sentences in unrelated spaces (MSE between
their unit vectors is what orthogonal vectors give), so distilling e5 directly first spends its
steps rotating and destroys what e5 knew. An orthogonal map keeps every cosine of e5 (its scores
do not move) and halves the initial MSE; as a sentence-transformers ``Dense`` module it is part
of the saved student, and it trains with the rest.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.models import Dense, Normalize, Transformer
from torch import nn

from mlkd_utils.config import ALIGNS, FREEZES
from mlkd_utils.encode import encode
from mlkd_utils.errors import ConfigError

log = logging.getLogger(__name__)


def procrustes(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The orthogonal W minimising ||source @ W - target||_F (Schoenemann 1966): U V^T of svd(S^T T)."""
    if source.shape != target.shape:
        raise ValueError(f"source {source.shape} and target {target.shape} differ in shape")
    u, _, vt = np.linalg.svd(source.T.astype(np.float64) @ target.astype(np.float64))
    return (u @ vt).astype(np.float32)


def least_squares(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The unconstrained linear map (ridge-free least squares): the "only a linear map" row's start."""
    w, *_ = np.linalg.lstsq(source.astype(np.float64), target.astype(np.float64), rcond=None)
    return w.astype(np.float32)


def add_map(student: SentenceTransformer, english: list[str], targets: np.ndarray, how: str) -> SentenceTransformer:
    """Append a Dense map (before Normalize) fitted from the student's to the teacher's unit vectors
    of ``english``: orthogonal (``procrustes``) or any linear map (``linear``)."""
    if how not in ALIGNS:
        raise ConfigError(f"align {how!r} not in {list(ALIGNS)}")
    if how == "none":
        return student
    source = encode(student, english, normalize=True)
    target = targets / np.maximum(np.linalg.norm(targets, axis=1, keepdims=True), 1e-12)
    w = procrustes(source, target) if how == "procrustes" else least_squares(source, target)
    before = float(((source - target) ** 2).mean())
    after = float(((source @ w - target) ** 2).mean())
    log.info("%s map on %d English sentences: MSE to the teacher %.2e -> %.2e", how, len(english), before, after)
    dim_in, dim_out = w.shape
    dense = Dense(dim_in, dim_out, bias=False, activation_function=nn.Identity())
    with torch.no_grad():
        dense.linear.weight.copy_(torch.from_numpy(w.T))
    modules = [m for m in student if not isinstance(m, Normalize)]
    normalize = [Normalize()] if len(modules) < len(student) else []
    out = SentenceTransformer(modules=[*modules, dense, *normalize], device=str(student.device))
    out.max_seq_length = student.max_seq_length
    return out


def freeze(student: SentenceTransformer, what: str) -> int:
    """Freeze the word embeddings or the whole transformer; returns the parameters left to train.

    The word embedding matrix is 96M of e5-small's 118M parameters (a 250k vocabulary): frozen, Adam
    neither stores nor updates it, and a step gets much cheaper.
    """
    if what not in FREEZES:
        raise ConfigError(f"freeze {what!r} not in {list(FREEZES)}")
    transformer = next((m for m in student if isinstance(m, Transformer)), None)
    if what != "none" and transformer is None:
        raise ConfigError(f"freeze={what!r} needs a transformer student")
    if what == "embeddings":
        transformer.auto_model.get_input_embeddings().weight.requires_grad_(False)
    elif what == "encoder":
        transformer.requires_grad_(False)
    return sum(p.numel() for p in student.parameters() if p.requires_grad)
