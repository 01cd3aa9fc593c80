"""Losses match their definitions; label smoothing and soft targets; metrics."""

import pytest
import torch
import torch.nn.functional as F

from training.losses import build_loss, metrics, soft_targets
from training.spec import SpecError, validate

torch.manual_seed(0)
LOGITS = torch.randn(16, 3)
Y = torch.randint(0, 3, (16,))


def test_cross_entropy_is_torchs():
    assert torch.allclose(build_loss("cross_entropy", "classification", 3)(LOGITS, Y), F.cross_entropy(LOGITS, Y))
    assert torch.allclose(build_loss(None, "classification", 3)(LOGITS, Y), F.cross_entropy(LOGITS, Y))


def test_bce_is_one_sigmoid_per_class_against_one_hot():
    expected = F.binary_cross_entropy(torch.sigmoid(LOGITS), F.one_hot(Y, 3).float())
    assert torch.allclose(build_loss("bce", "classification", 3)(LOGITS, Y), expected, atol=1e-6)


@pytest.mark.parametrize("name, fn", [("mse", F.mse_loss), ("mae", F.l1_loss), ("huber", F.huber_loss)])
def test_regression_losses(name, fn):
    pred, target = torch.randn(10, 1) * 3, torch.randn(10, 1) * 3
    assert torch.allclose(build_loss(name, "regression", 0)(pred, target), fn(pred, target))
    assert torch.allclose(build_loss(None, "regression", 0)(pred, target), F.mse_loss(pred, target))
    # on a classification task: softmax probabilities against one-hot targets
    probs = F.softmax(LOGITS, 1)
    assert torch.allclose(build_loss(name, "classification", 3)(LOGITS, Y), fn(probs, F.one_hot(Y, 3).float()))


def test_huber_is_quadratic_near_zero_and_linear_far_away():
    huber = build_loss("huber", "regression", 0)
    assert huber(torch.tensor([[0.5]]), torch.zeros(1, 1)).item() == pytest.approx(0.125)
    assert huber(torch.tensor([[3.0]]), torch.zeros(1, 1)).item() == pytest.approx(2.5)


def test_label_smoothing_changes_the_target():
    s = 0.2
    assert torch.allclose(soft_targets(torch.tensor([1]), 4, s), torch.tensor([[0.05, 0.85, 0.05, 0.05]]))
    smooth = build_loss("cross_entropy", "classification", 3, s)(LOGITS, Y)
    expected = -(soft_targets(Y, 3, s) * F.log_softmax(LOGITS, 1)).sum(1).mean()
    assert torch.allclose(smooth, expected) and not torch.allclose(smooth, F.cross_entropy(LOGITS, Y))
    # the smoothed optimum is no longer a one-hot prediction: confident logits now cost more
    confident = F.one_hot(Y, 3).float() * 20
    assert build_loss("cross_entropy", "classification", 3, s)(confident, Y) > 1.0
    bce = build_loss("bce", "classification", 3, s)(LOGITS, Y)
    assert torch.allclose(bce, F.binary_cross_entropy_with_logits(LOGITS, F.one_hot(Y, 3).float() * 0.8 + 0.1))
    mse = build_loss("mse", "classification", 3, s)(LOGITS, Y)
    assert torch.allclose(mse, F.mse_loss(F.softmax(LOGITS, 1), soft_targets(Y, 3, s)))


@pytest.mark.parametrize("name", ["cross_entropy", "bce", "mse", "mae", "huber"])
def test_soft_targets_from_mixup_are_accepted(name):
    loss = build_loss(name, "classification", 3)
    hard = loss(LOGITS, Y)
    assert torch.allclose(loss(LOGITS, F.one_hot(Y, 3).float()), hard, atol=1e-6)
    lam = 0.7
    mixed = lam * F.one_hot(Y, 3).float() + (1 - lam) * F.one_hot(Y.flip(0), 3).float()
    value = loss(LOGITS, mixed)
    assert torch.isfinite(value) and not torch.allclose(value, hard)
    if name == "cross_entropy":  # linear in the target: the mix of the two losses
        assert torch.allclose(value, lam * hard + (1 - lam) * loss(LOGITS, Y.flip(0)), atol=1e-6)


def test_classification_losses_need_a_classification_task():
    with pytest.raises(ValueError):
        build_loss("cross_entropy", "regression", 0)


def test_metrics():
    assert metrics(LOGITS, Y, "classification")["acc"] == pytest.approx((LOGITS.argmax(1) == Y).float().mean().item())
    assert metrics(LOGITS, F.one_hot(Y, 3).float(), "classification")["acc"] == metrics(LOGITS, Y, "classification")["acc"]
    y = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    perfect = metrics(y, y, "regression")
    assert perfect == {"rmse": 0.0, "r2": 1.0}
    mean = metrics(torch.full_like(y, 2.5), y, "regression")
    assert mean["r2"] == pytest.approx(0.0) and mean["rmse"] == pytest.approx(1.25 ** 0.5)


def test_label_smoothing_on_regression_is_an_error():
    with pytest.raises(SpecError) as exc:
        validate({"data": {"dataset": "plane"}, "regularization": {"label_smoothing": 0.1}})
    assert exc.value.errors[0]["path"] == "/regularization/label_smoothing"
