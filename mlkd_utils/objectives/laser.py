"""LASER-style encoder: a BiLSTM with max pooling, trained from scratch to translate.

LASER (Artetxe & Schwenk 2019) trains a BiLSTM encoder whose max-pooled states are the sentence
embedding, with an LSTM decoder that must produce the translation from that vector alone (plus a
target-language id). Here it is a sentence-transformers input module, so the same trainer,
checkpoints, evaluation and mining code serve it; the decoder lives inside the module (and is saved
with it), because the trainer saves only the model in a checkpoint, not the loss. It shares the
teacher's WordPiece tokenizer so every objective of chapter 6 reads the same tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules.input_module import InputModule
from torch import Tensor, nn
from transformers import AutoTokenizer, PreTrainedTokenizerBase


class LaserEncoder(InputModule):
    """Token embeddings -> BiLSTM -> max pooling = the sentence embedding; plus a translation decoder."""

    config_keys = ["languages", "embedding_dim", "hidden_dim", "decoder_dim", "language_dim", "max_seq_length"]
    config_file_name = "laser_config.json"

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase | str,
        languages: Sequence[str],
        embedding_dim: int = 256,
        hidden_dim: int = 256,
        decoder_dim: int = 512,
        language_dim: int = 32,
        max_seq_length: int = 128,
    ) -> None:
        super().__init__()
        self.tokenizer = AutoTokenizer.from_pretrained(tokenizer) if isinstance(tokenizer, str) else tokenizer
        self.languages = list(languages)
        self.embedding_dim, self.hidden_dim = embedding_dim, hidden_dim
        self.decoder_dim, self.language_dim = decoder_dim, language_dim
        self.max_seq_length = max_seq_length
        vocab = len(self.tokenizer)
        self.embed = nn.Embedding(vocab, embedding_dim, padding_idx=self.tokenizer.pad_token_id)
        self.encoder = nn.LSTM(embedding_dim, hidden_dim, batch_first=True, bidirectional=True)
        self.language = nn.Embedding(len(self.languages), language_dim)
        self.init_state = nn.Linear(2 * hidden_dim, decoder_dim)
        self.decoder = nn.LSTM(embedding_dim + 2 * hidden_dim + language_dim, decoder_dim, batch_first=True)
        # Output through the (tied) input embeddings: 30k x 256 instead of a second 30k x 512 matrix.
        self.output = nn.Linear(decoder_dim, embedding_dim)

    def preprocess(self, inputs: Sequence[str], prompt: str | None = None, **kwargs) -> dict[str, Tensor]:
        texts = [prompt + t for t in inputs] if prompt else list(inputs)
        return dict(
            self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_seq_length, return_tensors="pt")
        )

    def encode_tokens(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        """Max over the BiLSTM states of the real (unpadded) tokens."""
        lengths = attention_mask.sum(dim=1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            self.embed(input_ids), lengths, batch_first=True, enforce_sorted=False
        )
        states, _ = nn.utils.rnn.pad_packed_sequence(self.encoder(packed)[0], batch_first=True)
        mask = attention_mask[:, : states.size(1)].unsqueeze(-1).bool()
        return states.masked_fill(~mask, float("-inf")).max(dim=1).values

    def forward(self, features: dict[str, Any], **kwargs) -> dict[str, Any]:
        features["sentence_embedding"] = self.encode_tokens(features["input_ids"], features["attention_mask"])
        return features

    def translation_loss(self, sentence: Tensor, target_ids: Tensor, target_mask: Tensor, language: Tensor) -> Tensor:
        """Teacher-forced cross-entropy of the target tokens given only the sentence vector and the
        target language: [CLS] starts the target, [SEP] ends it, padding is not scored."""
        inputs, gold, scored = target_ids[:, :-1], target_ids[:, 1:], target_mask[:, 1:].bool()
        steps = inputs.size(1)
        context = torch.cat([sentence, self.language(language)], dim=-1).unsqueeze(1).expand(-1, steps, -1)
        h0 = torch.tanh(self.init_state(sentence)).unsqueeze(0)
        out, _ = self.decoder(torch.cat([self.embed(inputs), context], dim=-1), (h0, torch.zeros_like(h0)))
        logits = F.linear(self.output(out), self.embed.weight)
        return F.cross_entropy(logits[scored], gold[scored])

    def language_ids(self, languages: Iterable[str]) -> list[int]:
        return [self.languages.index(lang) for lang in languages]

    def get_embedding_dimension(self) -> int:
        return 2 * self.hidden_dim

    def get_sentence_embedding_dimension(self) -> int:
        return self.get_embedding_dimension()

    def save(self, output_path: str, *args, safe_serialization: bool = True, **kwargs) -> None:
        self.save_config(output_path)
        self.save_tokenizer(output_path)
        self.save_torch_weights(output_path, safe_serialization=safe_serialization)

    @classmethod
    def load(cls, model_name_or_path: str, subfolder: str = "", **kwargs) -> LaserEncoder:
        hub = {k: kwargs[k] for k in ("token", "cache_folder", "revision", "local_files_only") if k in kwargs}
        config = cls.load_config(model_name_or_path, subfolder=subfolder, **hub)
        folder = cls.load_dir_path(model_name_or_path, subfolder=subfolder, **hub)
        model = cls(tokenizer=folder, **config)
        return cls.load_torch_weights(model_name_or_path, subfolder=subfolder, model=model, **hub)


class LaserTranslationLoss(nn.Module):
    """Translate each side of a pair into the other: English -> the pair's language (label) and the
    pair's language -> English, averaged."""

    def __init__(self, model: SentenceTransformer) -> None:
        super().__init__()
        self.model = model
        self.laser: LaserEncoder = model[0]
        self.english = self.laser.languages.index("en")

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        english, other = list(sentence_features)
        e_en = self.model(english)["sentence_embedding"]
        e_xx = self.model(other)["sentence_embedding"]
        to_other = self.laser.translation_loss(e_en, other["input_ids"], other["attention_mask"], labels.long())
        to_english = self.laser.translation_loss(
            e_xx, english["input_ids"], english["attention_mask"], torch.full_like(labels.long(), self.english)
        )
        return (to_other + to_english) / 2


def build_laser_student(
    teacher: SentenceTransformer, languages: Sequence[str], max_seq_length: int, dims: dict[str, int]
) -> SentenceTransformer:
    """A fresh LASER-style model with the teacher's tokenizer; ``languages`` are the decoder's targets."""
    targets = ["en", *sorted(set(languages) - {"en"})]
    module = LaserEncoder(teacher.tokenizer, targets, max_seq_length=max_seq_length, **dims)
    return SentenceTransformer(modules=[module], device="cpu")
