"""Trained weights to take away and build on: safetensors files with the spec beside them.

Every finished run keeps ``final.safetensors`` (the weights when training ended) and, when
early stopping kept the best epoch's weights, ``best.safetensors``, in its artifacts folder
(``<media>/runs/<public_id>/`` in the web app). Tensors are stored under readable names,
``<layer>.<parameter>`` such as ``conv1.body.weight`` or ``batchnorm1.body.running_mean``,
in the network's own order; the metadata carries the spec (so the run can be rebuilt), the
format and that order (a standalone script matches tensors by position).

``model.init_from`` starts a new run from such a file: every tensor whose layer name and
shape match is copied in, the rest of the network keeps its usual initialization (a new
output layer, say). The engine resolves the file next to its own artifacts folder
(``<artifacts_dir>/../<run>/<which>.safetensors``); the web app checks at validation,
through a callable it passes in, that the file exists (:func:`check_init_from`).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Optional

import torch
from torch import nn

from training.spec import Spec, SpecError, dump

FORMAT = "descent-weights-1"
WHICH = ("final", "best")


def readable_state(net: nn.Module) -> dict[str, torch.Tensor]:
    """``net.state_dict()`` with each key's unit path replaced by the unit's name.

    ``units.3.body.units.0.body.weight`` becomes ``conv3.body.weight``: the part before the
    first dot is always a layer name of the summary ("dense1", "residual1", "output").
    """
    from training.model import Unit

    prefixes = {name: m.name for name, m in net.named_modules() if isinstance(m, Unit)}
    out: dict[str, torch.Tensor] = {}
    for key, value in net.state_dict().items():
        parts = key.split(".")
        for cut in range(len(parts) - 1, 0, -1):  # the deepest unit that holds the tensor
            head = ".".join(parts[:cut])
            if head in prefixes:
                out[prefixes[head] + "." + ".".join(parts[cut:])] = value
                break
        else:
            out[key] = value
    return out


def layer_of(key: str) -> str:
    return key.split(".", 1)[0]


def save(state: dict[str, torch.Tensor], path: Path, spec: Spec, **meta: object) -> Path:
    """Write ``state`` (readable names, in order) with the spec and ``meta`` as metadata."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}
    info = {"format": FORMAT, "spec": json.dumps(dump(spec)), "order": json.dumps(list(tensors)),
            **{k: json.dumps(v) for k, v in meta.items()}}
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata=info)
    tmp.replace(path)  # readers never see half a file
    return path


def read(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Tensors in their saved order, and the metadata (spec and values decoded)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        raw = f.metadata() or {}
        order = json.loads(raw.get("order", "null")) or list(f.keys())
        tensors = {k: f.get_tensor(k) for k in order}
    meta = {}
    for k, v in raw.items():
        try:
            meta[k] = json.loads(v)
        except ValueError:
            meta[k] = v
    return tensors, meta


def save_run(net: nn.Module, spec: Spec, artifacts_dir: Optional[Path], *, best_state: Optional[dict] = None,
             epoch: Optional[int] = None, best_epoch: Optional[int] = None) -> list[str]:
    """Keep a finished run's weights: ``final`` from ``net``; ``best`` from an early
    stopper's remembered state (a ``state_dict`` of the same net). Returns what was written."""
    if artifacts_dir is None:
        return []
    artifacts_dir = Path(artifacts_dir)
    save(readable_state(net), artifacts_dir / "final.safetensors", spec, which="final", epoch=epoch)
    written = ["final"]
    if best_state is not None:
        names = list(readable_state(net))  # same order as state_dict(): map the keys across
        state = dict(zip(names, best_state.values()))
        save(state, artifacts_dir / "best.safetensors", spec, which="best", epoch=best_epoch)
        written.append("best")
    return written


def source_file(artifacts_dir: Optional[Path], run: str, which: str) -> Optional[Path]:
    """Where the engine finds ``init_from``'s file: beside its own artifacts folder."""
    if artifacts_dir is None:
        return None
    return Path(artifacts_dir).parent / run / f"{which}.safetensors"


def load_matching(net: nn.Module, path: Path, exclude: tuple[str, ...] | list[str] = ()) -> dict:
    """Copy every saved tensor whose name and shape match into ``net``; returns what happened:
    ``{"loaded": [layer...], "skipped": {layer: reason}}``."""
    saved, _meta = read(path)
    current = readable_state(net)
    raw_keys = dict(zip(current, net.state_dict()))
    new_state = {}
    loaded: set[str] = set()
    skipped: dict[str, str] = {}
    for key, value in current.items():
        layer = layer_of(key)
        if layer in exclude:
            skipped[layer] = "excluded"
        elif key not in saved:
            skipped.setdefault(layer, "not in the saved weights")
        elif tuple(saved[key].shape) != tuple(value.shape):
            skipped.setdefault(layer, f"shape {list(saved[key].shape)} saved, {list(value.shape)} here")
        else:
            new_state[raw_keys[key]] = saved[key].to(value.dtype)
            loaded.add(layer)
            continue
    net.load_state_dict(new_state, strict=False)
    loaded -= set(skipped)  # a layer counts as loaded only when all of its tensors were
    return {"loaded": sorted(loaded), "skipped": skipped}


def init_from(net: nn.Module, spec: Spec, artifacts_dir: Optional[Path]) -> Optional[dict]:
    """Apply ``spec.model.init_from`` to a freshly built ``net`` (None when unset)."""
    src = spec.model.init_from
    if src is None:
        return None
    path = source_file(artifacts_dir, src.run, src.weights)
    if path is None or not path.is_file():
        raise FileNotFoundError(f"no {src.weights} weights of run {src.run!r} to start from")
    return load_matching(net, path, tuple(src.exclude))


def check_init_from(spec: Spec, resolve: Callable[[str, str], Optional[Path]]) -> None:
    """400-style errors for an ``init_from`` whose run or file does not exist.

    ``resolve(run, which)`` returns the file's path or None; the web app passes one that
    looks in its media folder, so this module knows nothing of Django.
    """
    src = spec.model.init_from
    if src is None:
        return
    path = resolve(src.run, src.weights)
    if path is None or not Path(path).is_file():
        what = "best weights (only runs that stopped early keep them)" if src.weights == "best" else "saved weights"
        raise SpecError([{"path": "/model/init_from/run", "message": f"run {src.run!r} has no {what}"}])


def rebuild(path: Path, upload_root: Optional[Path] = None) -> tuple[nn.Module, Spec, tuple[int, ...]]:
    """The network of a weights file, from the spec in its metadata, in eval mode."""
    from training.data import describe
    from training.model import build_model
    from training.spec import validate

    saved, meta = read(path)
    spec = validate(meta["spec"])
    info = describe(spec.data, upload_root)
    out_dim = info["n_classes"] if info["task"] == "classification" else 1
    with torch.random.fork_rng(devices=[]):  # building draws initial weights: leave the caller's RNG alone
        net = build_model(spec.model_copy(update={"model": spec.model.model_copy(update={"init_from": None})}),
                          tuple(info["input_shape"]), out_dim)
    keys = list(net.state_dict())
    if list(readable_state(net)) != list(saved):
        raise ValueError("the saved tensors do not match the network their spec builds")
    net.load_state_dict(dict(zip(keys, saved.values())))
    return net.eval(), spec, tuple(info["input_shape"])


class OnnxUnavailable(RuntimeError):
    """torch.onnx cannot export here (a missing optional package)."""


def export_onnx(path: Path, out: Path, upload_root: Optional[Path] = None) -> Path:
    """The trained network as ONNX (input ``x``: a batch of samples, output ``logits``)."""
    import warnings

    net, _spec, shape = rebuild(path, upload_root)
    example = torch.zeros((2, *shape))
    tmp = out.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")  # two requests may race
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
            # the TorchScript-based exporter needs only torch (dynamo=True would need onnxscript)
            torch.onnx.export(net, (example,), str(tmp), dynamo=False, input_names=["x"], output_names=["logits"],
                              dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17)
    except (ImportError, ModuleNotFoundError) as exc:
        raise OnnxUnavailable(f"ONNX export is not available on this server: {exc}") from None
    tmp.replace(out)
    return out
