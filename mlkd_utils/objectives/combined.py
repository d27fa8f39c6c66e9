"""Distillation plus translation ranking in one loss: can one student keep the teacher's STS geometry
and also rank translations first?"""

from __future__ import annotations

from collections.abc import Iterable

from sentence_transformers import SentenceTransformer
from sentence_transformers.base.losses.merged_forward import embed_columns
from torch import Tensor, nn

from mlkd_utils.objectives.ranking import additive_margin_ranking


def squared_distance(student: Tensor, target: Tensor) -> Tensor:
    """Mean over the batch of ||student - target||^2: MSELoss times the embedding width.

    Summed over the dimensions rather than averaged, so that with unit-length targets the
    distillation term is O(1) like the ranking term and neither weight is a 1/384 in disguise.
    """
    return ((student - target) ** 2).sum(dim=-1).mean()


class DistillRankingLoss(nn.Module):
    """``distance(student(en), t) + distance(student(xx), t) + weight * ranking(en, xx)`` (mUSE-style,
    one direction, in-batch negatives, no margin)."""

    def __init__(self, model: SentenceTransformer, weight: float = 1.0, scale: float = 20.0) -> None:
        super().__init__()
        self.model = model
        self.weight = weight
        self.scale = scale

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        english, other = embed_columns(self.model, sentence_features)
        distill = (squared_distance(english, labels) + squared_distance(other, labels)) / 2
        ranking = additive_margin_ranking(english, other, self.scale, margin=0.0, symmetric=False)
        return distill + self.weight * ranking

    def get_config_dict(self) -> dict[str, float]:
        return {"weight": self.weight, "scale": self.scale}
