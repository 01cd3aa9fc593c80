"""Datasets, splits, feature crosses, normalization and label noise.

:func:`load` turns the ``data`` part of a spec into a :class:`DataBundle`: tensors for
the train/val/test splits (normalized with statistics of the training split only) and
what the trainer and the UI need to know about the task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import torch

from training.data.datasets import generate
from training.data.prepare import prepare


@dataclass
class DataBundle:
    task: str  # "classification" | "regression"
    n_classes: int  # 0 for regression
    input_shape: tuple[int, ...]  # one sample, e.g. (2,), (1, 8, 8), (40,)
    feature_names: list[str]
    x_train: torch.Tensor
    y_train: torch.Tensor  # int64 class ids, or float32 (N, 1) targets
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    # raw 2-D coordinates of each split, for drawing (2-D and 1-D datasets only)
    points: Optional[dict] = None
    # maps raw 2-D points (M, 2) to the model's normalized input (M, d); boundary grids
    featurize: Optional[Callable[[torch.Tensor], torch.Tensor]] = None
    # what was done to the data: flipped label indices, normalization statistics ...
    info: dict = field(default_factory=dict)

    @property
    def out_dim(self) -> int:
        return self.n_classes if self.task == "classification" else 1

    def to(self, device: torch.device) -> "DataBundle":
        for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
            setattr(self, name, getattr(self, name).to(device))
        return self


def load(spec, upload_root: Optional[Path] = None) -> DataBundle:
    """Build the bundle for ``spec`` (a :class:`training.spec.Spec`), deterministically."""
    raw = generate(spec.data, spec.seed, upload_root)
    return prepare(raw, spec.data, spec.seed)
