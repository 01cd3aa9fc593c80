"""Whole-spec checking for the API: field validation, data shape, model shapes, limits, memory.

``check`` is what ``POST /api/spec/validate`` answers and what ``POST /api/runs`` runs
before anything is queued: every error with its JSON-pointer path (all in one round,
as far as the spec parses), or a summary of the network (parameters, per-layer output
shapes, estimated memory).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Optional

from training.data import check as check_data
from training.model import summarize
from training.spec import Limits, Spec, SpecError, parse, touches
from training.spec_messages import first_per_path, polish, subject

MB = 2**20
FLOAT_BYTES = 4
# Tensors an optimizer keeps per parameter (torch.optim): Adam's two moments, a momentum
# buffer, Adagrad's sum of squares, Adadelta's two running averages.
OPTIMIZER_STATE = {"sgd": 0, "momentum": 1, "nesterov": 1, "adagrad": 1, "adadelta": 2, "rmsprop": 1,
                   "adam": 2, "adamw": 2, "nadam": 2, "radam": 2}
# Autograd keeps each layer's output for the backward pass, the backward pass makes a
# gradient of the same size, and the loss and the optimizer step add temporaries: taken
# as three times the forward activations (a deliberately generous round figure).
BACKWARD_FACTOR = 3
# The loss landscape evaluates grid points in chunks sized to a budget of its own
# (training.landscape.default_budget: 64 MiB on a CPU); the trained net and its directions
# stay alive beside it.
LANDSCAPE_CHUNK_BYTES = 64 * MB


def _layer_at(spec: Spec, path: str):
    node, parts = None, path.split("/")[1:]
    layers = spec.model.layers
    for part in parts[2:]:
        if part == "layers":
            layers = node.layers
        elif part.isdigit():
            node = layers[int(part)]
        else:
            return None
    return node


def _tensors_per_output(layer) -> int:
    """Tensors of an output's size that a layer keeps for backward (pre-activation, mask...)."""
    if layer is None:
        return 1
    if layer.type in ("dense", "conv2d"):
        return 1 if layer.activation == "linear" else 2
    if layer.type in ("dropout", "batchnorm", "layernorm", "groupnorm"):
        return 2
    return 1


def estimate_memory(spec: Spec, summary: dict, n_samples: int) -> dict:
    """Peak bytes of training and of the landscape, and what dominates them.

    An estimate (float32 everywhere), deliberately simple: activations per sample ×
    batch × :data:`BACKWARD_FACTOR`; parameters × (weights, gradients, optimizer state);
    the whole data set, which the trainer keeps on the device for the run.
    """
    batch = spec.training.batch_size
    per_layer = []  # (elements per sample, path) of each top-level layer's saved outputs
    act = math.prod(summary["input_shape"])  # the input batch itself
    for row in summary["layers"]:
        n = math.prod(row["output_shape"]) * _tensors_per_output(_layer_at(spec, row["path"]) if row["path"] else None)
        act += n
        if row["path"]:
            top = "/".join(row["path"].split("/")[:4])
            per_layer.append((n, top))
    params = summary["params"]
    state = OPTIMIZER_STATE.get(spec.optimizer.name, 2)
    if spec.optimizer.name == "rmsprop" and spec.optimizer.momentum:
        state += 1
    data_bytes = n_samples * (math.prod(summary["input_shape"]) + 1) * FLOAT_BYTES
    act_bytes = act * batch * BACKWARD_FACTOR * FLOAT_BYTES
    param_bytes = params * (2 + state) * FLOAT_BYTES
    train = act_bytes + param_bytes + data_bytes
    landscape = 0
    ls = spec.monitor.landscape
    if ls is not None and ls.mode != "none" and spec.mode == "train":
        eval_bytes = min(ls.eval_samples, n_samples) * math.prod(summary["input_shape"]) * FLOAT_BYTES
        one_point = params * FLOAT_BYTES + 2 * act * FLOAT_BYTES  # the engine's smallest chunk
        landscape = (data_bytes + param_bytes + 4 * params * FLOAT_BYTES  # center, 2 directions, a point
                     + eval_bytes + max(LANDSCAPE_CHUNK_BYTES, one_point))
    biggest = max(per_layer, default=(0, "/model/layers"))
    return {"train_mb": train / MB, "landscape_mb": landscape / MB, "activations_mb": act_bytes / MB,
            "params_mb": param_bytes / MB, "data_mb": data_bytes / MB,
            "biggest_layer": biggest[1], "biggest_layer_mb": biggest[0] * batch * BACKWARD_FACTOR * FLOAT_BYTES / MB}


def _memory_errors(spec: Spec, mem: dict, limits: Limits, doc: Any, is_upload: bool) -> list[dict]:
    cap = limits.max_memory_mb
    peak = max(mem["train_mb"], mem["landscape_mb"])
    if peak <= cap:
        return []
    over = f"the estimated peak memory of {peak:,.0f} MB is over this server's {cap:,} MB"
    errors = []
    parts = {"activations_mb": mem["activations_mb"], "params_mb": mem["params_mb"], "data_mb": mem["data_mb"]}
    top = max(parts, key=parts.get)
    if mem["landscape_mb"] > mem["train_mb"] and mem["landscape_mb"] > cap:
        errors.append({"path": "/monitor/landscape",
                       "message": f"Loss landscape: {over}; use fewer evaluation samples or no landscape"})
    elif top == "activations_mb":
        b = spec.training.batch_size
        errors.append({"path": "/training/batch_size",
                       "message": f"Batch size {b:,}: the layers' outputs for one batch take about "
                                  f"{mem['activations_mb']:,.0f} MB while training; {over}. Use a smaller batch"})
        card, _ = subject(mem["biggest_layer"], doc)
        errors.append({"path": mem["biggest_layer"],
                       "message": f"{card}: its outputs for a batch of {b:,} take about {mem['biggest_layer_mb']:,.0f} MB "
                                  "while training; fewer filters or units, a stride or an earlier pooling layer "
                                  "make them smaller"})
    elif top == "params_mb":
        errors.append({"path": "/model/layers",
                       "message": f"The network's weights, gradients and optimizer state take about "
                                  f"{mem['params_mb']:,.0f} MB; {over}"})
    else:
        path = "/data/upload_id" if is_upload else "/data/n_samples"
        errors.append({"path": path, "message": f"The data set takes about {mem['data_mb']:,.0f} MB on the device; {over}"})
    return errors


def check(doc: Any, limits: Optional[Limits] = None, upload_root: Optional[Path] = None) -> tuple[Spec, dict]:
    """The spec and a summary of its network, or :class:`SpecError` with every problem found.

    1. fields, names, limits and combinations (training.spec.parse), also past broken fields;
    2. what only the data knows (an upload's task and shape);
    3. shapes and parameters (training.model.summarize), 4. the memory estimate.
    Steps 2-4 run only where no broken value was set back to its default in a section
    they read, so every error reported is about what the person wrote.
    """
    limits = limits or Limits()
    parsed = parse(doc, limits)
    errors, spec, repaired = list(parsed.errors), parsed.spec, parsed.repaired
    if spec is None or touches("/data", repaired) or touches("/model", repaired) \
            or any(e["path"] == "/model/layers" for e in errors):  # too many layers: do not build them
        raise SpecError(errors)
    try:
        info = check_data(spec, upload_root)
        out_dim = info["n_classes"] if info["task"] == "classification" else 1
        unlimited = Limits(**{**limits.model_dump(), "max_params": 10**15})
        summary = summarize(spec, tuple(info["input_shape"]), out_dim, unlimited)
    except SpecError as exc:
        raise SpecError(first_per_path(errors, polish(exc.errors, doc))) from None
    summary.update(task=info["task"], n_classes=info["n_classes"], input_shape=list(info["input_shape"]),
                   kind=info["kind"])
    if summary["params"] > limits.max_params:
        errors.append({"path": "/model/layers", "message": f"The network has {summary['params']:,} parameters; "
                       f"at most {limits.max_params:,} are allowed (the server's limit)"})
    mem = estimate_memory(spec, summary, _n_samples(spec, upload_root))
    summary["memory_mb"] = {"train": round(mem["train_mb"], 1), "landscape": round(mem["landscape_mb"], 1)}
    if not touches("/training/batch_size", repaired) and not touches("/monitor", repaired):
        errors += _memory_errors(spec, mem, limits, doc, spec.data.dataset == "upload")
    if errors:
        raise SpecError(errors)
    return spec, summary


def _n_samples(spec: Spec, upload_root: Optional[Path]) -> int:
    if spec.data.dataset == "upload":
        from training.data.uploads import read_meta

        return int(read_meta(upload_root, spec.data.upload_id).get("n_samples", 0))
    return int(spec.data.n_samples or 0)
