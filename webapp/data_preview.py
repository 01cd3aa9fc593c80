"""``POST /api/data/preview``: what the data of a spec looks like, before training.

The body is ``{"spec": {...}}``; only its ``seed``, ``data`` and ``augment`` matter (the
rest is ignored, so a half-built model does not hide the data). The engine builds the
data exactly as a run would (:func:`training.data.load`: split, label noise, crosses) and,
for images, applies the spec's augmentations with :func:`training.data.augment.build_augmenter`,
so what the page shows is what the trainer sees. The answer is bounded: at most
``MAX_POINTS`` training points, ``MAX_IMAGES`` images and ``MAX_SERIES`` 1-D signals.

Answer, by ``kind`` (see docs/protocol.md "Data preview"):
- ``2d``: ``points {x, y, label}`` (raw coordinates of training points)
- ``1d``: ``points {x, label}`` sorted by x (label = the regression target)
- ``image``: ``images`` (each C×H×W as nested lists, rounded), ``labels``, and when the spec
  has augmentations ``augmented`` (the same images, augmented once) and ``augment_note``
- ``vector``: ``series`` (each sample's values), ``labels``
"""

from __future__ import annotations

import numpy as np
import torch
from django.conf import settings
from django.http import JsonResponse

from training.data import check as check_data
from training.data import load
from training.data.augment import build_augmenter
from training.spec import SpecError, validate
from webapp.runs.api import api, json_body
from webapp.runs.services import limits

MAX_POINTS = 600
MAX_IMAGES = 24
MAX_SERIES = 12


def _pick(n: int, k: int, seed: int) -> np.ndarray:
    """k indices out of n, spread at random but the same for the same seed."""
    if n <= k:
        return np.arange(n)
    return np.sort(np.random.default_rng([seed, 77]).choice(n, size=k, replace=False))


def _round(a, digits: int = 3) -> list:
    return np.round(np.asarray(a, dtype=np.float64), digits).tolist()


def preview(doc) -> dict:
    """The preview of a spec document; raises SpecError (→ 400) for a bad data spec."""
    if not isinstance(doc, dict):
        raise SpecError([{"path": "", "message": "the spec must be a JSON object"}])
    part = {k: doc[k] for k in ("seed", "data", "augment") if k in doc}
    spec = validate(part, limits())
    info = check_data(spec, settings.UPLOAD_ROOT)
    bundle = load(spec, settings.UPLOAD_ROOT)
    out = {"kind": bundle.kind, "task": bundle.task, "n_classes": bundle.n_classes,
           "input_shape": list(bundle.input_shape), "feature_names": bundle.feature_names,
           "n_train": int(len(bundle.x_train)), "n_val": int(len(bundle.x_val)), "n_test": int(len(bundle.x_test))}
    if bundle.kind in ("2d", "1d") and bundle.points:
        tr = bundle.points["train"]
        idx = _pick(len(tr["x"]), MAX_POINTS, spec.seed)
        pts = {"x": _round(np.asarray(tr["x"])[idx]), "label": np.asarray(tr["label"])[idx].tolist()}
        if bundle.kind == "2d":
            pts["y"] = _round(np.asarray(tr["y"])[idx])
        else:  # a curve: draw it left to right
            order = np.argsort(pts["x"])
            pts = {k: [v[i] for i in order] for k, v in pts.items()}
        out["points"] = pts
        out["shown"] = len(idx)
        return out
    idx = _pick(len(bundle.x_train), MAX_IMAGES if info["kind"] == "image" else MAX_SERIES, spec.seed)
    x = bundle.x_train[torch.as_tensor(idx)]
    y = bundle.y_train[torch.as_tensor(idx)]
    out["labels"] = y.reshape(len(idx), -1)[:, 0].tolist()
    out["shown"] = len(idx)
    if bundle.kind == "image":
        out["images"] = _round(x, 2)
        aug = build_augmenter(spec.augment, bundle)
        if aug is not None:
            g = torch.Generator().manual_seed(spec.seed)
            xa, _ = aug(x.clone(), y.clone(), g)
            out["augmented"] = _round(xa, 2)
            out["augment_note"] = ", ".join(a.type for a in spec.augment)
        return out
    out["series"] = _round(x.reshape(len(idx), -1))
    return out


@api("POST")
def data_preview(request):
    return JsonResponse(preview(json_body(request)))
