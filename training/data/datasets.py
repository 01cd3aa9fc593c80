"""Dataset generators, keyed by the spec's dataset names.

Each generator takes the ``data`` spec and a seeded numpy Generator and returns a
:class:`RawData`: samples before splitting, feature crossing and normalization.
The 2-D sets follow tensorflow/playground's definitions (``src/dataset.ts``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np


@dataclass
class RawData:
    x: np.ndarray  # (N, 2) for 2-D sets, (N, 1) for poly1d, (N, C, H, W) images, (N, D)
    y: np.ndarray  # int64 class ids or float32 targets (N,)
    task: str  # "classification" | "regression"
    n_classes: int  # 0 for regression
    kind: str  # "2d" | "1d" | "image" | "vector"
    feature_names: Optional[list[str]] = None


Generator = Callable[..., RawData]
DATASETS: dict[str, Generator] = {}


def register(name: str) -> Callable[[Generator], Generator]:
    def deco(fn: Generator) -> Generator:
        DATASETS[name] = fn
        return fn

    return deco


def _two_d(x: np.ndarray, y: np.ndarray, n_classes: int = 2) -> RawData:
    return RawData(x.astype(np.float32), y.astype(np.int64), "classification", n_classes, "2d")


@register("circle")
def circle(d, rng: np.random.Generator) -> RawData:
    """Inner disc (class 1) inside a ring (class 0), radius 5 as in the playground."""
    n = d.n_samples
    r_in = rng.uniform(0, 0.5, n // 2) * 5
    r_out = rng.uniform(0.7, 1.0, n - n // 2) * 5
    r = np.concatenate([r_in, r_out])
    angle = rng.uniform(0, 2 * np.pi, n)
    x = np.stack([r * np.cos(angle), r * np.sin(angle)], 1)
    x += rng.normal(0, d.noise * 5 * 0.1 + 1e-12, x.shape) if d.noise else 0
    y = np.concatenate([np.ones(n // 2), np.zeros(n - n // 2)])
    return _two_d(x, y)


@register("xor")
def xor(d, rng: np.random.Generator) -> RawData:
    n = d.n_samples
    x = rng.uniform(-5, 5, (n, 2))
    x += np.sign(x) * 0.3  # a margin around the axes, as in the playground
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    x += rng.normal(0, d.noise * 5 * 0.1 + 1e-12, x.shape) if d.noise else 0
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
    x += rng.normal(0, d.noise * 2 + 1e-12, x.shape) if d.noise else 0
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
    x += rng.normal(0, d.noise * 2 + 1e-12, x.shape) if d.noise else 0
    return _two_d(x, y)


def generate(d, seed: int, upload_root: Optional[Path] = None) -> RawData:
    rng = np.random.default_rng([seed, 1])
    fn = DATASETS.get(d.dataset)
    if fn is None:
        raise ValueError(f"dataset {d.dataset!r} is not available")
    if d.dataset == "upload":
        return fn(d, rng, upload_root)
    return fn(d, rng)
