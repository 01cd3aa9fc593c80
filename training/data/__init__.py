"""Datasets, splits, feature crosses, normalization and label noise.

:func:`load` turns the ``data`` part of a spec into a :class:`DataBundle`: tensors for
the train/val/test splits (normalized with statistics of the training split only) and
what the trainer and the UI need to know about the task. :func:`describe` answers the
same questions about the task without generating any data (cheap enough to run on every
keystroke of the spec editor), and :func:`check` uses it to reject a spec that asks the
data for something it cannot do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from training.data.datasets import generate
from training.data.prepare import prepare
from training.spec import IMAGE_AUGMENTS, SpecError


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
    points: dict | None = None
    # maps raw 2-D points (M, 2) to the model's normalized input (M, d); boundary grids
    featurize: Callable[[torch.Tensor], torch.Tensor] | None = None
    # what was done to the data: flipped label indices, normalization statistics ...
    info: dict = field(default_factory=dict)
    kind: str = "vector"  # "2d" | "1d" | "image" | "vector"

    @property
    def out_dim(self) -> int:
        return self.n_classes if self.task == "classification" else 1

    def to(self, device: torch.device) -> DataBundle:
        for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
            setattr(self, name, getattr(self, name).to(device))
        return self


def load(spec, upload_root: Path | None = None) -> DataBundle:
    """Build the bundle for ``spec`` (a :class:`training.spec.Spec`), deterministically."""
    raw = generate(spec.data, spec.seed, upload_root)
    return prepare(raw, spec.data, spec.seed)


_FIXED = {  # dataset -> (task, n_classes, input_shape, kind); None: depends on the spec
    "circle": ("classification", 2, None, "2d"),
    "xor": ("classification", 2, None, "2d"),
    "moons": ("classification", 2, None, "2d"),
    "gauss": ("classification", None, None, "2d"),
    "spiral": ("classification", None, None, "2d"),
    "plane": ("regression", 0, None, "2d"),
    "multigauss": ("regression", 0, None, "2d"),
    "poly1d": ("regression", 0, (1,), "1d"),
    "digits": ("classification", 10, (1, 8, 8), "image"),
    "mnist1d": ("classification", 10, (40,), "vector"),
}


def describe(data_spec, upload_root: Path | None = None) -> dict:
    """``{task, n_classes, input_shape, kind}`` of a ``data`` spec, without generating data.

    With ``data.classes`` a classification task has that many classes (relabelled 0..k-1);
    ``source_classes`` keeps the dataset's own count.
    """
    info = _describe_source(data_spec, upload_root)
    if data_spec.classes and info["task"] == "classification":
        info = {**info, "source_classes": info["n_classes"], "n_classes": len(data_spec.classes)}
    return info


def _describe_source(data_spec, upload_root: Path | None = None) -> dict:
    """The dataset itself, before any selection of classes.

    For an upload this reads only the stored metadata; a missing upload raises
    :class:`SpecError` at ``/data/upload_id``.
    """
    d = data_spec
    if d.dataset == "upload":
        from training.data.uploads import read_meta

        meta = read_meta(upload_root, d.upload_id)
        shape = tuple(meta["input_shape"])
        if meta["kind"] == "2d":
            shape = (len(d.features),)
        return {"task": meta["task"], "n_classes": int(meta["n_classes"]), "input_shape": shape,
                "kind": meta["kind"]}
    if d.dataset == "modular":  # p classes, two one-hot operands
        return {"task": "classification", "n_classes": d.modulus, "input_shape": (2 * d.modulus,), "kind": "vector"}
    task, n_classes, shape, kind = _FIXED[d.dataset]
    if n_classes is None:
        n_classes = d.n_classes
    if shape is None:
        shape = (len(d.features),)
    return {"task": task, "n_classes": n_classes, "input_shape": shape, "kind": kind}


def check(spec, upload_root: Path | None = None) -> dict:
    """Raise :class:`SpecError` if the spec asks the data for the impossible; else describe it.

    :func:`training.spec.validate` already checks what it can know from the names of the
    built-in datasets; this adds what only the data knows (an upload's task and shape).
    """
    d = spec.data
    info = describe(d, upload_root)
    errors = []

    def add(path: str, message: str) -> None:
        errors.append({"path": path, "message": message})

    name = "the upload" if d.dataset == "upload" else d.dataset
    if info["task"] == "regression":
        if d.label_noise:
            add("/data/label_noise", f"label noise applies to classification only; {name} is a regression task")
        if d.random_labels:
            add("/data/random_labels", f"random labels apply to classification only; {name} is a regression task")
        if d.imbalance < 1:
            add("/data/imbalance", f"class imbalance applies to classification only; {name} is a regression task")
        if spec.loss in ("cross_entropy", "bce"):
            add("/loss", f"{spec.loss} needs a classification task; {name} is a regression task")
        if spec.regularization.label_smoothing:
            add("/regularization/label_smoothing", f"label smoothing needs a classification task; "
                f"{name} is a regression task")
    if d.classes and info["task"] == "classification":
        bad = [c for c in d.classes if c >= info["source_classes"]]
        if bad:
            add("/data/classes", f"{name} has classes 0..{info['source_classes'] - 1}; no class {bad[0]}")
    elif d.classes or d.per_class:
        add("/data/classes" if d.classes else "/data/per_class",
            f"selecting classes applies to classification only; {name} is a regression task")
    if info["kind"] != "2d" and d.features != ["x1", "x2"]:
        add("/data/features", f"feature crosses need 2-D inputs; {name} has inputs of shape "
            f"{list(info['input_shape'])}")
    for i, aug in enumerate(spec.augment):
        if aug.type in IMAGE_AUGMENTS and info["kind"] != "image":
            add(f"/augment/{i}/type", f"{aug.type} needs images of shape (C, H, W); "
                f"{name} has inputs of shape {list(info['input_shape'])}")
        elif aug.type in ("mixup", "cutmix") and info["task"] != "classification":
            add(f"/augment/{i}/type", f"{aug.type} needs a classification task; {name} is a regression task")
    if errors:
        raise SpecError(errors)
    return info
