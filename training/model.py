"""Network builder: layers from the spec, shape inference, parameter count, initialization.

The network is a :class:`Net`: a flat list of :class:`Unit` modules run in order. Each
unit has a readable ``name`` ("dense1", "conv2", "relu1", "output" ...), its spec
``kind``, the module whose weight it owns (``weight_module``: a Linear or Conv2d, or
None), the name of the activation it applies (``activation``), its JSON-pointer ``path``
in the spec and its ``out_shape`` (one sample). A residual unit's body is a
:class:`ResidualBlock` whose own ``units`` follow the same rules; ``Net.all_units()``
walks both levels. The output layer is added automatically from the task and is the
last unit, named "output".

Building happens in two passes so that a standalone script (``training.export``) can
reproduce the weights bit for bit: first every module is constructed in spec order
(PyTorch's constructors draw their default initialization from the global RNG), then
every initializer of :func:`init_plan` is applied in the same order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import nn

from training.droppath import drop_path
from training.spec import InitSpec, Limits, Spec, SpecError

ACTIVATIONS = {
    "linear": nn.Identity,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE),
    "prelu": nn.PReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
}
LEAKY_SLOPE = 0.01
WEIGHTLESS = ("maxpool2d", "avgpool2d", "flatten", "dropout", "activation", "batchnorm", "layernorm", "groupnorm")
PARAMETERLESS = ("maxpool2d", "avgpool2d", "flatten", "dropout")
BIAS_INITS = ("default", "zeros", "constant", "normal", "uniform")
DEFAULT_STD = 0.01  # "small random numbers" of normal/uniform when no std is given
DEFAULT_CONSTANT = 0.1


class GaussianDropout(nn.Module):
    """Multiplicative N(1, p/(1-p)) noise in training, identity in eval (Srivastava et al. 2014, §10).

    The variance p/(1-p) is that of Bernoulli dropout's rescaled mask, so both variants
    regularize alike while the mean of every activation is preserved.
    """

    def __init__(self, p: float):
        super().__init__()
        self.p = p
        self.std = math.sqrt(p / (1 - p))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        return x * (1 + self.std * torch.randn_like(x))

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Unit(nn.Module):
    def __init__(self, name: str, kind: str, body: nn.Module, activation: str | None = None,
                 weight_module: nn.Module | None = None, path: str | None = None,
                 out_shape: tuple[int, ...] = ()):
        super().__init__()
        self.name, self.kind, self.activation = name, kind, activation
        self.path, self.out_shape = path, tuple(out_shape)
        self.body = body
        self.act = ACTIVATIONS[activation]() if activation else nn.Identity()
        # not registered as a submodule: it already lives inside ``body``
        object.__setattr__(self, "weight_module", weight_module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x))


class ResidualBlock(nn.Module):
    """``units(x) + skip(x)``; the skip is the identity, or a projection when shapes differ.

    ``drop_path`` > 0: stochastic depth, the branch is skipped per sample in training
    (training/droppath.py).
    """

    def __init__(self, units: list[Unit], projection: nn.Module | None = None, drop_path: float = 0.0):
        super().__init__()
        self.units = nn.ModuleList(units)
        self.projection = projection
        self.drop_path = drop_path

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for unit in self.units:
            h = unit(h)
        if self.drop_path > 0:
            h = drop_path(h, self.drop_path, self.training)
        return h + (x if self.projection is None else self.projection(x))


class Net(nn.Module):
    def __init__(self, units: list[Unit]):
        super().__init__()
        self.units = nn.ModuleList(units)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for unit in self.units:
            x = unit(x)
        return x

    def all_units(self) -> Iterator[Unit]:
        """Every unit, depth first: a residual unit is followed by the units of its body."""
        def walk(units):
            for unit in units:
                yield unit
                if isinstance(unit.body, ResidualBlock):
                    yield from walk(unit.body.units)
        return walk(self.units)


# ---------------------------------------------------------------- initialization


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a Linear (out, in) or Conv2d (out, in, kh, kw) weight."""
    receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _default_gain(how: str, activation: str | None) -> float:
    if how.startswith("kaiming"):
        # He et al. 2015: Var(w) = 2 / fan_in, i.e. gain sqrt(2); 2 / (1 + a^2) for leaky ReLU
        slope = LEAKY_SLOPE if activation == "leaky_relu" else 0.0
        return math.sqrt(2.0 / (1 + slope ** 2))
    return 1.0  # Glorot, LeCun and orthogonal as their papers define them


def init_plan(shape: tuple[int, ...], how: str | None, init: InitSpec,
              activation: str | None = None) -> tuple[str, dict, str] | None:
    """How to initialize one tensor: ``(torch.nn.init function, kwargs, comment)`` or None.

    Every scheme reduces to one primitive with explicit numbers (a fan-based std or
    bound), so the same call can be written into an exported script.
    """
    if how is None or how == "default":
        return None
    std = init.std if init.std is not None else DEFAULT_STD
    if how == "zeros":
        return "zeros_", {}, "zeros"
    if how == "constant":
        return "constant_", {"val": init.value if init.value is not None else DEFAULT_CONSTANT}, "constant"
    if how == "normal":
        return "normal_", {"mean": 0.0, "std": std}, f"N(0, {std:g}^2)"
    if how == "uniform":
        return "uniform_", {"a": -std, "b": std}, f"U(-{std:g}, {std:g})"
    if len(shape) < 2:
        raise ValueError(f"{how} needs a weight matrix, not a vector")
    fan_in, fan_out = fans(shape)
    gain = init.gain if init.gain is not None else _default_gain(how, activation)
    if how == "orthogonal":
        return "orthogonal_", {"gain": gain}, "orthogonal (Saxe et al. 2014)"
    if how == "xavier_normal":
        s = gain * math.sqrt(2.0 / (fan_in + fan_out))
        return "normal_", {"mean": 0.0, "std": s}, f"Glorot normal, std = gain*sqrt(2/({fan_in}+{fan_out}))"
    if how == "xavier_uniform":
        b = gain * math.sqrt(6.0 / (fan_in + fan_out))
        return "uniform_", {"a": -b, "b": b}, f"Glorot uniform, bound = gain*sqrt(6/({fan_in}+{fan_out}))"
    if how == "kaiming_normal":
        return "normal_", {"mean": 0.0, "std": gain / math.sqrt(fan_in)}, f"He normal, std = gain/sqrt({fan_in})"
    if how == "kaiming_uniform":
        b = gain * math.sqrt(3.0 / fan_in)
        return "uniform_", {"a": -b, "b": b}, f"He uniform, bound = gain*sqrt(3/{fan_in})"
    if how == "lecun_normal":
        return "normal_", {"mean": 0.0, "std": gain / math.sqrt(fan_in)}, f"LeCun normal, std = gain/sqrt({fan_in})"
    raise ValueError(f"unknown initialization {how!r}")


def module_plans(module: nn.Module, init: InitSpec, activation: str | None) -> list[tuple[str, tuple]]:
    """``[(parameter name, plan)]`` for the weight and bias of one Linear or Conv2d."""
    out = []
    plan = init_plan(tuple(module.weight.shape), init.weights, init, activation)
    if plan is not None:
        out.append(("weight", plan))
    if module.bias is not None:
        plan = init_plan(tuple(module.bias.shape), init.bias, init, activation)
        if plan is not None:
            out.append(("bias", plan))
    return out


@torch.no_grad()
def apply_plans(module: nn.Module, plans: list[tuple[str, tuple]]) -> None:
    for pname, (fn, kwargs, _) in plans:
        getattr(nn.init, fn)(getattr(module, pname), **kwargs)


def _merge(base: InitSpec, override: InitSpec | None) -> InitSpec:
    if override is None:
        return base
    data = base.model_dump()
    data.update({k: v for k, v in override.model_dump().items() if v is not None})
    return InitSpec(**data)


# ---------------------------------------------------------------- building


def _fmt(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _same_pad(size: int, k: int, s: int) -> tuple[int, int]:
    """TensorFlow's "same": output ceil(size / stride), extra padding at the end."""
    total = max((math.ceil(size / s) - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class _Builder:
    """Turns spec layers into units, inferring shapes and collecting every error."""

    def __init__(self):
        self.counter: dict[str, int] = {}
        self.errors: list[dict] = []
        self.inits: list[tuple[nn.Module, list]] = []  # applied after construction, in order

    def name(self, prefix: str) -> str:
        self.counter[prefix] = self.counter.get(prefix, 0) + 1
        return f"{prefix}{self.counter[prefix]}"

    def error(self, path: str, message: str) -> None:
        self.errors.append({"path": path, "message": message})

    def weighted(self, module: nn.Module, init: InitSpec, activation: str | None, path: str) -> None:
        try:
            self.inits.append((module, module_plans(module, init, activation)))
        except ValueError as exc:
            self.error(path, str(exc))

    def build(self, layers, shape: tuple | None, init: InitSpec, path: str) -> tuple[list[Unit], tuple | None]:
        units: list[Unit] = []
        for i, layer in enumerate(layers):
            p = f"{path}/{i}"
            if layer.init is not None and layer.type in WEIGHTLESS:
                self.error(f"{p}/init", f"a {layer.type} layer has no weights to initialize")
            if layer.freeze and layer.type in PARAMETERLESS:
                self.error(f"{p}/freeze", f"a {layer.type} layer has no parameters to freeze")
            override = layer.init
            if override is not None and override.bias not in (None, *BIAS_INITS):
                self.error(f"{p}/init/bias", f"a bias is a vector: use one of {', '.join(BIAS_INITS)}")
                override = override.model_copy(update={"bias": None})
            if shape is None:  # an earlier layer failed; its output shape is unknown
                continue
            unit, shape = self.layer(layer, shape, _merge(init, override), p)
            if unit is not None:
                units.append(unit)
        return units, shape

    def layer(self, layer, shape: tuple, init: InitSpec, p: str) -> tuple[Unit | None, tuple | None]:
        kind = layer.type
        image = len(shape) == 3
        if kind == "dense":
            lin = nn.Linear(math.prod(shape), layer.units, bias=layer.bias)
            self.weighted(lin, init, layer.activation, f"{p}/init")
            body = nn.Sequential(nn.Flatten(), lin) if len(shape) > 1 else lin
            out = (layer.units,)
            return Unit(self.name("dense"), kind, body, layer.activation, lin, p, out), out
        if kind in ("conv2d", "maxpool2d", "avgpool2d") and not image:
            self.error(p, f"{kind} needs an image input (C, H, W); got {_fmt(shape)}")
            return None, None
        if kind == "conv2d":
            return self.conv(layer, shape, init, p)
        if kind in ("maxpool2d", "avgpool2d"):
            c, h, w = shape
            k, s = layer.kernel, layer.stride or layer.kernel
            if k > min(h, w):
                self.error(f"{p}/kernel", f"kernel {k} is larger than the {h}×{w} input")
                return None, None
            cls = nn.MaxPool2d if kind == "maxpool2d" else nn.AvgPool2d
            out = (c, (h - k) // s + 1, (w - k) // s + 1)
            return Unit(self.name(kind[:-2]), kind, cls(k, s), path=p, out_shape=out), out
        if kind == "flatten":
            out = (math.prod(shape),)
            return Unit(self.name("flatten"), kind, nn.Flatten(), path=p, out_shape=out), out
        if kind == "dropout":
            body = nn.Dropout(layer.p) if layer.variant == "bernoulli" else GaussianDropout(layer.p)
            return Unit(self.name("dropout"), kind, body, path=p, out_shape=shape), shape
        if kind == "activation":
            return Unit(self.name(layer.fn), kind, nn.Identity(), layer.fn, path=p, out_shape=shape), shape
        if kind in ("batchnorm", "layernorm", "groupnorm"):
            body = self.norm(layer, shape, p)
            if body is None:
                return None, shape
            return Unit(self.name(kind), kind, body, path=p, out_shape=shape), shape
        if kind == "residual":
            return self.residual(layer, shape, init, p)
        self.error(p, f"unknown layer type {kind!r}")
        return None, None

    def conv(self, layer, shape: tuple, init: InitSpec, p: str) -> tuple[Unit | None, tuple | None]:
        c, h, w = shape
        k, s = layer.kernel, layer.stride
        pad = layer.padding
        if pad == "same":
            (top, bottom), (left, right) = _same_pad(h, k, s), _same_pad(w, k, s)
        else:
            top = bottom = left = right = 0 if pad == "valid" else int(pad)
        if pad != "same" and k > min(h + top + bottom, w + left + right):
            self.error(f"{p}/kernel", f"kernel {k} is larger than the {h}×{w} input"
                       + (f" padded by {top}" if top else ""))
            return None, None
        symmetric = top == bottom and left == right
        conv = nn.Conv2d(c, layer.filters, k, s, padding=(top, left) if symmetric else 0, bias=layer.bias)
        self.weighted(conv, init, layer.activation, f"{p}/init")
        body = conv if symmetric else nn.Sequential(nn.ZeroPad2d((left, right, top, bottom)), conv)
        out = (layer.filters, (h + top + bottom - k) // s + 1, (w + left + right - k) // s + 1)
        return Unit(self.name("conv"), "conv2d", body, layer.activation, conv, p, out), out

    def norm(self, layer, shape: tuple, p: str) -> nn.Module | None:
        if len(shape) not in (1, 3):
            self.error(p, f"{layer.type} needs a vector (D,) or an image (C, H, W); got {_fmt(shape)}")
            return None
        c = shape[0]
        if layer.type == "batchnorm":
            return nn.BatchNorm1d(c) if len(shape) == 1 else nn.BatchNorm2d(c)
        if layer.type == "layernorm":
            # per sample over all features; on images over (C, H, W) with per-channel scale
            # and shift, which is GroupNorm with one group (Wu & He 2018, fig. 2)
            return nn.LayerNorm(c) if len(shape) == 1 else nn.GroupNorm(1, c)
        if c % layer.groups:
            self.error(f"{p}/groups", f"groups ({layer.groups}) must divide the {c} channels")
            return None
        return nn.GroupNorm(layer.groups, c)

    def residual(self, layer, shape: tuple, init: InitSpec, p: str) -> tuple[Unit | None, tuple | None]:
        name = self.name("residual")
        if not layer.layers:
            self.error(f"{p}/layers", "a residual needs at least one layer")
            return None, shape
        n_errors = len(self.errors)
        units, out = self.build(layer.layers, shape, init, f"{p}/layers")
        if out is None or len(self.errors) > n_errors:
            return None, out
        projection = None
        if out != shape:
            projection = self.projection(shape, out, p)
            if projection is None:
                return None, None
            self.weighted(projection if isinstance(projection, (nn.Linear, nn.Conv2d)) else projection[-1],
                          init, None, f"{p}/init")
        # no weight_module: the body's own units carry the weights (see Net.all_units)
        block = ResidualBlock(units, projection, getattr(layer, "drop_path", 0.0))
        return Unit(name, "residual", block, None, None, p, out), out

    def projection(self, shape: tuple, out: tuple, p: str) -> nn.Module | None:
        """A 1×1 convolution (image to image) or a linear map (to a vector) onto the body's shape."""
        if len(out) == 1:
            lin = nn.Linear(math.prod(shape), out[0])
            return nn.Sequential(nn.Flatten(), lin) if len(shape) > 1 else lin
        if len(shape) == 3 and len(out) == 3:
            for stride in range(1, max(shape[1:]) + 1):  # the stride that lands on the body's H×W
                if (shape[1] - 1) // stride + 1 == out[1] and (shape[2] - 1) // stride + 1 == out[2]:
                    return nn.Conv2d(shape[0], out[0], 1, stride)
        self.error(p, f"the residual body turns {_fmt(shape)} into {_fmt(out)}; "
                   "no 1×1 projection of the input can match it for the skip connection")
        return None


def _build(spec: Spec, input_shape: tuple[int, ...], out_dim: int) -> tuple[Net, list]:
    b = _Builder()
    init = spec.model.init
    if init.bias not in (None, *BIAS_INITS):
        b.error("/model/init/bias", f"a bias is a vector: use one of {', '.join(BIAS_INITS)}")
        init = init.model_copy(update={"bias": "zeros"})
    units, shape = b.build(spec.model.layers, tuple(input_shape), init, "/model/layers")
    if b.errors:
        raise SpecError(b.errors)
    out = nn.Linear(math.prod(shape), out_dim)
    b.weighted(out, init, "linear", "/model/init")
    body = nn.Sequential(nn.Flatten(), out) if len(shape) > 1 else out
    units.append(Unit("output", "dense", body, None, out, None, (out_dim,)))
    return Net(units), b.inits


def build_model(spec: Spec, input_shape: tuple[int, ...], out_dim: int) -> Net:
    """Build and initialize the network for one sample of ``input_shape``.

    Raises :class:`SpecError` listing every impossible shape with the layer's path.
    """
    net, inits = _build(spec, input_shape, out_dim)
    for module, plans in inits:
        apply_plans(module, plans)
    freeze(net, frozen_paths(spec.model.layers))
    return net


def frozen_paths(layers, path: str = "/model/layers", inherited: bool = False) -> set[str]:
    """Spec paths of the layers marked ``freeze`` (a frozen residual freezes its whole body)."""
    out: set[str] = set()
    for i, layer in enumerate(layers):
        p, frozen = f"{path}/{i}", inherited or layer.freeze
        if frozen:
            out.add(p)
        if layer.type == "residual":
            out |= frozen_paths(layer.layers, f"{p}/layers", frozen)
    return out


def freeze(net: Net, paths: set[str]) -> list[str]:
    """No gradient for the parameters of these layers (so the optimizer, weight decay and the
    penalties never touch them: see training.optim) and fixed batch-norm statistics."""
    names = []
    for unit in net.all_units():
        if unit.path not in paths:
            continue
        for p in unit.parameters():
            p.requires_grad_(False)
        for m in unit.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.momentum = 0.0  # running = (1 - 0) * running + 0 * batch: the statistics stay
        names.append(unit.name)
    return names


def summarize(spec: Spec, input_shape: tuple[int, ...], out_dim: int, limits: Limits | None = None) -> dict:
    """Per-layer output shapes and parameter counts before training, checked against the limits.

    ``layers`` lists every unit depth first (a residual's body follows it with ``depth``
    1); a residual's ``params`` include its body's, ``params`` at the top counts each once.
    """
    limits = limits or Limits()
    with torch.device("meta"):  # shapes and counts only: no memory, no initialization
        net, _ = _build(spec, input_shape, out_dim)

    rows = []

    def walk(units, depth):
        for unit in units:
            rows.append({"name": unit.name, "kind": unit.kind, "path": unit.path, "depth": depth,
                         "output_shape": list(unit.out_shape), "params": sum(p.numel() for p in unit.parameters())})
            if isinstance(unit.body, ResidualBlock):
                walk(unit.body.units, depth + 1)

    walk(net.units, 0)
    total = sum(p.numel() for p in net.parameters())
    if total > limits.max_params:
        raise SpecError([{"path": "/model/layers",
                          "message": f"{total:,} parameters; at most {limits.max_params:,} are allowed"}])
    return {"params": total, "input_shape": list(input_shape), "layers": rows}
