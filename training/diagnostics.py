"""Per-layer gradient flow and activation statistics (the "diagnostics" event).

For every unit that owns a weight (dense, conv, output):

- gradient flow, recorded right after ``backward`` on the last batch of an epoch:
  ``grad_norm grad_mean_abs grad_max_abs weight_norm`` and ``update_ratio``,
  log10(std(lr·grad) / std(w)), healthy near -3 (Karpathy, CS231n "Neural Networks 3",
  ratio of updates to weights);
- activations, measured at ``collect`` with forward hooks that exist only during that one
  evaluation pass (so diagnostics cost nothing while they are off): ``act_mean act_std``,
  ``dead_frac`` (ReLU units, per output feature or per conv channel, never positive over
  the evaluation set) and ``saturated_frac`` (tanh/sigmoid activations within 3 % of
  their range's ends: |a| > 0.97 for tanh, |2a - 1| > 0.97 for sigmoid);
- the weights' distribution, every diagnostics epoch: ``hist`` (counts in ``HIST_BINS``
  equal bins over ``hist_range``, fixed per layer for the whole run from the initial
  weights so that frames compare; weights outside it are counted in ``hist_out``
  [below, above]) and ``near_zero_frac``, the share of weights with |w| < 1e-3 (what L1
  drives up and L2 does not).

A weight unit with a linear activation followed by an ``activation`` layer (say
dense → batchnorm → relu) is measured where that activation is applied. Every statistic
is gathered on the device and read back with a single transfer.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import torch
from torch import nn

from training.numbers import finite_or_none

SATURATION = 0.97
GRAD_KEYS = ("grad_norm", "grad_mean_abs", "grad_max_abs", "weight_norm", "update_ratio")
ACT_KEYS = ("act_mean", "act_std", "dead_frac", "saturated_frac")
_LINEAR = (None, "linear")
HIST_BINS = 41  # odd: one bin is centred on zero
NEAR_ZERO = 1e-3


def hist_range(w: torch.Tensor) -> float:
    """Half-width of a layer's histogram: 1.5x the largest initial |w|, rounded up to 1, 2 or 5."""
    m = float(w.detach().abs().max()) * 1.5 if w.numel() else 0.0
    if not math.isfinite(m) or m <= 0:
        return 1.0
    p = 10 ** math.floor(math.log10(m))
    return next(k * p for k in (1, 2, 5, 10) if k * p >= m)


def _unit_lists(net: nn.Module):
    """The top-level unit list and the unit list of every residual body."""
    stack = [list(net.units)]
    while stack:
        units = stack.pop(0)
        yield units
        for u in units:
            inner = getattr(u.body, "units", None)
            if inner is not None:
                stack.append(list(inner))


def probes(net: nn.Module) -> list[tuple[nn.Module, nn.Module, str | None]]:
    """``(weight unit, unit whose output is measured, activation name)`` in network order."""
    out = []
    for units in _unit_lists(net):
        for i, unit in enumerate(units):
            if unit.weight_module is None:
                continue
            probe, act = unit, unit.activation
            if act in _LINEAR:
                for nxt in units[i + 1:]:
                    if nxt.weight_module is not None or getattr(nxt.body, "units", None) is not None:
                        break
                    if nxt.kind == "activation" and nxt.activation not in _LINEAR:
                        probe, act = nxt, nxt.activation
                        break
            out.append((unit, probe, act))
    order = {id(u): i for i, u in enumerate(net.modules())}
    return sorted(out, key=lambda t: order[id(t[0])])


def _act_stats(a: torch.Tensor, act: str | None, nan: torch.Tensor) -> torch.Tensor:
    """[mean, std, dead_frac, saturated_frac] as one tensor (``nan`` where not applicable)."""
    a = a.float()
    dead = sat = nan
    if act == "relu":
        # a unit is a feature (dense) or a channel (conv): max over samples and positions
        dims = [0, *range(2, a.dim())]
        dead = (a.amax(dims) <= 0).float().mean()
    elif act == "tanh":
        sat = (a.abs() > SATURATION).float().mean()
    elif act == "sigmoid":
        sat = ((a - 0.5).abs() > SATURATION / 2).float().mean()  # |2a - 1| > 0.97
    std, mean = torch.std_mean(a) if a.numel() > 1 else (nan, a.mean())
    return torch.stack([mean, std, dead, sat])



class Diagnostics:
    def __init__(self, net: nn.Module):
        self.net = net
        self.probes = probes(net)
        self.modules = list(net.modules())
        self.grads: dict[str, dict] = {}
        # bin edges fixed once, from the initial weights (frames of one run share them)
        self.ranges = {u.name: hist_range(u.weight_module.weight) for u, _, _ in self.probes}

    @torch.no_grad()
    def weight_histograms(self) -> dict[str, dict]:
        """Per weight unit: counts over the fixed range, the out-of-range counts, near-zero share."""
        out = {}
        stats = []
        for unit, _, _ in self.probes:
            w = unit.weight_module.weight.detach().float().reshape(-1)
            r = self.ranges[unit.name]
            counts = torch.histc(w, bins=HIST_BINS, min=-r, max=r)  # histc ignores values outside
            extra = torch.stack([(w < -r).sum(), (w > r).sum(), (w.abs() < NEAR_ZERO).sum()]).float()
            stats.append(torch.cat([counts, extra]))
        if not stats:
            return out
        for (unit, _, _), row in zip(self.probes, torch.stack(stats).cpu().tolist()):
            n = unit.weight_module.weight.numel()
            out[unit.name] = {"hist": [int(c) for c in row[:HIST_BINS]],
                              "hist_range": [-self.ranges[unit.name], self.ranges[unit.name]],
                              "hist_out": [int(row[HIST_BINS]), int(row[HIST_BINS + 1])],
                              "near_zero_frac": round(row[HIST_BINS + 2] / n, 6) if n else None}
        return out

    @torch.no_grad()
    def record_gradients(self, lr: float) -> None:
        """Gradient statistics of every weight, after ``backward`` and before the optimizer step.

        Every layer's sums come from one segmented reduction over the concatenated tensors
        (a handful of kernels however deep the net), in float64 so that the standard
        deviations taken from sums do not cancel.
        """
        units = [u for u, _, _ in self.probes if u.weight_module.weight.grad is not None]
        if not units:
            return
        weights = [u.weight_module.weight for u in units]
        g = torch.cat([w.grad.reshape(-1) for w in weights]).double()
        w = torch.cat([w.detach().reshape(-1) for w in weights]).double()
        lengths = torch.tensor([x.numel() for x in weights], device=g.device)
        ga = g.abs()
        sums = torch.stack([torch.segment_reduce(t, "sum", lengths=lengths) for t in (g * g, ga, g, w * w, w)]
                           + [torch.segment_reduce(ga, "max", lengths=lengths)])
        self.grads = {}
        for unit, n, (g2, g1, gsum, w2, wsum, gmax) in zip(units, lengths.tolist(), sums.T.cpu().tolist()):
            std_g = math.sqrt(max(0.0, g2 - gsum * gsum / n) / (n - 1)) if n > 1 else math.nan
            std_w = math.sqrt(max(0.0, w2 - wsum * wsum / n) / (n - 1)) if n > 1 else math.nan
            ratio = abs(lr) * std_g / std_w if std_w > 0 else math.nan
            values = (math.sqrt(g2), g1 / n, gmax, math.sqrt(w2), math.log10(ratio) if ratio > 0 else math.nan)
            self.grads[unit.name] = {k: finite_or_none(v) for k, v in zip(GRAD_KEYS, values)}

    @contextmanager
    def watching(self):
        """Activation hooks on while the caller runs one eval-mode forward pass.

        The trainer evaluates the validation split every epoch anyway: measuring
        activations during that pass saves a forward pass of its own.
        """
        self._stats: dict[int, torch.Tensor] = {}
        handles = []
        for i, (_, probe, act) in enumerate(self.probes):
            def hook(_m, _inp, out, i=i, act=act):
                self._stats[i] = _act_stats(out, act, torch.full((), math.nan, device=out.device))
            handles.append(probe.register_forward_hook(hook))
        try:
            yield self
        finally:
            for h in handles:
                h.remove()

    def rows(self) -> list[dict]:
        """A row per weight unit from the last watched pass and the recorded gradients."""
        stats = getattr(self, "_stats", {})
        keys = sorted(stats)
        values = torch.stack([stats[i] for i in keys]).cpu().tolist() if keys else []
        by_probe = dict(zip(keys, values))
        hists = self.weight_histograms()
        rows = []
        for i, (unit, _, _) in enumerate(self.probes):
            row = {"name": unit.name, **{k: None for k in GRAD_KEYS}, **self.grads.get(unit.name, {})}
            row.update({k: finite_or_none(v) for k, v in zip(ACT_KEYS, by_probe.get(i, [math.nan] * 4))})
            row.update(hists.get(unit.name, {}))
            rows.append(row)
        return rows

    @torch.no_grad()
    def collect(self, x: torch.Tensor) -> list[dict]:
        """One eval-mode pass over ``x`` with temporary hooks; a row per weight unit."""
        # eval mode flag by flag: Module.train() recurses and costs more than the forward pass here
        modes = [m.training for m in self.modules]
        for m in self.modules:
            m.training = False
        try:
            with self.watching():
                self.net(x)
        finally:
            for m, mode in zip(self.modules, modes):
                m.training = mode
        return self.rows()
