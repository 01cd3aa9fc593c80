"""Network builder: layers from the spec, shape inference, parameter count, initialization.

The network is a :class:`Net`: a flat list of :class:`Unit` modules run in order. Each
unit has a ``name`` ("dense1", "conv2", "output" ...), its spec ``kind``, the module whose
weight it owns (``weight_module``: a Linear or Conv2d, or None) and the name of the
activation it applies (``activation``). Diagnostics hook the units; the output layer is
added automatically from the task and is the last unit.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import nn

from training.spec import InitSpec, Limits, Spec, SpecError

ACTIVATIONS = {
    "linear": nn.Identity,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "prelu": nn.PReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
}
# nonlinearity names understood by nn.init.calculate_gain
_GAIN_NAME = {"linear": "linear", "sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu",
              "leaky_relu": "leaky_relu", "prelu": "leaky_relu", "elu": "relu", "selu": "selu",
              "gelu": "relu"}


class Unit(nn.Module):
    def __init__(self, name: str, kind: str, body: nn.Module, activation: Optional[str] = None,
                 weight_module: Optional[nn.Module] = None):
        super().__init__()
        self.name, self.kind, self.activation = name, kind, activation
        self.body = body
        self.act = ACTIVATIONS[activation]() if activation else nn.Identity()
        # not registered as a submodule: it already lives inside ``body``
        object.__setattr__(self, "weight_module", weight_module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x))


class Net(nn.Module):
    def __init__(self, units: list[Unit]):
        super().__init__()
        self.units = nn.ModuleList(units)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for unit in self.units:
            x = unit(x)
        return x


def _init_weight(w: torch.Tensor, how: str, init: InitSpec, activation: Optional[str]) -> None:
    nl = _GAIN_NAME.get(activation or "linear", "linear")
    gain = init.gain if init.gain is not None else nn.init.calculate_gain(nl) if how in (
        "xavier_uniform", "xavier_normal", "orthogonal") and nl in ("tanh", "sigmoid") else (init.gain or 1.0)
    std = init.std if init.std is not None else 0.01
    if how == "zeros":
        nn.init.zeros_(w)
    elif how == "constant":
        nn.init.constant_(w, init.value if init.value is not None else 0.1)
    elif how == "normal":
        nn.init.normal_(w, 0.0, std)
    elif how == "uniform":
        nn.init.uniform_(w, -std, std)
    elif how == "xavier_uniform":
        nn.init.xavier_uniform_(w, gain=gain)
    elif how == "xavier_normal":
        nn.init.xavier_normal_(w, gain=gain)
    elif how in ("kaiming_uniform", "kaiming_normal"):
        fn = nn.init.kaiming_uniform_ if how == "kaiming_uniform" else nn.init.kaiming_normal_
        relu_like = nl in ("relu", "leaky_relu")
        fn(w, a=0.01 if nl == "leaky_relu" else 0, nonlinearity="leaky_relu" if relu_like else "linear")
        if not relu_like:
            w.mul_(math.sqrt(2.0))  # He's sqrt(2/fan_in) regardless of the activation that follows
    elif how == "lecun_normal":
        fan_in = nn.init._calculate_correct_fan(w, "fan_in")
        nn.init.normal_(w, 0.0, (init.gain or 1.0) / math.sqrt(fan_in))
    elif how == "orthogonal":
        nn.init.orthogonal_(w, gain=gain)
    elif how == "default":
        pass
    else:
        raise ValueError(f"unknown initialization {how!r}")


def initialize(module: nn.Module, init: InitSpec, activation: Optional[str]) -> None:
    with torch.no_grad():
        if init.weights and init.weights != "default":
            _init_weight(module.weight, init.weights, init, activation)
        if getattr(module, "bias", None) is not None and init.bias and init.bias != "default":
            b = init.bias
            if b == "zeros":
                nn.init.zeros_(module.bias)
            elif b == "constant":
                nn.init.constant_(module.bias, init.value if init.value is not None else 0.1)
            elif b in ("normal", "uniform"):
                _init_weight(module.bias, b, init, activation)
            else:  # fan-based schemes need a matrix; a bias is a vector
                nn.init.zeros_(module.bias)


def _merge(base: InitSpec, override: Optional[InitSpec]) -> InitSpec:
    if override is None:
        return base
    data = base.model_dump()
    data.update({k: v for k, v in override.model_dump().items() if v is not None})
    return InitSpec(**data)


def _flat(shape: tuple[int, ...]) -> int:
    return int(math.prod(shape))


def _build(layers, shape: tuple[int, ...], init: InitSpec, path: str, counter: dict,
           errors: list) -> tuple[list[Unit], tuple[int, ...]]:
    units: list[Unit] = []
    for i, layer in enumerate(layers):
        p = f"{path}/{i}"
        kind = layer.type
        counter[kind] = counter.get(kind, 0) + 1
        name = f"{kind}{counter[kind]}"
        linit = _merge(init, layer.init)
        if kind == "dense":
            lin = nn.Linear(_flat(shape), layer.units, bias=layer.bias)
            initialize(lin, linit, layer.activation)
            body = nn.Sequential(nn.Flatten(), lin) if len(shape) > 1 else lin
            units.append(Unit(name, kind, body, layer.activation, lin))
            shape = (layer.units,)
        elif kind == "dropout":
            units.append(Unit(name, kind, nn.Dropout(layer.p)))
        elif kind == "activation":
            units.append(Unit(name, kind, nn.Identity(), layer.fn))
        else:
            errors.append({"path": p, "message": f"layer type {kind!r} is not available yet"})
    return units, shape


def build_model(spec: Spec, input_shape: tuple[int, ...], out_dim: int) -> Net:
    """Build the network for one sample of ``input_shape``; raises SpecError on bad shapes."""
    errors: list = []
    units, shape = _build(spec.model.layers, tuple(input_shape), spec.model.init, "/model/layers", {}, errors)
    if errors:
        raise SpecError(errors)
    out = nn.Linear(_flat(shape), out_dim)
    initialize(out, _merge(spec.model.init, None), "linear")
    body = nn.Sequential(nn.Flatten(), out) if len(shape) > 1 else out
    units.append(Unit("output", "dense", body, None, out))
    return Net(units)


def summarize(spec: Spec, input_shape: tuple[int, ...], out_dim: int, limits: Optional[Limits] = None) -> dict:
    """Per-layer output shapes and parameter counts, checked against the limits."""
    limits = limits or Limits()
    with torch.device("meta"):
        net = build_model(spec, input_shape, out_dim)
    rows, x = [], torch.zeros((2, *input_shape), device="meta")
    net.eval()
    for unit in net.units:
        x = unit(x)
        rows.append({"name": unit.name, "output_shape": list(x.shape[1:]),
                     "params": sum(p.numel() for p in unit.parameters())})
    total = sum(r["params"] for r in rows)
    if total > limits.max_params:
        raise SpecError([{"path": "/model/layers",
                          "message": f"{total:,} parameters; at most {limits.max_params:,} are allowed"}])
    return {"params": total, "layers": rows}
