"""Dataset generators, keyed by the spec's dataset names.

Each generator takes the ``data`` spec and a seeded numpy Generator and returns a
:class:`RawData`: samples before splitting, feature crossing and normalization.
The 2-D sets follow tensorflow/playground's definitions (``src/dataset.ts``).

What ``data.noise`` means, per dataset:

- 2-D classification: std of Gaussian jitter of the points (labels stay those of the
  clean point, so classes overlap as noise grows).
- regression (``plane multigauss poly1d``): noise-to-signal ratio of the target, i.e.
  the std of the added Gaussian noise divided by the std of the clean target (poly1d's
  clean target has unit std, so there the noise std is ``data.noise`` itself).
- ``digits``: std of Gaussian pixel noise, pixels scaled to [0, 1].
- ``mnist1d``: scales the generator's correlated and iid noise; 0.1 gives the paper's.
- ``upload``: ignored (the user's data is used as is).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class RawData:
    x: np.ndarray  # (N, 2) for 2-D sets, (N, 1) for poly1d, (N, C, H, W) images, (N, D)
    y: np.ndarray  # int64 class ids or float32 targets (N,)
    task: str  # "classification" | "regression"
    n_classes: int  # 0 for regression
    kind: str  # "2d" | "1d" | "image" | "vector"
    feature_names: list[str] | None = None
    info: dict = field(default_factory=dict)  # copied into the bundle's info (e.g. poly1d's true curve)


Generator = Callable[..., RawData]
DATASETS: dict[str, Generator] = {}


def register(name: str) -> Callable[[Generator], Generator]:
    def deco(fn: Generator) -> Generator:
        DATASETS[name] = fn
        return fn

    return deco


def _two_d(x: np.ndarray, y: np.ndarray, n_classes: int = 2) -> RawData:
    return RawData(x.astype(np.float32), y.astype(np.int64), "classification", n_classes, "2d")


def _jitter(d, rng: np.random.Generator, shape: tuple, scale: float):
    return rng.normal(0, d.noise * scale, shape) if d.noise else 0


# ---------------------------------------------------------------- 2-D classification


@register("circle")
def circle(d, rng: np.random.Generator) -> RawData:
    """Inner disc (class 1) inside a ring (class 0), radius 5 as in the playground."""
    n = d.n_samples
    r_in = rng.uniform(0, 0.5, n // 2) * 5
    r_out = rng.uniform(0.7, 1.0, n - n // 2) * 5
    r = np.concatenate([r_in, r_out])
    angle = rng.uniform(0, 2 * np.pi, n)
    x = np.stack([r * np.cos(angle), r * np.sin(angle)], 1)
    x = x + _jitter(d, rng, x.shape, 0.5)
    y = np.concatenate([np.ones(n // 2), np.zeros(n - n // 2)])
    return _two_d(x, y)


@register("xor")
def xor(d, rng: np.random.Generator) -> RawData:
    n = d.n_samples
    x = rng.uniform(-5, 5, (n, 2))
    x += np.sign(x) * 0.3  # a margin around the axes, as in the playground
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    x = x + _jitter(d, rng, x.shape, 0.5)
    return _two_d(x, y)


@register("gauss")
def gauss(d, rng: np.random.Generator) -> RawData:
    """``n_classes`` isotropic blobs on a circle; noise widens them."""
    n, k = d.n_samples, d.n_classes
    y = np.arange(n) % k
    angles = 2 * np.pi * np.arange(k) / k + np.pi / 4
    centers = 3 * np.stack([np.cos(angles), np.sin(angles)], 1)
    x = centers[y] + rng.normal(0, 0.5 + 2 * d.noise, (n, 2))
    return _two_d(x, y, k)


@register("spiral")
def spiral(d, rng: np.random.Generator) -> RawData:
    n, k = d.n_samples, d.n_classes
    y = np.arange(n) % k
    t = rng.uniform(0, 1, n)
    r = 5 * t
    angle = 1.75 * t * 2 * np.pi + 2 * np.pi * y / k
    x = np.stack([r * np.sin(angle), r * np.cos(angle)], 1)
    x = x + _jitter(d, rng, x.shape, 2.0)
    return _two_d(x, y, k)


@register("moons")
def moons(d, rng: np.random.Generator) -> RawData:
    n = d.n_samples
    y = np.arange(n) % 2
    t = rng.uniform(0, np.pi, n)
    x = np.where(y[:, None] == 0,
                 np.stack([np.cos(t), np.sin(t)], 1),
                 np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1))
    x = (x - [0.5, 0.25]) * 2.5
    x = x + _jitter(d, rng, x.shape, 2.0)
    return _two_d(x, y)


# ---------------------------------------------------------------- regression


def _regression(x: np.ndarray, clean: np.ndarray, d, rng: np.random.Generator, kind: str,
                signal_std: float | None = None, **info) -> RawData:
    """Add target noise with std ``noise * std(clean target)`` (a noise-to-signal ratio)."""
    std = float(clean.std()) if signal_std is None else signal_std
    y = clean + (rng.normal(0, d.noise * std, clean.shape) if d.noise else 0)
    return RawData(x.astype(np.float32), y.astype(np.float32), "regression", 0, kind, info=info)


@register("plane")
def plane(d, rng: np.random.Generator) -> RawData:
    """The playground's plane: target (x1 + x2) / 10 on [-6, 6]^2."""
    x = rng.uniform(-6, 6, (d.n_samples, 2))
    # std of (x1 + x2) / 10 for independent U(-6, 6) inputs
    return _regression(x, x.sum(1) / 10, d, rng, "2d", signal_std=np.sqrt(2 * 12.0) / 10)


# (center x, center y, sign): the playground's six bumps in a 3 x 2 checkerboard
BUMPS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]])


def multigauss_target(x: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Sum of signed Gaussian bumps (the playground takes the largest cone instead)."""
    d2 = ((x[:, None, :] - BUMPS[None, :, :2]) ** 2).sum(-1)
    return (BUMPS[:, 2] * np.exp(-d2 / (2 * sigma ** 2))).sum(1)


@register("multigauss")
def multigauss(d, rng: np.random.Generator) -> RawData:
    x = rng.uniform(-6, 6, (d.n_samples, 2))
    # the std of the clean target over the square, fixed so the noise does not depend on n
    return _regression(x, multigauss_target(x), d, rng, "2d", signal_std=0.36)


def random_polynomial(degree: int, rng: np.random.Generator) -> Callable[[np.ndarray], np.ndarray]:
    """A random polynomial of exactly ``degree`` on [-1, 1], scaled to unit std there.

    Coefficients are drawn in the Legendre basis, which is orthogonal on [-1, 1], so every
    degree contributes wiggles of comparable size (monomial coefficients would make the
    high powers vanish near 0).
    """
    coef = rng.normal(0, 1, degree + 1)
    coef[-1] = np.sign(coef[-1]) * max(abs(coef[-1]), 0.5)  # keep the leading term alive
    grid = np.linspace(-1, 1, 2001)
    vals = np.polynomial.legendre.legval(grid, coef)
    mean, std = vals.mean(), vals.std() or 1.0
    return lambda x: (np.polynomial.legendre.legval(x, coef) - mean) / std


@register("poly1d")
def poly1d(d, rng: np.random.Generator) -> RawData:
    """x ~ U(-1, 1), target = a random polynomial of ``data.degree`` + N(0, noise^2)."""
    f = random_polynomial(d.degree, rng)  # drawn first: the same curve for every n_samples
    x = rng.uniform(-1, 1, (d.n_samples, 1))
    grid = np.linspace(-1, 1, 201)
    raw = _regression(x, f(x[:, 0]), d, rng, "1d", signal_std=1.0,
                      truth={"x": grid.tolist(), "y": f(grid).tolist()})
    raw.feature_names = ["x"]
    return raw


# ---------------------------------------------------------------- images


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    bunch = load_digits()
    images, target = bunch.images.reshape(-1, 1, 8, 8) / 16.0, bunch.target.astype(np.int64)
    images.flags.writeable = target.flags.writeable = False  # shared by every call
    return images, target


@register("digits")
def digits(d, rng: np.random.Generator) -> RawData:
    """scikit-learn's bundled 8x8 digits (1797 images), subsampled to ``n_samples``."""
    images, target = _digits()
    idx = np.sort(rng.choice(len(target), size=min(d.n_samples, len(target)), replace=False))
    x = images[idx] + _jitter(d, rng, images[idx].shape, 1.0)
    return RawData(x.astype(np.float32), target[idx].copy(), "classification", 10, "image")


def generate(d, seed: int, upload_root: Path | None = None) -> RawData:
    rng = np.random.default_rng([seed, 1])
    fn = DATASETS.get(d.dataset)
    if fn is None:
        raise ValueError(f"dataset {d.dataset!r} is not available")
    if d.dataset == "upload":
        return fn(d, rng, upload_root)
    return fn(d, rng)


# generators that live in modules of their own register themselves on import
from training.data import mnist1d as _mnist1d  # noqa: F401
from training.data import modular as _modular  # noqa: F401
from training.data import uploads as _uploads  # noqa: F401
