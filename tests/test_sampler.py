from datasets import Dataset

from mlkd_utils.sampler import LengthGroupedBatchSampler


def make(n=200, bs=8, seed=0, drop_last=False):
    texts = ["w " * (i % 37 + 1) for i in range(n)]
    ds = Dataset.from_dict({"english": texts, "non_english": texts[::-1]})
    return LengthGroupedBatchSampler(ds, batch_size=bs, drop_last=drop_last, seed=seed), ds


def test_every_index_once_per_epoch_and_deterministic():
    s, _ = make()
    batches = list(s)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(200)) and len(batches) == len(s)
    assert batches == list(make()[0])
    s.set_epoch(1)
    assert list(s) != batches


def test_batches_are_more_uniform_in_length_than_random():
    s, _ = make(n=2000, bs=16)
    lengths = s.lengths
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in s) / len(s)
    assert spread < 0.25 * (max(lengths) - min(lengths))


def test_drop_last():
    s, _ = make(n=50, bs=8, drop_last=True)
    assert all(len(b) == 8 for b in s) and len(list(s)) == len(s) == 6
