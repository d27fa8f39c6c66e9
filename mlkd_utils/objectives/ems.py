"""EMS-style objective: sentence-level contrastive loss plus cross-lingual token reconstruction (XTR).

XTR (Mao et al. 2022) asks the embedding of a sentence to predict the bag of tokens of its
translation through a projection onto the vocabulary. The projection here is the student's own
input token-embedding matrix (tied), so the objective adds no parameters outside the model: a
checkpoint holds everything a resumed run needs, and the trainer's optimizer sees every weight.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.losses.merged_forward import embed_columns
from torch import Tensor, nn

from mlkd_utils.objectives.ranking import additive_margin_ranking


def bag_of_tokens(input_ids: Tensor, attention_mask: Tensor, vocab_size: int, ignore: Iterable[int]) -> Tensor:
    """Each row's token distribution (counts / length), special tokens and padding left out."""
    keep = attention_mask.bool()
    for token in ignore:
        keep &= input_ids != token
    bag = torch.zeros(input_ids.size(0), vocab_size, device=input_ids.device)
    bag.scatter_add_(1, input_ids * keep, keep.float())
    return bag / bag.sum(dim=1, keepdim=True).clamp(min=1.0)


def xtr_loss(sentence: Tensor, target_bag: Tensor, vocabulary: Tensor, scale: float = 10.0) -> Tensor:
    """Cross-entropy between the target bag and ``softmax(scale * normalize(sentence) @ vocabulary.T)``.

    Rows with an empty bag (a target of only special tokens) contribute nothing.
    """
    logits = scale * F.normalize(sentence, dim=-1) @ vocabulary.T
    per_row = -(target_bag * F.log_softmax(logits, dim=-1)).sum(dim=-1)
    has_tokens = target_bag.sum(dim=-1) > 0
    return per_row[has_tokens].mean() if has_tokens.any() else per_row.sum() * 0.0


def input_embeddings(model: SentenceTransformer) -> Tensor:
    """The token-embedding matrix of a transformer student (after any vocabulary extension)."""
    return model[0].auto_model.get_input_embeddings().weight


class EMSLoss(nn.Module):
    """Bidirectional in-batch contrastive loss + ``xtr_weight`` x XTR in both directions."""

    def __init__(
        self, model: SentenceTransformer, scale: float = 20.0, xtr_weight: float = 1.0, xtr_scale: float = 10.0
    ) -> None:
        super().__init__()
        self.model = model
        self.scale = scale
        self.xtr_weight = xtr_weight
        self.xtr_scale = xtr_scale
        tok = model.tokenizer
        self.ignore = sorted({t for t in (tok.cls_token_id, tok.sep_token_id, tok.pad_token_id) if t is not None})

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        features = list(sentence_features)
        english, other = embed_columns(self.model, features)
        contrastive = additive_margin_ranking(english, other, self.scale, margin=0.0, symmetric=True)
        vocab = input_embeddings(self.model)
        bags = [bag_of_tokens(f["input_ids"], f["attention_mask"], vocab.size(0), self.ignore) for f in features]
        xtr = (xtr_loss(english, bags[1], vocab, self.xtr_scale) + xtr_loss(other, bags[0], vocab, self.xtr_scale)) / 2
        return contrastive + self.xtr_weight * xtr

    def get_config_dict(self) -> dict[str, float]:
        return {"scale": self.scale, "xtr_weight": self.xtr_weight, "xtr_scale": self.xtr_scale}
