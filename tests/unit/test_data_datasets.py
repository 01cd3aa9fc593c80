"""Every dataset generator: shapes, dtypes, classes, determinism, and what noise does."""

import numpy as np
import pytest

from training.data import describe, load
from training.data.datasets import DATASETS, generate
from training.data.mnist1d import templates
from training.spec import DataSpec, validate

BUILT_IN = ["circle", "xor", "gauss", "spiral", "moons", "plane", "multigauss", "poly1d", "digits", "mnist1d"]
EXPECTED = {  # dataset -> (task, n_classes, sample shape, kind)
    "circle": ("classification", 2, (2,), "2d"),
    "xor": ("classification", 2, (2,), "2d"),
    "gauss": ("classification", 2, (2,), "2d"),
    "spiral": ("classification", 2, (2,), "2d"),
    "moons": ("classification", 2, (2,), "2d"),
    "plane": ("regression", 0, (2,), "2d"),
    "multigauss": ("regression", 0, (2,), "2d"),
    "poly1d": ("regression", 0, (1,), "1d"),
    "digits": ("classification", 10, (1, 8, 8), "image"),
    "mnist1d": ("classification", 10, (40,), "vector"),
}


def raw(dataset, seed=0, **data):
    return generate(DataSpec(dataset=dataset, **data), seed)


def test_registry_holds_every_spec_name():
    from training.spec import DATASETS as SPEC_NAMES

    assert set(DATASETS) == set(SPEC_NAMES)


@pytest.mark.parametrize("name", BUILT_IN)
def test_shapes_dtypes_and_classes(name):
    task, k, shape, kind = EXPECTED[name]
    r = raw(name, n_samples=200)
    assert r.x.shape == (200, *shape) and r.x.dtype == np.float32
    assert (r.task, r.n_classes, r.kind) == (task, k, kind)
    assert np.isfinite(r.x).all() and np.isfinite(r.y).all()
    if task == "classification":
        assert r.y.dtype == np.int64 and r.y.shape == (200,)
        assert set(np.unique(r.y)) == set(range(k))
    else:
        assert r.y.dtype == np.float32 and r.y.shape == (200,)


@pytest.mark.parametrize("name", BUILT_IN)
def test_deterministic_per_seed_and_different_across_seeds(name):
    a, b, c = raw(name, seed=3, n_samples=100), raw(name, seed=3, n_samples=100), raw(name, seed=4, n_samples=100)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.x, c.x)


@pytest.mark.parametrize("name", BUILT_IN)
def test_noise_changes_the_data(name):
    clean, noisy = raw(name, noise=0.0, n_samples=100), raw(name, noise=0.5, n_samples=100)
    if EXPECTED[name][0] == "regression":
        assert not np.allclose(clean.y, noisy.y)
    else:
        assert not np.allclose(clean.x, noisy.x)


@pytest.mark.parametrize("name", BUILT_IN)
def test_describe_agrees_with_the_generated_bundle(name):
    spec = validate({"data": {"dataset": name, "n_samples": 60}})
    bundle = load(spec)
    info = describe(spec.data)
    assert info == {"task": bundle.task, "n_classes": bundle.n_classes, "input_shape": bundle.input_shape,
                    "kind": bundle.kind}


@pytest.mark.parametrize("name", ["gauss", "spiral"])
def test_n_classes_sets_the_classes_of_gauss_and_spiral(name):
    r = raw(name, n_classes=5, n_samples=100)
    assert r.n_classes == 5 and set(np.unique(r.y)) == set(range(5))
    assert describe(DataSpec(dataset=name, n_classes=5))["n_classes"] == 5


def test_regression_noise_is_a_noise_to_signal_ratio():
    clean = raw("plane", noise=0.0, n_samples=5000)
    noisy = raw("plane", noise=0.5, n_samples=5000)
    assert np.allclose(clean.x, noisy.x)
    # plane is the playground's (x1 + x2) / 10
    assert np.allclose(clean.y, clean.x.sum(1) / 10, atol=1e-6)
    ratio = (noisy.y - clean.y).std() / clean.y.std()
    assert ratio == pytest.approx(0.5, rel=0.05)


def test_multigauss_target_is_a_sum_of_signed_bumps():
    r = raw("multigauss", noise=0.0, n_samples=4000)
    # positive bump at (-4, 2.5), negative bump at (0, 2.5)
    near_pos = np.linalg.norm(r.x - [-4, 2.5], axis=1) < 0.5
    near_neg = np.linalg.norm(r.x - [0, 2.5], axis=1) < 0.5
    assert r.y[near_pos].min() > 0.8 and r.y[near_neg].max() < -0.8
    assert r.y.min() >= -1.01 and r.y.max() <= 1.01


@pytest.mark.parametrize("degree", [1, 3, 7])
def test_poly1d_is_a_polynomial_of_the_stated_degree(degree):
    r = raw("poly1d", degree=degree, noise=0.0, n_samples=200)
    x, y = r.x[:, 0].astype(np.float64), r.y.astype(np.float64)
    assert x.min() >= -1 and x.max() <= 1
    fit = np.polynomial.polynomial.Polynomial.fit(x, y, degree)
    assert np.abs(fit(x) - y).max() < 1e-4  # degree d fits exactly
    if degree > 1:
        lower = np.polynomial.polynomial.Polynomial.fit(x, y, degree - 1)
        assert np.abs(lower(x) - y).max() > 1e-2  # degree d - 1 does not
    assert y.std() == pytest.approx(1.0, rel=0.3)


def test_poly1d_noise_has_the_stated_std_and_keeps_the_curve():
    clean = raw("poly1d", noise=0.0, n_samples=4000)
    noisy = raw("poly1d", noise=0.3, n_samples=4000)
    assert np.array_equal(clean.x, noisy.x)
    assert (noisy.y - clean.y).std() == pytest.approx(0.3, rel=0.05)
    # the same curve for every sample count: the truth is drawn before the samples
    assert raw("poly1d", n_samples=50).info["truth"] == clean.info["truth"]


def test_digits_are_sklearn_digits_subsampled_with_the_seed():
    from sklearn.datasets import load_digits

    ref = load_digits()
    r = raw("digits", noise=0.0, n_samples=300)
    assert r.x.min() >= 0 and r.x.max() <= 1
    flat = (r.x.reshape(300, 64).astype(np.float64) * 16).round()
    lookup = {row.tobytes(): t for row, t in zip(ref.data, ref.target)}
    assert all(lookup[row.tobytes()] == t for row, t in zip(flat, r.y))  # each image keeps its label
    assert raw("digits", noise=0.0, n_samples=5000).x.shape[0] == 1797  # capped at the whole set


def test_mnist1d_has_ten_distinct_templates_and_balanced_classes():
    t = templates()
    assert t.shape == (10, 12)
    assert np.allclose(t[:, 0], 0)
    distances = np.linalg.norm(t[:, None] - t[None], axis=-1)
    assert (distances + np.eye(10) * 9).min() > 0.05
    r = raw("mnist1d", n_samples=1000)
    assert np.array_equal(np.bincount(r.y), np.full(10, 100))
    assert abs(r.x.mean()) < 1e-4 and r.x.std() == pytest.approx(1.0, rel=1e-3)


def test_mnist1d_is_linearly_learnable_but_far_from_solved():
    r = raw("mnist1d", n_samples=4000)
    x = np.c_[r.x, np.ones(len(r.x))].astype(np.float64)
    tr, te = slice(0, 3000), slice(3000, None)
    onehot = np.eye(10)[r.y[tr]]
    w = np.linalg.solve(x[tr].T @ x[tr] + 1e-2 * np.eye(41), x[tr].T @ onehot)
    acc = ((x[te] @ w).argmax(1) == r.y[te]).mean()
    assert 0.15 < acc < 0.6  # chance is 0.1; the paper's linear model gets about a third


def test_mnist1d_noise_scales_the_generator_noise():
    quiet, loud = raw("mnist1d", noise=0.0, n_samples=500), raw("mnist1d", noise=0.5, n_samples=500)
    # the noise-free signals are smooth; noise adds high-frequency energy
    rough = [np.abs(np.diff(r.x, 2, axis=1)).mean() for r in (quiet, loud)]
    assert rough[1] > 2 * rough[0]
