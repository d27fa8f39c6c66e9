"""A length-grouped batch sampler for SentenceTransformerTrainer (it has none built in).

Random batches mix a 5-word caption with a 60-word news sentence, so most of each batch is
padding. Like ``transformers``' ``group_by_length``: shuffle, cut the order into mega-batches of
``mega_factor`` batches, sort each mega-batch by length, split it into batches and shuffle the
batch order. Batches stay random across the corpus but hold sentences of similar length.
"""

from __future__ import annotations

import torch
from sentence_transformers.sampler import DefaultBatchSampler


class LengthGroupedBatchSampler(DefaultBatchSampler):
    mega_factor = 32
    text_columns = ("english", "non_english")

    def __init__(
        self,
        dataset,
        batch_size: int,
        drop_last: bool,
        valid_label_columns=None,
        generator: torch.Generator | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(
            dataset,
            batch_size=batch_size,
            drop_last=drop_last,
            valid_label_columns=valid_label_columns,
            generator=generator,
            seed=seed,
        )
        columns = [c for c in self.text_columns if c in dataset.column_names]
        per_column = [[len(t) for t in dataset[c]] for c in columns]
        self.lengths = [max(vals) for vals in zip(*per_column)]
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        n = len(self.lengths)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        g = torch.Generator()
        g.manual_seed(self.seed + getattr(self, "epoch", 0))
        order = torch.randperm(len(self.lengths), generator=g).tolist()
        mega = self.batch_size * self.mega_factor
        batches = []
        for start in range(0, len(order), mega):
            chunk = sorted(order[start : start + mega], key=lambda i: self.lengths[i], reverse=True)
            batches += [chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size)]
        if self.drop_last:
            batches = [b for b in batches if len(b) == self.batch_size]
        for i in torch.randperm(len(batches), generator=g).tolist():
            yield batches[i]
