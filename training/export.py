"""A spec as a standalone PyTorch script (``GET /api/runs/<id>/export/script``).

The script imports torch and the standard library only. It embeds

1. the prepared splits (split, label-noised and normalized exactly as the engine
   prepared them, as base64 of zlib-compressed raw tensors: the generators need numpy);
2. the network as readable code, written module by module from the modules the engine
   builds for the spec (``_ModelWriter``), with every initializer call;
3. the engine's own code, copied with ``inspect.getsource`` (:data:`CORE`): batch edges,
   evaluation, losses and metrics, the LR schedule, the regularizers, the early stopper,
   Gaussian dropout and the residual block, and the loop of :mod:`training.standalone`.

Nothing of the training itself is transcribed, so the script and the engine cannot drift.
Run on the CPU with the same seed it reproduces the engine's per-epoch losses: it draws
from the RNGs in the engine's order (``torch.manual_seed``; module construction, then
every initializer; then a ``torch.Generator`` seeded alike for the batch order, one
``randperm`` per epoch; dropout noise from the global RNG during the forward passes).
``--weights run.safetensors`` starts from a run's saved weights (training.weights).

Augmentations are not exported: they draw from the batch-order generator, so a spec
with augmentations trains on the same data but in a different order.
"""

from __future__ import annotations

import base64
import inspect
import json
import textwrap
import zlib

import torch
from torch import nn

from training import droppath, loop, losses, model, optim, standalone, swa
from training.model import ACTIVATIONS, LEAKY_SLOPE, GaussianDropout, Net, ResidualBlock, Unit, _build, frozen_paths
from training.optim import fused_ok, optimizer_config
from training.spec import Spec, validate
from training.weights import readable_state

_ACT_CODE = {"sigmoid": "nn.Sigmoid()", "tanh": "nn.Tanh()", "relu": "nn.ReLU()",
             "leaky_relu": f"nn.LeakyReLU({LEAKY_SLOPE})", "prelu": "nn.PReLU()", "elu": "nn.ELU()",
             "selu": "nn.SELU()", "gelu": "nn.GELU()"}
assert set(_ACT_CODE) | {"linear"} == set(ACTIVATIONS)

# The engine code every script carries, in dependency order: (module, name). Constants are
# written as their values; functions and classes as their source.
CORE = [
    (loop, "EVAL_CHUNK"), (loop, "batch_edges"), (losses, "metrics"), (loop, "evaluate"),
    (losses, "REGRESSION"), (losses, "soft_targets"), (losses, "build_loss"),
    (optim, "GAMMA"), (optim, "ONECYCLE_PCT"), (optim, "_cos_anneal"), (optim, "LRSchedule"),
    (optim, "decayed_weights"), (optim, "Regularizer"), (optim, "EarlyStopper"),
    (model, "GaussianDropout"), (droppath, "drop_path"), (model, "ResidualBlock"), (swa, "SWA"),
    (standalone, "read_safetensors"), (standalone, "load_weights"), (standalone, "freeze"),
    (standalone, "train_script"), (standalone, "main"),
]

_ABOUT = """Rebuilds the prepared data (embedded), the network, optimizer, learning-rate schedule,
regularizers and training loop (the engine's own code). Run on the CPU it reproduces the
engine's per-epoch losses (same seed, same order of random draws).
"""

_IMPORTS = """from __future__ import annotations

import argparse
import base64
import json
import math
import zlib
from collections import OrderedDict
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel

"""

_TENSOR = '''def tensor(lines, dtype, shape):
    """A tensor embedded as base64 of its zlib-compressed raw bytes."""
    raw = zlib.decompress(base64.b64decode("".join(lines)))
    if not raw:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)


'''


def _constant(value) -> str:
    if isinstance(value, dict):  # e.g. losses.REGRESSION: names to torch functions
        items = ", ".join(f"{k!r}: {_constant(v)}" for k, v in value.items())
        return "{" + items + "}"
    if callable(value):
        mod = {"torch.nn.functional": "F"}.get(value.__module__, value.__module__)
        return f"{mod}.{value.__name__}"
    return repr(value)


def _optimizer_source(cls: str) -> str:
    """An optimizer of the engine's own (not in torch.optim, e.g. training/lamb.py's Lamb)."""
    if hasattr(torch.optim, cls):
        return ""
    import importlib

    obj = getattr(importlib.import_module(f"training.{cls.lower()}"), cls)
    return f"# training.{cls.lower()}.{cls}\n" + textwrap.dedent(inspect.getsource(obj)) + "\n\n"


def core_code(optimizer: str = "SGD") -> str:
    """The engine's code for the script: each entry of :data:`CORE` as its source."""
    parts = [_optimizer_source(optimizer)] if _optimizer_source(optimizer) else []
    for module, name in CORE:
        obj = getattr(module, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            parts.append(f"# {module.__name__}.{name}\n" + textwrap.dedent(inspect.getsource(obj)))
        else:
            parts.append(f"{name} = {_constant(obj)}  # {module.__name__}.{name}\n")
    return "\n\n".join(parts)


# ---------------------------------------------------------------- data


def _blob(t: torch.Tensor, name: str) -> str:
    t = t.detach().cpu().contiguous()
    text = base64.b64encode(zlib.compress(t.numpy().tobytes(), 9)).decode("ascii")
    lines = "\n".join(f'    "{text[i:i + 96]}"' for i in range(0, len(text), 96))
    return f"{name} = tensor((\n{lines}\n), torch.{str(t.dtype).split('.')[-1]}, {tuple(t.shape)})\n"


# ---------------------------------------------------------------- model


def _pair(v) -> str:
    v = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    return str(v[0]) if v[0] == v[1] else str(v)


def _leaf(m: nn.Module) -> str:
    if isinstance(m, nn.Linear):
        return f"nn.Linear({m.in_features}, {m.out_features}{'' if m.bias is not None else ', bias=False'})"
    if isinstance(m, nn.Conv2d):
        return (f"nn.Conv2d({m.in_channels}, {m.out_channels}, kernel_size={_pair(m.kernel_size)}, "
                f"stride={_pair(m.stride)}, padding={_pair(m.padding)}{'' if m.bias is not None else ', bias=False'})")
    if isinstance(m, nn.ZeroPad2d):
        return f"nn.ZeroPad2d({tuple(m.padding)})"
    if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
        return f"nn.{type(m).__name__}(kernel_size={_pair(m.kernel_size)}, stride={_pair(m.stride)})"
    if isinstance(m, nn.Flatten):
        return "nn.Flatten()"
    if isinstance(m, nn.Dropout):
        return f"nn.Dropout(p={m.p!r})"
    if isinstance(m, GaussianDropout):
        return f"GaussianDropout(p={m.p!r})"
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm)):
        size = m.num_features if not isinstance(m, nn.LayerNorm) else m.normalized_shape[0]
        return f"nn.{type(m).__name__}({size})"
    if isinstance(m, nn.GroupNorm):
        return f"nn.GroupNorm({m.num_groups}, {m.num_channels})"
    raise TypeError(f"cannot export {type(m).__name__}")


class _ModelWriter:
    """Writes units as ``nn.Sequential(OrderedDict(...))`` entries (a residual body as the
    engine's ``ResidualBlock`` over a list) and remembers where each weighted module lives
    (``model.dense1``, ``model.residual1.units[0]``) for the initializers."""

    def __init__(self):
        self.where: dict[int, str] = {}

    def entries(self, units, owner: str) -> list[tuple[str, str, str, object]]:
        """``(key, code, comment, module)`` per module, in the engine's order."""
        out = []
        for unit in units:
            out += self.unit(unit, owner)
        return out

    def unit(self, unit: Unit, owner: str) -> list[tuple[str, str, str, object]]:
        name, body, out = unit.name, unit.body, []
        comment = f"  # {unit.path}" if unit.path else "  # added for the task"
        if isinstance(body, ResidualBlock):
            here = f"{owner}.{name}.units"
            inner = self.entries(body.units, here)  # a nested residual's modules: fixed below
            lines = []
            for i, (key, code, note, mod) in enumerate(inner):
                if mod is not None:
                    self.where[id(mod)] = f"{here}[{i}]"
                if mod is None and code.startswith("ResidualBlock("):
                    nested = f"{here}.{key}"
                    for k, v in self.where.items():
                        if v.startswith(nested + "."):
                            self.where[k] = f"{here}[{i}]" + v[len(nested):]
                lines.append(f"{code},{note}")
            proj = "None"
            if body.projection is not None:
                p = body.projection
                if isinstance(p, nn.Sequential):
                    proj = f"nn.Sequential({', '.join(_leaf(m) for m in p)})"
                    self.where[id(p[-1])] = f"{owner}.{name}.projection[{len(p) - 1}]"
                else:
                    proj = _leaf(p)
                    self.where[id(p)] = f"{owner}.{name}.projection"
            drop = f", drop_path={body.drop_path!r}" if body.drop_path else ""
            code = ("ResidualBlock([\n" + "".join(f"    {line}\n" for line in lines) + f"], projection={proj}{drop})")
            out.append((name, code, comment, None))
        else:
            mods = list(body) if isinstance(body, nn.Sequential) else [body]
            for m in mods:
                if isinstance(m, nn.Identity):
                    continue
                is_main = m is unit.weight_module or len(mods) == 1
                key = name if is_main else f"{name}_{type(m).__name__.lower()}"
                out.append((key, _leaf(m), comment if is_main else "", m if m is unit.weight_module else None))
        if unit.activation and unit.activation != "linear":
            key = f"{name}_{unit.activation}" if unit.kind != "activation" else name
            out.append((key, _ACT_CODE[unit.activation], "", None))
        return out


def _model_code(net: Net, inits: list) -> str:
    w = _ModelWriter()
    entries = w.entries(net.units, "model")
    for key, _code, _note, mod in entries:
        if mod is not None:
            w.where[id(mod)] = f"model.{key}"
    lines = ["def build_model():", '    """The network, then its initializers, in the engine\'s order (same RNG draws)."""',
             "    model = nn.Sequential(OrderedDict(["]
    for key, code, note, _mod in entries:
        code = code.replace("\n", "\n        ")
        lines.append(f'        ("{key}", {code}),{note}')
    lines += ["    ]))", "    with torch.no_grad():"]
    n_init = 0
    for module, plans in inits:
        for pname, (fn, kwargs, note) in plans:
            args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
            lines.append(f"        nn.init.{fn}({w.where[id(module)]}.{pname}{', ' if args else ''}{args})  # {note}")
            n_init += 1
    if not n_init:
        lines.append("        pass  # PyTorch's default initialization everywhere")
    lines.append("    return model")
    return "\n".join(lines) + "\n"


def _config(spec: Spec, net: Net, data) -> str:
    """Every setting the loop reads, as one namespace (the schedule, regularization and
    early-stopping fields are the spec's own, read by the engine's classes)."""
    cls, opt_args = optimizer_config(spec.optimizer)
    if fused_ok(cls, "cpu"):
        opt_args["fused"] = True  # as the engine does: the same kernel gives the same numbers
    frozen = frozen_paths(spec.model.layers)
    frozen_ids = {id(p) for u in net.all_units() if u.path in frozen for p in u.parameters()}
    frozen_norm_ids = {id(m) for u in net.all_units() if u.path in frozen for m in u.modules()
                       if isinstance(m, nn.modules.batchnorm._BatchNorm)}
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    es = spec.regularization.early_stopping

    def ns(model) -> str:
        return "SimpleNamespace(**" + repr(model.model_dump(mode="json")) + ")"

    fields = {
        "seed": repr(spec.seed), "epochs": repr(spec.training.epochs), "batch_size": repr(spec.training.batch_size),
        "task": repr(data.task), "n_classes": repr(data.n_classes), "loss": repr(spec.loss),
        "optimizer": repr(cls), "optimizer_args": repr(opt_args),
        "schedule": ns(spec.schedule), "regularization": ns(spec.regularization),
        "early_stopping": ns(es) if es is not None else "None",
        "frozen_params": repr([i for i, p in enumerate(net.parameters()) if id(p) in frozen_ids]),
        "frozen_norms": repr([i for i, m in enumerate(norms) if id(m) in frozen_norm_ids]),
        # Descent's names of the tensors, in state_dict order, for --weights (training.weights)
        "state_names": repr(list(readable_state(net))),
        "init_exclude": repr(list(spec.model.init_from.exclude) if spec.model.init_from else []),
    }
    body = "".join(f"    {k}={v},\n" for k, v in fields.items())
    return f"CONFIG = SimpleNamespace(\n{body})\n"


# ---------------------------------------------------------------- the script


def export_script(spec: Spec | dict, data=None, upload_root=None) -> str:
    """The whole experiment as one standalone Python file (torch and the standard library).

    ``data`` is the run's :class:`training.data.DataBundle`; without it the data is
    prepared again from the spec (deterministic, so identical).
    """
    if not isinstance(spec, Spec):
        spec = validate(spec)
    if data is None:
        from training.data import load

        data = load(spec, upload_root)
    with torch.device("meta"):  # the same modules the engine builds, without memory or RNG
        net, inits = _build(spec, tuple(data.input_shape), data.out_dim)
    model_code = _model_code(net, inits)
    title = (spec.name or f"{spec.data.dataset} experiment").replace("\\", "/").replace('"', "'")
    notes = []
    if spec.augment:
        notes.append("Augmentations (" + ", ".join(a.type for a in spec.augment) + ") are not included, so the "
                     "batch order differs from the engine's run.")
    if spec.training.repeated_augment > 1:
        notes.append("Repeated augmentation needs the augmentations, so the script trains on each sample once a batch.")
    if spec.mode == "lr_finder":
        notes.append("The spec is an LR range test; this script trains with its settings instead.")
    if spec.model.init_from is not None:
        notes.append(f"The run started from the weights of run {spec.model.init_from.run}: download them "
                     "(GET /api/runs/<id>/export/weights) and pass --weights to start from them too.")
    doc = (f"{title}: a Descent experiment as a standalone PyTorch script.\n\n{_ABOUT}\n"
           f"    python {_filename(spec)} [--epochs N] [--weights run.safetensors] [--save out.pt]\n"
           + "".join(f"\n{n}\n" for n in notes))
    set_fields = spec.model_dump(mode="json", exclude_defaults=True)
    spec_lines = "\n".join("#   " + line for line in json.dumps(set_fields, indent=1).splitlines())
    names = ", ".join(data.feature_names[:8]) + (" ..." if len(data.feature_names) > 8 else "")
    parts = [
        f'"""{doc}"""\n',
        _IMPORTS,
        f"# The spec this was exported from (fields at their defaults left out):\n{spec_lines}\n\n",
        _config(spec, net, data) + "\n\n",
        _TENSOR,
        f"# The prepared splits: {names} (normalization: {spec.data.normalize}, fitted on the training split)\n",
    ]
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        parts.append(_blob(getattr(data, name), name.upper()))
    parts.append("DATA = SimpleNamespace(x_train=X_TRAIN, y_train=Y_TRAIN, x_val=X_VAL, y_val=Y_VAL, "
                 "x_test=X_TEST, y_test=Y_TEST)\n")
    engine_code = core_code(optimizer_config(spec.optimizer)[0])
    parts += ["\n\n# ---- the engine's code (training/*.py, copied by the exporter) ----\n\n", engine_code,
              "\n\n# ---- this experiment's network ----\n\n", model_code,
              '\n\nif __name__ == "__main__":\n    main(CONFIG, DATA, build_model, __doc__)\n']
    return "".join(parts)


def _filename(spec: Spec) -> str:
    base = "".join(c if c.isalnum() else "_" for c in (spec.name or spec.data.dataset).lower()).strip("_")
    return f"descent_{base or 'experiment'}.py"


def script_filename(spec: Spec | None) -> str:
    """A file name for the download's Content-Disposition."""
    return _filename(spec) if spec is not None else "descent_experiment.py"
