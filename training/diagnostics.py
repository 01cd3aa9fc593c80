"""Per-layer gradient flow and activation statistics."""

from __future__ import annotations

import math

import torch


class Diagnostics:
    def __init__(self, net):
        self.net = net
        self.grads: dict[str, dict] = {}

    @torch.no_grad()
    def record_gradients(self, lr: float) -> None:
        for unit in self.net.units:
            m = unit.weight_module
            if m is None or m.weight.grad is None:
                continue
            g, w = m.weight.grad, m.weight
            self.grads[unit.name] = {
                "grad_norm": g.norm().item(), "grad_mean_abs": g.abs().mean().item(),
                "grad_max_abs": g.abs().max().item(), "weight_norm": w.norm().item(),
                "update_ratio": math.log10(max((lr * g).std().item(), 1e-30) / max(w.std().item(), 1e-30)),
            }

    @torch.no_grad()
    def collect(self, x: torch.Tensor) -> list[dict]:
        rows = []
        was = self.net.training
        self.net.eval()
        for unit in self.net.units:
            x = unit(x)
            if unit.weight_module is None:
                continue
            row = {"name": unit.name, **self.grads.get(unit.name, {})}
            row["act_mean"], row["act_std"] = x.mean().item(), x.std().item()
            flat = x.reshape(len(x), -1)
            row["dead_frac"] = (flat <= 0).all(0).float().mean().item() if unit.activation == "relu" else None
            row["saturated_frac"] = None
            rows.append(row)
        self.net.train(was)
        return rows
