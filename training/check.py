"""Whole-spec checking for the API: field validation, data shape, model shapes and limits.

``check`` is what ``POST /api/spec/validate`` answers and what ``POST /api/runs`` runs
before anything is queued: every error with its JSON-pointer path, or a summary of the
network (parameters, per-layer output shapes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from training.model import summarize
from training.spec import Limits, Spec, SpecError, validate


def check(doc: Any, limits: Optional[Limits] = None, upload_root: Optional[Path] = None) -> tuple[Spec, dict]:
    from training.data import describe

    limits = limits or Limits()
    spec = validate(doc, limits)
    try:
        info = describe(spec.data, upload_root)
    except (ValueError, FileNotFoundError) as exc:
        if isinstance(exc, SpecError):
            raise
        raise SpecError([{"path": "/data", "message": str(exc)}]) from None
    errors = []
    if info["task"] == "regression" and spec.loss in ("cross_entropy", "bce"):
        errors.append({"path": "/loss", "message": f"{spec.loss} needs a classification dataset"})
    if info["task"] == "regression" and any(a.type in ("mixup", "cutmix") for a in spec.augment):
        errors.append({"path": "/augment", "message": "mixup and cutmix need a classification dataset"})
    if errors:
        raise SpecError(errors)
    out_dim = info["n_classes"] if info["task"] == "classification" else 1
    summary = summarize(spec, tuple(info["input_shape"]), out_dim, limits)
    summary.update(task=info["task"], n_classes=info["n_classes"], input_shape=list(info["input_shape"]))
    return spec, summary
