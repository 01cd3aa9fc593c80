"""Loss surfaces: ``loss(net with center + Σ c_i·d_i)`` at many points, vectorized or point by point.

The reference sets the weights and runs the model once per grid point. We evaluate a
whole chunk of points at once: ``torch.func.vmap`` over ``functional_call`` with the
parameters stacked along the points. The first affine layer (the "stem") is linear in
its weights and its input (the data) is fixed, so its output at ``w + a·d1 + b·d2`` is
``z(w) + a·z(d1) + b·z(d2)``: three products for the whole grid instead of one per point.

Floating-point buffers (batch-norm running statistics) may move too (``buffer_dirs``):
the init→final interpolation moves them with the weights, as the reference's ``states``
mode does. Where stacking does not pay (tiny models, convolutions vmap handles poorly)
the per-point path is faster; ``method="auto"`` times both on the first points (on the
CPU) and keeps the faster one for the rest of the grid. An MLP (dense units, dropout,
parameter-free activations) skips vmap: its stacked layers are one ``baddbmm`` each.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call, vmap

from training.landscape.directions import Params
from training.landscape.directions import params_of as params_of_net
from training.landscape.stem import Tail, act_bytes_per_sample, act_inplace, dense_tail, find_stem

__all__ = ["LossFn", "LossSurface", "act_bytes_per_sample", "default_budget", "grid_coeffs", "loop_surface", "surface_2d"]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
METHODS = ("auto", "vectorized", "loop")
CPU_SAMPLES = 512
LOOP_MARGIN = 0.8


def default_budget(device: torch.device) -> int:
    """Bytes a chunk of grid points may use: cache-sized on the CPU, a slice of a GPU.

    On the CPU a chunk that stays in the last-level cache runs faster than a bigger one
    (measured with bench/bench_landscape.py: 16 MiB beat 64 MiB by 2-3×).
    """
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(min(2 * 2**30, 0.25 * free))
    return 16 * 2**20


class LossSurface:
    """Evaluates ``loss(net with center + Σ c_i·d_i)`` for many coefficient rows.

    The net runs in eval mode (BatchNorm uses its running statistics, dropout is off);
    ``x, y`` are the fixed evaluation subset. Losses are means over samples, so a subset
    too large for the memory budget (bytes) is split and the batch means weighted by size.
    """

    def __init__(self, net: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: LossFn,
                 budget_bytes: int | None = None, factorize: bool = True, max_chunk: int = 256,
                 method: str = "auto"):
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}")
        self.net, self.x, self.y, self.loss_fn = net, x, y, loss_fn
        self.budget = budget_bytes or default_budget(x.device)
        self.max_chunk = max_chunk
        self.method = method
        self.chosen: str | None = None if method == "auto" else method
        if method == "auto" and x.device.type != "cpu":
            # a GPU runs stacked points in parallel, and its asynchronous kernels would
            # make the timing of the first points meaningless anyway
            self.chosen = "vectorized"
        self.timings: dict[str, float] = {}  # seconds per point measured by "auto"
        self._runs = {"loop": 0, "vectorized": 0}
        self.clock: Callable[[], float] = time.perf_counter
        was = net.training
        net.eval()
        try:
            self.act_bytes = act_bytes_per_sample(net, x[:1])
            self.stem = find_stem(net) if factorize else None
            if self.stem is not None:
                self._setup_stem()
        finally:
            net.train(was)
        self.buffers = dict(net.named_buffers())

    dense: list[tuple[str, nn.Module]] | None = None

    def _setup_stem(self) -> None:
        k, units = self.stem, self.net.units
        with torch.no_grad():
            h = self.x
            for unit in units[:k]:
                h = unit(h)
            self.h = h  # the stem's input: the data after parameter-free units (flatten, pool...)
            self.stem_mod = units[k].body
            self.stem_names = {f"units.{k}.body.{n}" for n, _ in self.stem_mod.named_parameters()}
            self.tail = Tail(self.net, k)
            z1 = self.stem_mod(h[:1])
            self.z_numel = z1.numel()
            self.tail_act_bytes = act_bytes_per_sample(self.tail, z1)  # what each point needs
            # self-check: if Unit's forward is not act(body(x)) the factorization is wrong; fall back
            ref = self.net(self.x[:8])
            got = self.tail(self.stem_mod(h[:8]))
            if ref.shape != got.shape or not torch.allclose(ref, got, rtol=1e-4, atol=1e-5):
                self.stem = None
                return
            self.dense = dense_tail(self.net, k)
            if self.dense is not None:
                p = params_of_net(self.net)
                z = self.stem_mod(h[:8]).unsqueeze(0)
                got = self._dense_logits(z, {}, p)
                if got.shape[1:] != ref.shape or not torch.allclose(ref, got[0], rtol=1e-4, atol=1e-5):
                    self.dense = None

    def _stem_out(self, p: Params, rows: slice) -> torch.Tensor:
        prefix = f"units.{self.stem}.body."
        sub = {n[len(prefix):]: v for n, v in p.items() if n.startswith(prefix)}
        return functional_call(self.stem_mod, sub, (self.h[rows],))

    def _stem_products(self, center: Params, dirs: list[Params], rows: slice) -> torch.Tensor:
        return torch.stack([self._stem_out(center, rows)] + [self._stem_out(d, rows) for d in dirs])

    # -- planning ---------------------------------------------------------------

    def _plan(self, center: Params, moving: list[str]) -> tuple[int, int]:
        """(samples per batch, points per chunk) within the memory budget.

        On a GPU the whole subset goes in one batch when it fits. On the CPU a batch of at
        most ``CPU_SAMPLES`` keeps several points per chunk inside the cache: 256-1024
        samples × 4-16 points ran 2-3× faster than 4,096 samples × 1 point on the bench MLP.
        """
        p_bytes = sum(center[k].numel() * center[k].element_size() for k in moving)
        act = 2 * (self.act_bytes if self.stem is None else self.tail_act_bytes)  # plus the loss's temporaries
        n = len(self.x)
        cap = n if self.x.device.type == "cuda" else min(n, CPU_SAMPLES)
        s = max(1, min(cap, (self.budget - p_bytes) // act if self.budget > p_bytes else 1))
        k_pts = int(max(1, min(self.max_chunk, self.budget // (p_bytes + act * s))))
        return int(s), k_pts

    # -- evaluation -------------------------------------------------------------

    @torch.no_grad()
    def evaluate(self, center: Params, dirs: list[Params], coeffs: torch.Tensor,
                 should_stop: Callable[[], bool] | None = None,
                 on_chunk: Callable[[int, torch.Tensor], None] | None = None,
                 buffers: Params | None = None, buffer_dirs: list[Params] | None = None) -> torch.Tensor | None:
        """Losses at ``center + coeffs @ dirs`` (one row of ``coeffs`` per point); None if stopped.

        ``buffers`` replaces the net's floating-point buffers at the origin and
        ``buffer_dirs`` (one per direction) moves them with the coefficients.
        """
        dev = self.x.device
        coeffs = coeffs.to(dev, torch.float32)
        bufs = {**self.buffers, **(buffers or {})}
        bdirs = buffer_dirs or [{} for _ in dirs]
        moving = [k for k in center if any(d[k].any() for d in dirs)]
        moving_bufs = [k for k in bufs if any(k in bd and bd[k].any() for bd in bdirs)]
        full_dirs = [{**d, **{k: bd.get(k, torch.zeros_like(bufs[k])) for k in moving_bufs}} for d, bd in zip(dirs, bdirs)]
        state = {"center": center, "dirs": dirs, "bufs": bufs, "bdirs": full_dirs, "moving_bufs": moving_bufs}
        vec_moving = [k for k in moving if self.stem is None or k not in self.stem_names]
        s, k_pts = self._plan(center, vec_moving)
        was = self.net.training
        self.net.eval()
        out = torch.empty(len(coeffs), device=dev)
        zs_cache: dict | None = None
        try:
            done = 0
            while done < len(coeffs):
                if should_stop is not None and should_stop():
                    return None
                method = self.chosen or ("loop" if self._runs["loop"] < 2 else "vectorized")
                end = min(len(coeffs), done + (1 if method == "loop" else k_pts))
                c = coeffs[done:end]
                if method == "vectorized" and zs_cache is None and self.stem is not None \
                        and (1 + len(dirs)) * self.z_numel * 4 * len(self.x) <= self.budget:
                    # the stem's products for every sample batch, kept when they fit in the budget
                    zs_cache = {lo: self._stem_products(center, dirs, slice(lo, min(len(self.x), lo + s)))
                                for lo in range(0, len(self.x), s)}
                t0 = self.clock()
                if method == "loop":
                    out[done:end] = self._loop_points(state, c, s)
                else:
                    out[done:end] = self._chunk(state, c, vec_moving, s, zs_cache)
                if self.chosen is None:
                    self._measure(method, (self.clock() - t0) / len(c))
                done = end
                if on_chunk is not None:
                    on_chunk(done, out)
        finally:
            self.net.train(was)
        return out

    def _measure(self, method: str, per_point: float) -> None:
        """``auto``: two points by the loop, then two chunks vectorized; the faster one does the rest.

        The first run of each warms up (allocations, first calls) and is not counted. The
        loop must be clearly faster (by ``LOOP_MARGIN``) to be kept: stacking wins on
        every model that is not tiny, and one timed point is a noisy measurement.
        """
        self._runs[method] += 1
        if self._runs[method] >= 2:
            self.timings[method] = per_point
        if len(self.timings) == 2:
            faster = self.timings["loop"] < LOOP_MARGIN * self.timings["vectorized"]
            self.chosen = "loop" if faster else "vectorized"

    def _loop_points(self, state: dict, c: torch.Tensor, s: int) -> torch.Tensor:
        """Point by point, as the reference does it (without touching the live weights)."""
        out = torch.empty(len(c), device=c.device)
        n = len(self.x)
        for j, cj in enumerate(c):
            p = {k: v.clone() for k, v in state["center"].items()}
            b = dict(state["bufs"])
            for i, d in enumerate(state["dirs"]):
                for k in p:
                    p[k].add_(d[k], alpha=float(cj[i]))
            for k in state["moving_bufs"]:
                b[k] = b[k] + sum(float(cj[i]) * bd[k] for i, bd in enumerate(state["bdirs"]))
            total = torch.zeros((), device=c.device)
            for lo in range(0, n, s):
                xb, yb = self.x[lo:lo + s], self.y[lo:lo + s]
                total += self.loss_fn(functional_call(self.net, (p, b), (xb,)), yb) * len(xb)
            out[j] = total / n
        return out

    def _dense_logits(self, z: torch.Tensor, stacked: Params, shared: Params) -> torch.Tensor:
        """The MLP tail on a (points, samples, features) stack: baddbmm per layer, activations in place."""
        h = act_inplace(self.net.units[self.stem].act, z)
        for prefix, act in self.dense:
            if prefix:
                w = stacked.get(prefix + "weight", shared.get(prefix + "weight"))
                b = stacked.get(prefix + "bias", shared.get(prefix + "bias"))
                if w.dim() == 3:  # (points, out, in)
                    bias = b.unsqueeze(-2) if b is not None and b.dim() == 2 else b
                    h = torch.bmm(h, w.transpose(1, 2)) if bias is None else torch.baddbmm(bias, h, w.transpose(1, 2))
                else:
                    h = torch.nn.functional.linear(h, w, b if b is None or b.dim() == 1 else None)
                    if b is not None and b.dim() == 2:
                        h += b.unsqueeze(-2)
            h = act_inplace(act, h)
        return h

    def _chunk(self, state: dict, c: torch.Tensor, moving: list[str], s: int, zs_cache: dict | None) -> torch.Tensor:
        center, dirs, bufs = state["center"], state["dirs"], state["bufs"]
        # 1. stack the moving parameters (and buffers) of the chunk's points: w + Σ c_i d_i
        stacked = {}
        for k in moving + state["moving_bufs"]:
            w = center[k] if k in center else bufs[k]
            ds = dirs if k in center else state["bdirs"]
            view = (len(c),) + (1,) * w.dim()
            v = w.unsqueeze(0).expand(len(c), *w.shape).clone()
            for i, d in enumerate(ds):
                v.add_(c[:, i].reshape(view) * d[k].unsqueeze(0))
            stacked[k] = v
        shared = {k: v for k, v in center.items() if k not in stacked}
        shared_bufs = {k: v for k, v in bufs.items() if k not in stacked}
        total = torch.zeros(len(c), device=c.device)
        n = len(self.x)
        for lo in range(0, n, s):
            rows = slice(lo, min(n, lo + s))
            y = self.y[rows]
            if self.stem is None:
                xb = self.x[rows]

                def one(p, _ci, xb=xb, y=y):
                    return self.loss_fn(functional_call(self.net, (p, shared, shared_bufs), (xb,)), y)
            elif self.dense is not None and not state["moving_bufs"]:
                # 2a. an MLP: every point's stem output in one addmm, then the stacked layers
                zs = zs_cache[lo] if zs_cache is not None else self._stem_products(center, dirs, rows)
                z = torch.addmm(zs[0].reshape(1, -1), c, zs[1:].reshape(len(zs) - 1, -1)).view(len(c), *zs.shape[1:])
                logits = self._dense_logits(z, stacked, shared)
                total += vmap(self.loss_fn, in_dims=(0, None))(logits, y) * (rows.stop - rows.start)
                continue
            else:
                # 2b. the stem's output at every point is a combination of 1 + len(dirs) products
                zs = zs_cache[lo] if zs_cache is not None else self._stem_products(center, dirs, rows)
                tail_shared = {"net." + k: v for k, v in shared.items() if k not in self.stem_names}
                tail_bufs = {"net." + k: v for k, v in shared_bufs.items()}

                def one(p, ci, y=y, zs=zs, tail_shared=tail_shared, tail_bufs=tail_bufs):
                    z = zs[0] + torch.tensordot(ci, zs[1:], dims=1)
                    p = {"net." + k: v for k, v in p.items()}
                    return self.loss_fn(functional_call(self.tail, (p, tail_shared, tail_bufs), (z,)), y)
            losses = vmap(one, randomness="different")(stacked, c)
            total += losses * (rows.stop - rows.start)
        return total / n

    @torch.no_grad()
    def loss_at(self, params: Params, buffers: Params | None = None) -> float:
        """The loss of one point given all its parameters (and optionally its float buffers)."""
        was = self.net.training
        self.net.eval()
        try:
            b = {**self.buffers, **(buffers or {})}
            s, _ = self._plan(params, [])
            total = sum(self.loss_fn(functional_call(self.net, (params, b), (self.x[lo:lo + s],)),
                                     self.y[lo:lo + s]).item() * len(self.x[lo:lo + s]) for lo in range(0, len(self.x), s))
        finally:
            self.net.train(was)
        return total / len(self.x)


@torch.no_grad()
def loop_surface(net: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: LossFn, center: Params,
                 dirs: list[Params], coeffs: torch.Tensor, batch_size: int = 128) -> torch.Tensor:
    """Descent's own per-point loop: set the weights, evaluate in batches, restore."""
    named = dict(net.named_parameters())
    saved = {k: v.detach().clone() for k, v in named.items()}
    center = {k: v.clone() for k, v in center.items()}  # it may be a view of the weights we overwrite
    was = net.training
    net.eval()
    out = torch.empty(len(coeffs))
    try:
        for j, c in enumerate(coeffs.tolist()):
            for k, p in named.items():
                w = center[k].clone()
                for ci, d in zip(c, dirs):
                    w.add_(d[k], alpha=ci)
                p.copy_(w)
            total = 0.0
            for lo in range(0, len(x), batch_size):
                xb, yb = x[lo:lo + batch_size], y[lo:lo + batch_size]
                total += loss_fn(net(xb), yb).item() * len(xb)
            out[j] = total / len(x)
    finally:
        for k, p in named.items():
            p.copy_(saved[k])
        net.train(was)
    return out


def grid_coeffs(alphas: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
    """Row-major grid points: row j holds (alpha_i, beta_j) for every i (rows follow betas)."""
    b, a = torch.meshgrid(betas, alphas, indexing="ij")
    return torch.stack([a.reshape(-1), b.reshape(-1)], 1)


def surface_2d(ev: LossSurface, center: Params, dirs: list[Params], alphas: torch.Tensor, betas: torch.Tensor,
               on_rows: Callable[[int, torch.Tensor], None] | None = None,
               should_stop: Callable[[], bool] | None = None) -> torch.Tensor | None:
    """The (len(betas), len(alphas)) grid; ``on_rows(row_start, rows)`` streams finished rows."""
    nx, ny = len(alphas), len(betas)
    sent = [0]

    def flush(done: int, out: torch.Tensor) -> None:
        full = done // nx
        if on_rows is not None and full > sent[0]:
            on_rows(sent[0], out[sent[0] * nx:full * nx].reshape(-1, nx))
        sent[0] = max(sent[0], full)

    flat = ev.evaluate(center, dirs, grid_coeffs(alphas, betas), should_stop, flush)
    return None if flat is None else flat.reshape(ny, nx)
