"""Splits, label corruption, class imbalance and normalization (fitted on the training split)."""

import numpy as np
import pytest
import torch

from training.data import check, load
from training.data.datasets import generate
from training.data.prepare import Normalizer, cross
from training.spec import SpecError, validate


def bundle(**data):
    seed = data.pop("seed", 0)
    return load(validate({"seed": seed, "data": data}))


def rows(t: torch.Tensor) -> set:
    return {tuple(np.round(r, 5)) for r in t.reshape(len(t), -1).tolist()}


def test_split_partitions_the_samples_in_the_stated_proportions():
    b = bundle(dataset="xor", n_samples=400, normalize="none", split={"train": 0.5, "val": 0.3, "test": 0.2})
    assert (len(b.x_train), len(b.x_val), len(b.x_test)) == (200, 120, 80)
    raw = generate(validate({"data": {"dataset": "xor", "n_samples": 400}}).data, 0)
    splits = [rows(b.x_train), rows(b.x_val), rows(b.x_test)]
    assert set.union(*splits) == rows(torch.as_tensor(raw.x))
    assert not (splits[0] & splits[1]) and not (splits[0] & splits[2]) and not (splits[1] & splits[2])


def test_split_is_deterministic_per_seed():
    a, b, c = bundle(dataset="moons", seed=1), bundle(dataset="moons", seed=1), bundle(dataset="moons", seed=2)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_val, b.y_val)
    assert not torch.equal(a.x_train, c.x_train)


def test_label_noise_flips_exactly_the_fraction_of_training_labels_only():
    clean = bundle(dataset="gauss", n_classes=4, n_samples=600)
    noisy = bundle(dataset="gauss", n_classes=4, n_samples=600, label_noise=0.25)
    n_train = len(clean.y_train)
    flipped = noisy.info["flipped"]
    assert len(flipped) == round(0.25 * n_train)
    changed = torch.nonzero(noisy.y_train != clean.y_train).flatten().tolist()
    assert changed == flipped  # every recorded flip is a change to a different class, and nothing else changed
    assert torch.equal(noisy.x_train, clean.x_train)
    assert torch.equal(noisy.y_val, clean.y_val) and torch.equal(noisy.y_test, clean.y_test)
    assert (noisy.y_train >= 0).all() and (noisy.y_train < 4).all()


def test_full_label_noise_changes_every_training_label():
    clean, noisy = bundle(dataset="circle"), bundle(dataset="circle", label_noise=1.0)
    assert (noisy.y_train != clean.y_train).all()


def test_random_labels_are_uniform_on_train_and_leave_val_and_test_intact():
    clean = bundle(dataset="gauss", n_classes=5, n_samples=5000, split={"train": 0.8, "val": 0.1, "test": 0.1})
    rand = bundle(dataset="gauss", n_classes=5, n_samples=5000, split={"train": 0.8, "val": 0.1, "test": 0.1},
                  random_labels=True)
    assert rand.info["random_labels"] is True
    assert torch.equal(rand.y_val, clean.y_val) and torch.equal(rand.y_test, clean.y_test)
    counts = torch.bincount(rand.y_train, minlength=5).float() / len(rand.y_train)
    assert (counts - 0.2).abs().max() < 0.03
    agreement = (rand.y_train == clean.y_train).float().mean().item()
    assert agreement == pytest.approx(0.2, abs=0.03)  # independent of the true label


def test_imbalance_thins_every_class_but_the_first_in_the_training_split():
    clean = bundle(dataset="gauss", n_classes=3, n_samples=900, normalize="none")
    thin = bundle(dataset="gauss", n_classes=3, n_samples=900, normalize="none", imbalance=0.2)
    before = torch.bincount(clean.y_train, minlength=3).tolist()
    after = torch.bincount(thin.y_train, minlength=3).tolist()
    assert after[0] == before[0]
    assert after[1:] == [round(0.2 * c) for c in before[1:]]
    assert thin.info["train_class_counts"] == after
    assert torch.equal(thin.y_val, clean.y_val) and torch.equal(thin.y_test, clean.y_test)
    assert rows(thin.x_train) <= rows(clean.x_train)


def test_standardize_uses_training_statistics_only():
    raw = bundle(dataset="moons", normalize="none")
    std = bundle(dataset="moons", normalize="standardize")
    mean = raw.x_train.double().mean(0)
    sd = raw.x_train.double().std(0, unbiased=False)
    assert torch.allclose(std.x_train.double(), (raw.x_train - mean) / sd, atol=1e-5)
    assert torch.allclose(std.x_val.double(), (raw.x_val - mean) / sd, atol=1e-5)
    assert torch.allclose(std.x_test.double(), (raw.x_test - mean) / sd, atol=1e-5)
    assert std.x_val.mean(0).abs().max() > 1e-3  # val was not centred with its own mean
    assert std.info["normalization"]["shift"] == pytest.approx(mean.tolist())


def test_center_subtracts_the_training_mean():
    raw, cen = bundle(dataset="xor", normalize="none"), bundle(dataset="xor", normalize="center")
    mean = raw.x_train.double().mean(0)
    assert torch.allclose(cen.x_val.double(), raw.x_val - mean, atol=1e-5)
    assert cen.x_train.mean(0).abs().max() < 1e-5


def test_minmax_maps_the_training_split_to_unit_interval():
    raw, mm = bundle(dataset="spiral", normalize="none"), bundle(dataset="spiral", normalize="minmax")
    lo, hi = raw.x_train.min(0).values, raw.x_train.max(0).values
    assert torch.allclose(mm.x_train.min(0).values, torch.zeros(2)) and torch.allclose(mm.x_train.max(0).values,
                                                                                        torch.ones(2))
    assert torch.allclose(mm.x_test, (raw.x_test - lo) / (hi - lo), atol=1e-5)


def test_none_leaves_the_features_alone():
    b = bundle(dataset="circle", normalize="none", features=["x1", "x2", "x1*x2"])
    assert torch.allclose(b.x_train[:, 2], b.x_train[:, 0] * b.x_train[:, 1], atol=1e-4)


def test_images_get_per_channel_statistics():
    x = np.random.default_rng(0).normal([1.0, -2.0, 5.0], [1.0, 3.0, 0.5], (200, 4, 4, 3)).transpose(0, 3, 1, 2)
    norm = Normalizer("standardize", x[:150])
    assert np.asarray(norm.shift).shape == (1, 3, 1, 1)
    out = norm(x[:150])
    assert np.allclose(out.mean((0, 2, 3)), 0, atol=1e-5) and np.allclose(out.std((0, 2, 3)), 1, atol=1e-4)
    b = bundle(dataset="digits", n_samples=400)
    assert abs(b.x_train.mean().item()) < 1e-4 and b.x_train.std(unbiased=False).item() == pytest.approx(1, 1e-3)


def test_a_constant_training_feature_does_not_explode():
    x = np.c_[np.random.default_rng(0).normal(size=50), np.full(50, 3.0)].astype(np.float32)
    for how in ("standardize", "minmax"):
        norm = Normalizer(how, x)
        assert np.isfinite(norm(x + 1)).all() and np.abs(norm(x + 1)[:, 1]).max() <= 4


def test_regression_targets_are_float_columns():
    for name in ("plane", "multigauss", "poly1d"):
        b = bundle(dataset=name, n_samples=100)
        assert b.task == "regression" and b.out_dim == 1
        for y in (b.y_train, b.y_val, b.y_test):
            assert y.dtype == torch.float32 and y.dim() == 2 and y.shape[1] == 1


def test_featurize_maps_raw_points_like_the_training_data():
    b = bundle(dataset="plane", features=["x1", "x2", "x1^2", "sin(x2)"])
    raw = torch.tensor([b.points["train"]["x"], b.points["train"]["y"]]).T
    assert torch.allclose(b.featurize(raw), b.x_train, atol=1e-4)
    p = bundle(dataset="poly1d")
    assert torch.allclose(p.featurize(torch.tensor(p.points["train"]["x"])[:, None]), p.x_train, atol=1e-5)
    assert "truth" in p.info  # the noise-free curve, for drawing


def test_cross_matches_numpy_and_torch():
    pts = np.array([[0.5, -1.0], [2.0, 3.0]], dtype=np.float32)
    names = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
    assert np.allclose(cross(pts, names), cross(torch.tensor(pts), names).numpy())


def test_check_rejects_class_operations_on_regression_data():
    with pytest.raises(SpecError) as err:
        check(validate({"data": {"dataset": "poly1d", "imbalance": 0.5}}))
    assert err.value.errors[0]["path"] == "/data/imbalance"
    info = check(validate({"data": {"dataset": "digits"}, "augment": [{"type": "hflip"}]}))
    assert info["kind"] == "image"
