"""Whole-spec checking for the API: field validation, data shape, model shapes and limits.

``check`` is what ``POST /api/spec/validate`` answers and what ``POST /api/runs`` runs
before anything is queued: every error with its JSON-pointer path, or a summary of the
network (parameters, per-layer output shapes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from training.data import check as check_data
from training.model import summarize
from training.spec import Limits, Spec, validate


def check(doc: Any, limits: Optional[Limits] = None, upload_root: Optional[Path] = None) -> tuple[Spec, dict]:
    limits = limits or Limits()
    spec = validate(doc, limits)  # 1. fields, names, limits, combinations
    info = check_data(spec, upload_root)  # 2. what only the data knows (an upload's task and shape)
    out_dim = info["n_classes"] if info["task"] == "classification" else 1
    summary = summarize(spec, tuple(info["input_shape"]), out_dim, limits)  # 3. shapes, parameters
    summary.update(task=info["task"], n_classes=info["n_classes"], input_shape=list(info["input_shape"]),
                   kind=info["kind"])
    return spec, summary
