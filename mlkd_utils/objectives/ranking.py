"""Translation ranking with in-batch negatives, with an optional additive margin (LaBSE).

mUSE-style ranking is sentence-transformers' ``MultipleNegativesRankingLoss``; LaBSE's additive
margin softmax is not in the library, so it is written here as one function on embeddings (tested
against the library's loss at margin 0) and a thin loss module around it.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.losses.merged_forward import embed_columns
from torch import Tensor, nn


def additive_margin_ranking(
    source: Tensor, target: Tensor, scale: float = 20.0, margin: float = 0.3, symmetric: bool = True
) -> Tensor:
    """Softmax over in-batch candidates of ``scale * (cos - margin on the true pair)``.

    Row i of ``source`` must rank row i of ``target`` above every other row by at least ``margin``
    in cosine to reach a low loss (Yang et al. 2019, LaBSE). ``symmetric`` adds the target->source
    direction, as LaBSE trains both.
    """
    sim = F.normalize(source, dim=-1) @ F.normalize(target, dim=-1).T
    sim = sim - margin * torch.eye(sim.size(0), device=sim.device, dtype=sim.dtype)
    logits = scale * sim
    labels = torch.arange(sim.size(0), device=sim.device)
    loss = F.cross_entropy(logits, labels)
    if symmetric:
        loss = (loss + F.cross_entropy(logits.T, labels)) / 2
    return loss


class AdditiveMarginRankingLoss(nn.Module):
    """LaBSE-style bidirectional ranking loss for (english, non_english) pairs."""

    def __init__(self, model: SentenceTransformer, scale: float = 20.0, margin: float = 0.3) -> None:
        super().__init__()
        self.model = model
        self.scale = scale
        self.margin = margin

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        english, other = embed_columns(self.model, sentence_features)
        return additive_margin_ranking(english, other, self.scale, self.margin, symmetric=True)

    def get_config_dict(self) -> dict[str, float]:
        return {"scale": self.scale, "margin": self.margin}
