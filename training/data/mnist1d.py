"""MNIST-1D, generated locally and vectorized over samples.

Greydanus, "Scaling down deep learning" (2020), https://arxiv.org/abs/2011.14439: ten
hand-drawn 1-D templates of 12 points, one per digit; each sample is a template padded
with a random number of zeros, stretched back to a fixed length, randomly scaled and
circularly shifted, given correlated noise where the signal is zero and iid noise
everywhere, sheared, and resampled to 40 points. A linear classifier reaches about a
third of the test set, an MLP about two thirds, a small CNN over 90%: the gaps that make
the dataset worth training on. The constants are the paper's defaults.
"""

from __future__ import annotations

import numpy as np

from training.data.datasets import RawData, register

TEMPLATE_LEN = 12
PADDING = (36, 60)
SCALE_COEFF = 0.4
MAX_TRANSLATION = 48
CORR_NOISE_SCALE = 0.25
IID_NOISE_SCALE = 2e-2
SHEAR_SCALE = 0.75
LENGTH = 40
PAPER_NOISE = 0.1  # the spec's default data.noise reproduces the paper's noise levels

# the digits 0-9, drawn as 12-point curves (the paper's figure 2)
_RAW = np.array([
    [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],
    [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
    [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],
    [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
    [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],
    [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
    [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],
    [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],
])


def templates() -> np.ndarray:
    """(10, 12): whitened templates that start and end at 0."""
    x = _RAW - _RAW.mean(1, keepdims=True)
    x = x / x.std(1, keepdims=True)
    return (x - x[:, :1]) / 6.0


def _resample(signal: np.ndarray, length: np.ndarray, n_out: int) -> np.ndarray:
    """Linear interpolation of each row's first ``length[i]`` values onto ``n_out`` points."""
    n = len(signal)
    padded = np.concatenate([signal, np.zeros((n, 1))], 1)  # so that i0 + 1 is always valid
    pos = np.arange(n_out)[None, :] * ((length[:, None] - 1) / (n_out - 1))
    i0 = np.floor(pos).astype(np.int64)
    frac = pos - i0
    rows = np.arange(n)[:, None]
    return padded[rows, i0] * (1 - frac) + padded[rows, i0 + 1] * frac


def _smooth(noise: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    """Gaussian filter along each row (scipy's gaussian_filter: reflect mode, 4 sigma)."""
    r = int(4 * sigma + 0.5)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    padded = np.pad(noise, ((0, 0), (r, r)), mode="symmetric")
    return np.lib.stride_tricks.sliding_window_view(padded, 2 * r + 1, axis=1) @ k


def make(y: np.ndarray, rng: np.random.Generator, noise_factor: float = 1.0) -> np.ndarray:
    """Samples (N, 40) for the labels ``y``, following the paper's transform step by step."""
    n = len(y)
    width = TEMPLATE_LEN + PADDING[1]
    # 1. pad with 36..60 zeros and stretch back to a fixed width (a random dilation)
    signal = np.zeros((n, width))
    signal[:, :TEMPLATE_LEN] = templates()[y] + 1e-8  # eps: the template itself is never "zero"
    pad = PADDING[0] + (rng.uniform(size=n) * (PADDING[1] - PADDING[0] + 1)).astype(np.int64)
    x = _resample(signal, TEMPLATE_LEN + pad, width)
    # 2. random scale, then a random circular shift
    x *= 1 + SCALE_COEFF * (rng.uniform(size=(n, 1)) - 0.5)
    shift = rng.integers(0, MAX_TRANSLATION, n)
    x = x[np.arange(n)[:, None], (np.arange(width)[None, :] - shift[:, None]) % width]
    # 3. correlated noise where there is no signal, iid noise everywhere
    corr = _smooth(CORR_NOISE_SCALE * noise_factor * rng.standard_normal((n, width)))
    x = np.where(x != 0, x, corr)
    x += IID_NOISE_SCALE * noise_factor * rng.standard_normal((n, width))
    # 4. a random linear shear, then resample to the final length
    coeff = SHEAR_SCALE * (rng.uniform(size=(n, 1)) - 0.5)
    x -= coeff * np.linspace(-0.5, 0.5, width)[None, :]
    return _resample(x, np.full(n, width), LENGTH)


@register("mnist1d")
def mnist1d(d, rng: np.random.Generator) -> RawData:
    y = rng.permutation(np.arange(d.n_samples) % 10)  # balanced classes
    x = make(y, rng, d.noise / PAPER_NOISE)
    x = (x - x.mean()) / x.std()  # the paper centres the whole set and scales it to unit std
    return RawData(x.astype(np.float32), y.astype(np.int64), "classification", 10, "vector",
                   feature_names=[f"t{i}" for i in range(LENGTH)])
