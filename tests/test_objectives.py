"""Chapter 6's losses on tiny tensors with known values or gradient directions, then each objective
on the real MiniLM student (or a fresh BiLSTM): finite loss, and one gradient step lowers it."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from sentence_transformers.sentence_transformer.losses import MSELoss, MultipleNegativesRankingLoss
from torch import nn

from mlkd_utils import objectives
from mlkd_utils.config import OBJECTIVES, DistillConfig
from mlkd_utils.errors import ConfigError, MLKDError
from mlkd_utils.objectives.combined import DistillRankingLoss, squared_distance
from mlkd_utils.objectives.ems import bag_of_tokens, xtr_loss
from mlkd_utils.objectives.ranking import AdditiveMarginRankingLoss, additive_margin_ranking


class Linear(nn.Module):
    """A stand-in sentence model: the embedding is ``x @ W`` of a feature column ``x``."""

    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight.clone())

    def forward(self, features: dict) -> dict:
        features["sentence_embedding"] = features["x"] @ self.weight
        return features


def test_margin_ranking_known_value_on_orthogonal_pairs():
    # Two pairs, each sentence equal to its translation and orthogonal to the other pair:
    # cosines are the identity, the true pair's logit is s(1-m) and the other 0.
    e = torch.eye(2)
    s, m = 2.0, 0.3  # a small scale keeps the loss far from float32 rounding
    expected = math.log(1 + math.exp(-s * (1 - m)))
    assert additive_margin_ranking(e, e, s, m).item() == pytest.approx(expected, rel=1e-5)
    assert additive_margin_ranking(e, e, s, 0.0).item() < expected  # the margin makes the true pair harder


def test_margin_zero_one_direction_is_the_library_ranking_loss():
    torch.manual_seed(0)
    a, b = torch.randn(6, 8), torch.randn(6, 8)
    mnrl = MultipleNegativesRankingLoss(model=nn.Identity(), scale=20.0)
    ours = additive_margin_ranking(a, b, 20.0, margin=0.0, symmetric=False)
    assert ours.item() == pytest.approx(mnrl.compute_loss_from_embeddings([a, b], None).item(), rel=1e-5)
    # symmetric adds the columns' direction: the mean of both one-directional losses
    back = additive_margin_ranking(b, a, 20.0, margin=0.0, symmetric=False)
    both = additive_margin_ranking(a, b, 20.0, margin=0.0, symmetric=True)
    assert both.item() == pytest.approx((ours.item() + back.item()) / 2, rel=1e-5)


def test_margin_ranking_gradient_pulls_a_sentence_towards_its_translation():
    torch.manual_seed(1)
    src = torch.randn(4, 8, requires_grad=True)
    tgt = torch.randn(4, 8)
    additive_margin_ranking(src, tgt, 20.0, 0.3).backward()
    step = -src.grad  # gradient descent direction
    before = F.cosine_similarity(src, tgt)
    after = F.cosine_similarity(src + 1e-2 * step, tgt)
    assert (after > before).all()


def test_bag_of_tokens_skips_special_tokens_and_padding():
    ids = torch.tensor([[101, 5, 5, 7, 102, 0], [101, 102, 0, 0, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1, 0], [1, 1, 0, 0, 0, 0]])
    bag = bag_of_tokens(ids, mask, vocab_size=110, ignore=[101, 102, 0])
    assert bag[0, 5].item() == pytest.approx(2 / 3) and bag[0, 7].item() == pytest.approx(1 / 3)
    assert bag[0].sum().item() == pytest.approx(1.0)
    assert bag[1].sum().item() == 0.0  # only special tokens: an empty bag


def test_xtr_known_value_and_empty_rows_are_ignored():
    vocab = torch.eye(5)  # token t's output vector is the unit vector e_t
    sentence = torch.eye(5)[[2, 0]]
    bag = torch.zeros(2, 5)
    bag[0, 2] = 1.0  # row 1 has no tokens
    s = 2.0
    expected = -math.log(math.exp(s) / (math.exp(s) + 4))
    assert xtr_loss(sentence, bag, vocab, s).item() == pytest.approx(expected, rel=1e-5)


def test_xtr_gradient_moves_the_sentence_towards_the_target_tokens():
    vocab = torch.eye(4)
    sentence = torch.tensor([[1.0, 1.0, 1.0, 1.0]], requires_grad=True)
    bag = torch.tensor([[0.0, 0.5, 0.5, 0.0]])
    xtr_loss(sentence, bag, vocab, 5.0).backward()
    step = -sentence.grad[0]
    assert step[1] > 0 and step[2] > 0 and step[0] < 0 and step[3] < 0


def test_squared_distance_is_mse_times_width():
    a, b = torch.tensor([[1.0, 0.0, 0.0]]), torch.tensor([[0.0, 1.0, 0.0]])
    assert squared_distance(a, b).item() == pytest.approx(2.0)
    assert squared_distance(a, b).item() == pytest.approx(3 * F.mse_loss(a, b).item())


def test_library_mse_loss_reaches_zero_at_the_teacher_and_combined_adds_ranking():
    model = Linear(torch.eye(3))
    x_en = torch.eye(3)
    x_xx = torch.eye(3)
    target = torch.eye(3)
    feats = [{"x": x_en}, {"x": x_xx}]
    assert MSELoss(model)(copy.deepcopy(feats), target).item() == pytest.approx(0.0, abs=1e-7)
    combined = DistillRankingLoss(model, weight=1.0, scale=20.0)(copy.deepcopy(feats), target).item()
    ranking_only = additive_margin_ranking(x_en, x_xx, 20.0, 0.0, symmetric=False).item()
    assert combined == pytest.approx(ranking_only, rel=1e-5)  # distance term is 0 at the teacher
    zero_weight = DistillRankingLoss(Linear(2 * torch.eye(3)), weight=0.0)(copy.deepcopy(feats), target).item()
    assert zero_weight == pytest.approx(1.0 * 1)  # ||2e_i - e_i||^2 = 1 on both sides


def test_margin_loss_module_trains_the_stand_in_model():
    torch.manual_seed(2)
    model = Linear(torch.randn(6, 6))
    x_en, x_xx = torch.randn(8, 6), torch.randn(8, 6)
    loss_fn = AdditiveMarginRankingLoss(model, scale=20.0, margin=0.3)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    first = loss_fn([{"x": x_en}, {"x": x_xx}]).item()
    for _ in range(30):
        opt.zero_grad()
        loss_fn([{"x": x_en}, {"x": x_xx}]).backward()
        opt.step()
    assert loss_fn([{"x": x_en}, {"x": x_xx}]).item() < first


def test_unknown_objective_and_misapplied_options_fail_by_name():
    with pytest.raises(ConfigError, match="unknown objective 'mnrl'"):
        objectives.check(DistillConfig(objective="mnrl"))
    with pytest.raises(ConfigError, match="from scratch"):
        objectives.check(DistillConfig(objective="laser", vocabulary="extended"))
    with pytest.raises(ConfigError, match="target_mode 'raw' only applies"):
        objectives.check(DistillConfig(objective="ranking", target_mode="raw"))


PAIRS = [
    ("The cat sleeps in the garden.", "Die Katze schläft im Garten."),
    ("A man is playing the guitar.", "Ein Mann spielt Gitarre."),
    ("It is raining today.", "Heute regnet es."),
    ("Where is the train station?", "Wo ist der Bahnhof?"),
]


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_every_objective_gives_a_finite_loss_that_a_gradient_step_lowers(objective, teacher):
    from mlkd_utils.models import build_student

    torch.manual_seed(0)
    cfg = DistillConfig(objective=objective, laser_embedding_dim=32, laser_hidden_dim=32)
    if objective == "laser":
        model = objectives.build_laser(cfg, teacher, ["de"])
    else:
        model = build_student("teacher", teacher, "normalized", 64)
    english, german = [p[0] for p in PAIRS], [p[1] for p in PAIRS]
    targets = torch.tensor(teacher.encode(english, normalize_embeddings=True))
    ds = objectives.dataset(cfg, model, english, german, ["de"] * len(PAIRS), targets)
    expected_columns = {"mse": 3, "combined": 3, "laser": 3}.get(objective, 2)
    assert len(ds.column_names) == expected_columns
    loss_fn = objectives.make_loss(cfg, model)
    labels = torch.tensor(ds["label"]) if "label" in ds.column_names else None

    def loss() -> torch.Tensor:
        feats = [model.preprocess(english), model.preprocess(german)]
        return loss_fn(feats, labels)

    params = [p for p in loss_fn.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=1e-2 if objective != "laser" else 0.5)
    model.eval()  # no dropout: the same batch must give the same loss before and after
    first = loss()
    assert torch.isfinite(first)
    opt.zero_grad()
    first.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in params)
    opt.step()
    assert loss().item() < first.item()


@pytest.mark.slow
@pytest.mark.parametrize("objective", ["laser", "ems", "labse"])
def test_objective_trains_through_distill_resumes_and_reloads(objective, tiny_root):
    """The trainer path of every non-MSE family: trained, killed after a checkpoint, resumed, saved
    and loaded back as a plain SentenceTransformer (the LASER module from its own files)."""
    import shutil

    import numpy as np
    from test_distill import TINY

    from mlkd_utils.config import load_profile
    from mlkd_utils.distill import distill
    from mlkd_utils.encode import encode

    overrides = {
        **TINY,
        "distill.objective": objective,
        "distill.laser_embedding_dim": 32,
        "distill.laser_hidden_dim": 32,
    }
    prof = load_profile("quick", overrides)
    first = distill(prof, "student-en-de", seed=5, keep_checkpoints=True)
    assert first.info["run_key"]["distill"]["objective"] == objective
    assert first.log.loss.notna().sum() == 4
    (first.run_dir / "done.json").unlink()
    shutil.rmtree(first.run_dir / "model")
    shutil.rmtree(first.run_dir / "checkpoints" / "checkpoint-4")
    resumed = distill(prof, "student-en-de", seed=5)
    assert resumed.info["resumed_from"] == "checkpoint-2"
    emb = encode(resumed.load_model(), [p[0] for p in PAIRS], bf16=False)
    width = 64 if objective == "laser" else 384
    assert emb.shape == (len(PAIRS), width) and np.isfinite(emb).all()
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)  # saved with Normalize, like every student


def test_loading_a_trained_model_trusts_this_package_only(tmp_path):
    import json

    from mlkd_utils.models import load_trained

    (tmp_path / "modules.json").write_text(json.dumps([{"idx": 0, "name": "0", "path": "", "type": "evil.Module"}]))
    with pytest.raises(MLKDError, match="evil.Module"):
        load_trained(tmp_path)
