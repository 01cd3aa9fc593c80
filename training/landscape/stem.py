"""How a network splits for the stacked evaluation of many grid points.

The first affine layer (the "stem") is linear in its weights and sees only the fixed data,
so its output at ``w + a·d1 + b·d2`` is a combination of three products; what follows it
(the "tail") is evaluated on a stack of points, by vmap or, for an MLP, by batched
matrix products (``baddbmm``) without vmap.
"""

from __future__ import annotations

import torch
from torch import nn


class Tail(nn.Module):
    """The network from the activation of unit ``k`` onwards (the part after the factorized stem)."""

    def __init__(self, net: nn.Module, k: int):
        super().__init__()
        self.net, self.k = net, k

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.net.units[self.k].act(z)
        for unit in self.net.units[self.k + 1:]:
            x = unit(x)
        return x


def _has_state(m: nn.Module) -> bool:
    return any(True for _ in m.parameters()) or any(True for _ in m.buffers())


def find_stem(net: nn.Module) -> int | None:
    """Index of the first unit with parameters if its body is stateless modules then an affine layer.

    The units before it hold no parameters or buffers (flatten, pooling, dropout: all
    fixed maps of the data in eval mode), so its input is computed once.
    """
    units = getattr(net, "units", None)
    if units is None:
        return None
    for k, unit in enumerate(units):
        if not _has_state(unit):
            continue
        m = getattr(unit, "weight_module", None)
        body = getattr(unit, "body", None)
        if not isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d)) or body is None:
            return None
        mods = list(body) if isinstance(body, nn.Sequential) else [body]
        # modules before the affine layer (Flatten, ZeroPad2d) only reshape the fixed input
        if mods[-1] is not m or any(_has_state(x) for x in mods[:-1]):
            return None
        return k
    return None


# elementwise, parameter-free maps: they act on a (points, samples, features) stack as they do
# on (samples, features); dropout is the identity in eval mode
_ELEMENTWISE = (nn.Identity, nn.ReLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.ELU, nn.SELU, nn.GELU, nn.Dropout)


def _elementwise(m: nn.Module) -> bool:
    from training.model import GaussianDropout

    mods = list(m) if isinstance(m, nn.Sequential) else [m]
    return all(isinstance(x, (*_ELEMENTWISE, GaussianDropout)) and not _has_state(x) for x in mods)


def dense_tail(net: nn.Module, k: int) -> list[tuple[str, nn.Module]] | None:
    """The units after a dense stem as (Linear parameter prefix or "", activation) steps, or None.

    Only plain dense units, dropout and parameter-free activations qualify (an MLP): their
    stacked evaluation is a chain of ``baddbmm`` and in-place activations, without vmap.
    """
    units = net.units
    if not isinstance(units[k].body, nn.Linear) or not _elementwise(units[k].act):
        return None
    steps: list[tuple[str, nn.Module]] = []
    for j in range(k + 1, len(units)):
        u = units[j]
        if isinstance(u.body, nn.Linear) and u.weight_module is u.body and _elementwise(u.act):
            steps.append((f"units.{j}.body.", u.act))
        elif _elementwise(u.body) and _elementwise(u.act):
            steps.append(("", nn.Sequential(u.body, u.act)))
        else:
            return None
    return steps


def act_inplace(m: nn.Module, h: torch.Tensor) -> torch.Tensor:
    if isinstance(m, nn.ReLU):
        return h.relu_()  # in place: the stack is the chunk's biggest tensor
    return m(h)


def act_bytes_per_sample(net: nn.Module, x1: torch.Tensor) -> int:
    """Bytes of every module output for one sample (in eval mode: BatchNorm takes a batch of 1)."""
    total = [x1.numel() * x1.element_size()]
    modes = [(m, m.training) for m in net.modules()]
    net.eval()

    def hook(_m, _i, out):
        if isinstance(out, torch.Tensor):
            total[0] += out.numel() * out.element_size()

    handles = [m.register_forward_hook(hook) for m in net.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            net(x1)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            m.training = mode
    return total[0]
