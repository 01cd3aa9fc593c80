"""From raw samples to training tensors: crosses, split, label noise, normalization.

The order matters: keep the chosen ``classes`` (relabelled), split, then thin out the
training split (``imbalance``, ``per_class``), then
corrupt labels of the training split only, then fit the normalization on the training
split only (no leakage from val/test). Validation and test sets stay clean and balanced,
so they measure what the corruption does to generalization.
"""

from __future__ import annotations

import numpy as np
import torch

from training.data.datasets import RawData

CROSSES = {
    "x1": lambda a, b: a,
    "x2": lambda a, b: b,
    "x1^2": lambda a, b: a * a,
    "x2^2": lambda a, b: b * b,
    "x1*x2": lambda a, b: a * b,
    "sin(x1)": lambda a, b: torch.sin(a) if isinstance(a, torch.Tensor) else np.sin(a),
    "sin(x2)": lambda a, b: torch.sin(b) if isinstance(b, torch.Tensor) else np.sin(b),
}


def cross(points, names: list[str]):
    """Feature crosses of raw 2-D points (numpy or torch), one column per name."""
    a, b = points[:, 0], points[:, 1]
    cols = [CROSSES[n](a, b) for n in names]
    if isinstance(points, torch.Tensor):
        return torch.stack(cols, 1)
    return np.stack(cols, 1).astype(np.float32)


def split_indices(n: int, split, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    perm = rng.permutation(n)
    n_train = max(1, round(split.train * n))
    n_val = round(split.val * n)
    n_val = min(n_val, n - n_train)
    return perm[:n_train], perm[n_train:n_train + n_val], perm[n_train + n_val:]


def imbalance(tr: np.ndarray, y: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Keep every training sample of class 0 and ``round(fraction * n_c)`` (at least 1) of each other class."""
    keep = [tr[y[tr] == 0]]
    for c in np.unique(y[tr]):
        if c == 0:
            continue
        members = tr[y[tr] == c]
        k = max(1, round(fraction * len(members)))
        keep.append(rng.choice(members, size=k, replace=False))
    return np.sort(np.concatenate(keep)).astype(np.int64)


def flip_labels(y: np.ndarray, fraction: float, n_classes: int, rng: np.random.Generator) -> np.ndarray:
    """Flip exactly ``round(fraction * len(y))`` labels, each to a *different* class."""
    k = round(fraction * len(y))
    idx = rng.choice(len(y), size=k, replace=False)
    shift = rng.integers(1, n_classes, size=k)
    y[idx] = (y[idx] + shift) % n_classes
    return np.sort(idx)


class Normalizer:
    """Statistics fitted on the training split: per feature for vectors, per channel for images.

    A feature that is constant on the training split keeps its scale (divided by 1, not by
    ~0), so that a slightly different value in val/test does not explode.
    """

    def __init__(self, how: str, x_train: np.ndarray):
        self.how = how
        axes = (0,) if x_train.ndim == 2 else tuple(i for i in range(x_train.ndim) if i != 1)
        keep = x_train.ndim != 2
        x_train = x_train.astype(np.float64)  # float32 sums drift on large sets
        if how == "none":
            self.shift, self.scale = 0.0, 1.0
        elif how == "center":
            self.shift, self.scale = x_train.mean(axes, keepdims=keep), 1.0
        elif how == "standardize":
            self.shift, self.scale = x_train.mean(axes, keepdims=keep), x_train.std(axes, keepdims=keep)
        elif how == "minmax":
            lo, hi = x_train.min(axes, keepdims=keep), x_train.max(axes, keepdims=keep)
            self.shift, self.scale = lo, hi - lo
        else:
            raise ValueError(f"unknown normalization {how!r}")
        if isinstance(self.scale, np.ndarray):
            self.scale = np.where(self.scale > 1e-8, self.scale, 1.0)

    def __call__(self, x):
        if isinstance(x, torch.Tensor):
            shift = torch.as_tensor(np.asarray(self.shift, np.float32), device=x.device)
            scale = torch.as_tensor(np.asarray(self.scale, np.float32), device=x.device)
            return (x - shift) / scale
        return ((x - self.shift) / self.scale).astype(np.float32)

    def stats(self) -> dict:
        return {"how": self.how, "shift": np.asarray(self.shift).tolist(), "scale": np.asarray(self.scale).tolist()}


def prepare(raw: RawData, d, seed: int):
    from training.data import DataBundle

    rng = np.random.default_rng([seed, 2])
    x_raw, y = raw.x, raw.y.copy()
    n_classes = raw.n_classes
    # 0. a subset of the classes, relabelled 0..k-1 in the order given (transfer learning:
    # pretrain on some digits, fine-tune on the others)
    if raw.task == "classification" and d.classes:
        keep = np.isin(y, d.classes)
        new_id = np.full(max(max(d.classes), int(y.max())) + 1, -1, np.int64)
        new_id[list(d.classes)] = np.arange(len(d.classes))
        x_raw, y = x_raw[keep], new_id[y[keep]]
        n_classes = len(d.classes)
    if raw.kind == "2d":
        x, names = cross(x_raw, list(d.features)), list(d.features)
    else:
        n_features = int(np.prod(x_raw.shape[1:]))
        x, names = x_raw.astype(np.float32), raw.feature_names or [f"x{i + 1}" for i in range(n_features)]
    tr, va, te = split_indices(len(x), d.split, rng)
    info: dict = {"kind": raw.kind, "n_train": len(tr), "n_val": len(va), "n_test": len(te), **raw.info}

    # 1. class imbalance: keep round(imbalance * n_c) training samples of every class c > 0
    if raw.task == "classification" and d.imbalance < 1.0:
        tr = imbalance(tr, y, d.imbalance, rng)
        info["n_train"] = len(tr)
        info["train_class_counts"] = np.bincount(y[tr], minlength=n_classes).tolist()
    # 1b. a few training samples per class (the rest of the split is left out, val/test stay whole)
    if raw.task == "classification" and d.per_class:
        tr = np.sort(np.concatenate([rng.permutation(tr[y[tr] == c])[:d.per_class] for c in range(n_classes)]))
        tr = tr.astype(np.int64)
        info["n_train"] = len(tr)
        info["train_class_counts"] = np.bincount(y[tr], minlength=n_classes).tolist()
    y_train = y[tr].copy()
    # 2. label corruption, training split only
    if raw.task == "classification" and d.random_labels:
        # Zhang et al. 2017, "Understanding deep learning requires rethinking generalization"
        y_train = rng.integers(0, n_classes, size=len(tr))
        info["random_labels"] = True
    elif raw.task == "classification" and d.label_noise > 0:
        # positions in the training split (rows of bundle.y_train) whose label was changed
        info["flipped"] = flip_labels(y_train, d.label_noise, n_classes, rng).tolist()
    # 3. normalization fitted on the training split only
    norm = Normalizer(d.normalize, x[tr])
    info["normalization"] = norm.stats()

    def t(a, dtype=torch.float32):
        return torch.as_tensor(np.ascontiguousarray(a), dtype=dtype)

    ydt = torch.int64 if raw.task == "classification" else torch.float32

    def ys(a):
        return t(a, ydt) if raw.task == "classification" else t(a, ydt).reshape(-1, 1)

    points = featurize = None
    if raw.kind in ("2d", "1d"):
        def pts(idx, labels):
            p = {"x": x_raw[idx, 0].tolist(), "label": np.asarray(labels).tolist()}
            if raw.kind == "2d":
                p["y"] = x_raw[idx, 1].tolist()
            return p

        points = {"train": pts(tr, y_train), "val": pts(va, y[va]), "test": pts(te, y[te])}
        if raw.kind == "2d":
            def featurize(p: torch.Tensor) -> torch.Tensor:
                return norm(cross(p, names))
        else:
            def featurize(p: torch.Tensor) -> torch.Tensor:
                return norm(p)

    return DataBundle(
        task=raw.task, n_classes=n_classes, input_shape=tuple(x.shape[1:]), feature_names=names, kind=raw.kind,
        x_train=t(norm(x[tr])), y_train=ys(y_train), x_val=t(norm(x[va])), y_val=ys(y[va]),
        x_test=t(norm(x[te])), y_test=ys(y[te]), points=points, featurize=featurize, info=info,
    )
