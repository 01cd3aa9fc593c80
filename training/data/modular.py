"""Modular arithmetic, the dataset of the grokking experiments.

Power et al., "Grokking: Generalization beyond overfitting on small algorithmic datasets"
(2022), https://arxiv.org/abs/2201.02177: every equation ``a ∘ b = c (mod p)`` for
``a, b`` in ``0..p-1`` is one sample. The input is the two operands one-hot encoded and
concatenated (``2p`` features), the label is ``c`` (``p`` classes). ``data.split.train``
is the training fraction that the experiments vary; ``data.n_samples`` is ignored (the
table has exactly ``p²`` equations) and ``data.noise`` too (the rule is exact).

There is no structure in the inputs for a network to exploit except the rule itself,
so with a small training fraction a net first memorizes the table and, only much later
and only with weight decay, finds the rule: validation accuracy jumps long after
training accuracy reached 100 %.
"""

from __future__ import annotations

import numpy as np

from training.data.datasets import RawData, register

OPERATIONS = {
    "add": lambda a, b, p: (a + b) % p,
    "sub": lambda a, b, p: (a - b) % p,
}


def table(p: int, operation: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair ``(a, b)`` and its result, in row-major order."""
    a, b = np.divmod(np.arange(p * p), p)
    return a, b, OPERATIONS[operation](a, b, p).astype(np.int64)


def one_hot_pairs(a: np.ndarray, b: np.ndarray, p: int) -> np.ndarray:
    x = np.zeros((len(a), 2 * p), dtype=np.float32)
    rows = np.arange(len(a))
    x[rows, a] = 1.0
    x[rows, p + b] = 1.0
    return x


@register("modular")
def modular(d, rng: np.random.Generator) -> RawData:
    p = d.modulus
    a, b, c = table(p, d.operation)
    names = [f"a={i}" for i in range(p)] + [f"b={i}" for i in range(p)]
    return RawData(one_hot_pairs(a, b, p), c, "classification", p, "vector", feature_names=names,
                   info={"modulus": p, "operation": d.operation})
