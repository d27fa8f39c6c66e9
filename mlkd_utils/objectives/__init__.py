"""Training objectives of chapter 6, all trained by the same ``distill`` entry point on the same pairs.

=========== ====================================================================== =================
objective   loss                                                                   system it stands for
=========== ====================================================================== =================
mse         MSE of student(en) and student(xx) to teacher(en) (sentence-transformers) the paper
ranking     in-batch translation ranking, en -> xx (``MultipleNegativesRankingLoss``) mUSE
labse       bidirectional ranking with additive margin softmax (``ranking.py``)      LaBSE
ems         bidirectional contrastive + token reconstruction (``ems.py``)           EMS
laser       BiLSTM encoder + LSTM decoder translating, from scratch (``laser.py``)   LASER
combined    squared distance to the teacher + ranking (``combined.py``)             (new)
=========== ====================================================================== =================
"""

from __future__ import annotations

from datasets import Dataset
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.losses import MSELoss, MultipleNegativesRankingLoss
from torch import nn

from mlkd_utils.config import OBJECTIVES, DistillConfig
from mlkd_utils.errors import ConfigError

__all__ = ["OBJECTIVES", "NEEDS_TARGETS", "build_laser", "check", "dataset", "make_loss"]
#: Objectives whose loss reads the teacher's embeddings (the ``label`` column).
NEEDS_TARGETS = frozenset({"mse", "combined"})


def check(cfg: DistillConfig) -> None:
    if cfg.objective not in OBJECTIVES:
        raise ConfigError(f"unknown objective {cfg.objective!r}; known: {list(OBJECTIVES)}")
    if cfg.objective == "laser" and cfg.vocabulary != "teacher":
        raise ConfigError("the LASER-style model is trained from scratch: vocabulary extension does not apply")
    if cfg.objective not in NEEDS_TARGETS and cfg.target_mode != "normalized":
        raise ConfigError(f"target_mode {cfg.target_mode!r} only applies to objectives {sorted(NEEDS_TARGETS)}")


def build_laser(cfg: DistillConfig, teacher: SentenceTransformer, languages: list[str]) -> SentenceTransformer:
    """A fresh LASER-style BiLSTM with the teacher's tokenizer; decodes into English and ``languages``."""
    from mlkd_utils.objectives.laser import build_laser_student

    dims = {"embedding_dim": cfg.laser_embedding_dim, "hidden_dim": cfg.laser_hidden_dim}
    return build_laser_student(teacher, languages, cfg.max_seq_length, dims)


def dataset(cfg: DistillConfig, model: SentenceTransformer, english, other, languages, targets) -> Dataset:
    """Columns in the order the loss reads them; ``label`` is the teacher's embedding for the
    distillation objectives and the target-language id for LASER."""
    columns: dict[str, list] = {"english": list(english), "non_english": list(other)}
    if cfg.objective in NEEDS_TARGETS:
        columns["label"] = list(targets)
    elif cfg.objective == "laser":
        columns["label"] = model[0].language_ids(languages)
    return Dataset.from_dict(columns)


def make_loss(cfg: DistillConfig, model: SentenceTransformer) -> nn.Module:
    check(cfg)
    if cfg.objective == "mse":
        return MSELoss(model)
    if cfg.objective == "ranking":
        return MultipleNegativesRankingLoss(model, scale=cfg.ranking_scale)
    if cfg.objective == "labse":
        from mlkd_utils.objectives.ranking import AdditiveMarginRankingLoss

        return AdditiveMarginRankingLoss(model, scale=cfg.ranking_scale, margin=cfg.ams_margin)
    if cfg.objective == "ems":
        from mlkd_utils.objectives.ems import EMSLoss

        return EMSLoss(model, scale=cfg.ranking_scale, xtr_weight=cfg.xtr_weight, xtr_scale=cfg.xtr_scale)
    if cfg.objective == "laser":
        from mlkd_utils.objectives.laser import LaserTranslationLoss

        return LaserTranslationLoss(model)
    from mlkd_utils.objectives.combined import DistillRankingLoss

    return DistillRankingLoss(model, weight=cfg.combined_weight, scale=cfg.ranking_scale)
