"""Loss landscapes (Li, Xu, Taylor, Studer, Goldstein, NeurIPS 2018) and sharpness.

Reference code: https://github.com/tomgoldstein/loss-landscape. We follow its defaults
(``--xnorm filter --xignore biasbn``): Gaussian random directions whose every output slice
(a conv filter, a dense row) is rescaled to the norm of the matching weight slice, and zero
directions for 1-D parameters (biases, normalization). 1-D surfaces run along a random
direction and along the line from the initial to the final weights; 2-D surfaces span two
random directions, or the two PCA directions of the training trajectory.

Where the reference sets the weights and runs the model once per grid point, we evaluate
a whole chunk of grid points at once: ``torch.func.vmap`` over ``functional_call`` with the
parameters stacked along the points (buffers shared). The first affine layer is linear in
its weights, and its input (the data) is fixed, so its output at ``w + a·d1 + b·d2`` is
``z(w) + a·z(d1) + b·z(d2)``: three products for the whole grid instead of one per point.

Sharpness at the end of training follows PyHessian (Yao et al. 2020): the top Hessian
eigenvalue by power iteration on Hessian-vector products, the trace by Hutchinson.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call, vmap

from training.numbers import finite_or_none

Params = dict[str, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
MAX_CHECKPOINTS = 200


# ---------------------------------------------------------------- parameters and directions


def params_of(net: nn.Module) -> Params:
    """The parameters by name, detached: views of the live weights, not copies."""
    return {k: v.detach() for k, v in net.named_parameters()}


def flatten(p: Params) -> torch.Tensor:
    return torch.cat([v.reshape(-1) for v in p.values()])


def unflatten(flat: torch.Tensor, like: Params) -> Params:
    out, i = {}, 0
    for k, v in like.items():
        out[k] = flat[i:i + v.numel()].view_as(v)
        i += v.numel()
    return out


def filter_normalize(d: torch.Tensor, w: torch.Tensor, ignore_1d: bool = True) -> torch.Tensor:
    """Rescale each output slice of ``d`` to the norm of the same slice of ``w``.

    1-D parameters (biases, normalization) get a zero direction when ``ignore_1d``, else
    the weights themselves (the reference's ``--xignore biasbn`` and its fallback).
    """
    if w.dim() <= 1:
        return torch.zeros_like(w) if ignore_1d else w.clone()
    dn = d.reshape(len(d), -1).norm(dim=1)
    wn = w.reshape(len(w), -1).norm(dim=1)
    scale = (wn / (dn + 1e-10)).reshape(-1, *([1] * (d.dim() - 1)))
    return d * scale


def random_directions(center: Params, seed: int, n: int = 2, ignore_1d: bool = True) -> list[Params]:
    """``n`` filter-normalized Gaussian directions; a CPU generator makes them device-independent."""
    gen = torch.Generator().manual_seed(seed)
    dirs = []
    for _ in range(n):
        d = {}
        for k, w in center.items():
            g = torch.randn(w.shape, generator=gen, dtype=torch.float32).to(w.device, w.dtype)
            d[k] = filter_normalize(g, w, ignore_1d)
        dirs.append(d)
    return dirs


def ignore_mask(center: Params) -> torch.Tensor:
    """Flat 0/1 mask that zeroes 1-D parameters, for PCA directions (the reference's ignore_biasbn)."""
    return torch.cat([torch.full((v.numel(),), float(v.dim() > 1), device=v.device) for v in center.values()])


# ---------------------------------------------------------------- vectorized evaluation


class _Tail(nn.Module):
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


def _find_stem(net: nn.Module) -> int | None:
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


def _act_bytes_per_sample(net: nn.Module, x1: torch.Tensor) -> int:
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


def default_budget(device: torch.device) -> int:
    """Bytes a chunk of grid points may use: small on the CPU (cache-friendly), a slice of a GPU."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(min(2 * 2**30, 0.25 * free))
    return 64 * 2**20


class LossSurface:
    """Evaluates ``loss(net with center + Σ c_i·d_i)`` for many coefficient rows at once.

    The net runs in eval mode (BatchNorm uses its running statistics, dropout is off);
    ``x, y`` are the fixed evaluation subset. Losses are means over samples, so a subset
    too large for the memory budget is split and the batch means weighted by size.
    """

    def __init__(self, net: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: LossFn,
                 budget_bytes: int | None = None, factorize: bool = True, max_chunk: int = 256):
        self.net, self.x, self.y, self.loss_fn = net, x, y, loss_fn
        self.budget = budget_bytes or default_budget(x.device)
        self.max_chunk = max_chunk
        was = net.training
        net.eval()
        try:
            self.act_bytes = _act_bytes_per_sample(net, x[:1])
            self.stem = _find_stem(net) if factorize else None
            if self.stem is not None:
                self._setup_stem()
        finally:
            net.train(was)
        self.buffers = dict(net.named_buffers())

    def _setup_stem(self) -> None:
        k, units = self.stem, self.net.units
        with torch.no_grad():
            h = self.x
            for unit in units[:k]:
                h = unit(h)
            self.h = h  # the stem's input: the data after parameter-free units (flatten, pool...)
            self.stem_mod = units[k].body
            self.stem_names = {f"units.{k}.body.{n}" for n, _ in self.stem_mod.named_parameters()}
            self.tail = _Tail(self.net, k)
            z1 = self.stem_mod(h[:1])
            self.z_numel = z1.numel()
            self.tail_act_bytes = _act_bytes_per_sample(self.tail, z1)  # what each point needs
            # self-check: if Unit's forward is not act(body(x)) the factorization is wrong; fall back
            ref = self.net(self.x[:8])
            got = self.tail(self.stem_mod(h[:8]))
            if ref.shape != got.shape or not torch.allclose(ref, got, rtol=1e-4, atol=1e-5):
                self.stem = None

    def _stem_out(self, p: Params, rows: slice) -> torch.Tensor:
        prefix = f"units.{self.stem}.body."
        sub = {n[len(prefix):]: v for n, v in p.items() if n.startswith(prefix)}
        return functional_call(self.stem_mod, sub, (self.h[rows],))

    @torch.no_grad()
    def evaluate(self, center: Params, dirs: list[Params], coeffs: torch.Tensor,
                 should_stop: Callable[[], bool] | None = None,
                 on_chunk: Callable[[int, torch.Tensor], None] | None = None) -> torch.Tensor | None:
        """Losses at ``center + coeffs @ dirs`` (one row of ``coeffs`` per point); None if stopped."""
        dev = self.x.device
        coeffs = coeffs.to(dev, torch.float32)
        moving = [k for k in center if any(d[k].any() for d in dirs)]
        shared = {k: v for k, v in center.items() if k not in moving}
        if self.stem is not None:
            moving = [k for k in moving if k not in self.stem_names]
        # 1. memory per point: its stacked parameters plus activations for a batch of samples
        p_bytes = sum(center[k].numel() * 4 for k in moving)
        act = 2 * (self.act_bytes if self.stem is None else self.tail_act_bytes)  # plus the loss's temporaries
        n = len(self.x)
        s = max(1, min(n, (self.budget - p_bytes) // act if self.budget > p_bytes else 1))
        k_pts = int(max(1, min(self.max_chunk, self.budget // (p_bytes + act * s))))
        was = self.net.training
        self.net.eval()
        out = torch.empty(len(coeffs), device=dev)
        try:
            # the stem's products for every sample batch, kept when they fit in the budget
            zs_cache = None
            if self.stem is not None and (1 + len(dirs)) * self.z_numel * 4 * n <= self.budget:
                zs_cache = {lo: self._stem_products(center, dirs, slice(lo, min(n, lo + s)))
                            for lo in range(0, n, s)}
            for start in range(0, len(coeffs), k_pts):
                if should_stop is not None and should_stop():
                    return None
                c = coeffs[start:start + k_pts]
                out[start:start + len(c)] = self._chunk(center, dirs, c, moving, shared, s, zs_cache)
                if on_chunk is not None:
                    on_chunk(start + len(c), out)
        finally:
            self.net.train(was)
        return out

    def _stem_products(self, center: Params, dirs: list[Params], rows: slice) -> torch.Tensor:
        return torch.stack([self._stem_out(center, rows)] + [self._stem_out(d, rows) for d in dirs])

    def _chunk(self, center, dirs, c, moving, shared, s, zs_cache) -> torch.Tensor:
        # 2. stack the moving parameters of the chunk's points: w + Σ c_i d_i
        stacked = {}
        for k in moving:
            w = center[k]
            view = (len(c),) + (1,) * w.dim()
            v = w.unsqueeze(0).expand(len(c), *w.shape).clone()
            for i, d in enumerate(dirs):
                v.add_(c[:, i].reshape(view) * d[k].unsqueeze(0))
            stacked[k] = v
        total = torch.zeros(len(c), device=c.device)
        n = len(self.x)
        for lo in range(0, n, s):
            rows = slice(lo, min(n, lo + s))
            y = self.y[rows]
            if self.stem is None:
                xb = self.x[rows]

                def one(p, _ci, xb=xb, y=y):
                    return self.loss_fn(functional_call(self.net, (p, shared, self.buffers), (xb,)), y)
                zs = None
            else:
                # 3. the stem's output at every point is a combination of 1 + len(dirs) products
                zs = zs_cache[lo] if zs_cache is not None else self._stem_products(center, dirs, rows)
                tail_shared = {"net." + k: v for k, v in shared.items() if k not in self.stem_names}
                tail_bufs = {"net." + k: v for k, v in self.buffers.items()}

                def one(p, ci, y=y, zs=zs, tail_shared=tail_shared, tail_bufs=tail_bufs):
                    z = zs[0] + torch.tensordot(ci, zs[1:], dims=1)
                    p = {"net." + k: v for k, v in p.items()}
                    return self.loss_fn(functional_call(self.tail, (p, tail_shared, tail_bufs), (z,)), y)
            losses = vmap(one, randomness="different")(stacked, c)
            total += losses * (rows.stop - rows.start)
        return total / n


@torch.no_grad()
def loop_surface(net: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: LossFn, center: Params,
                 dirs: list[Params], coeffs: torch.Tensor, batch_size: int = 128) -> torch.Tensor:
    """The reference's way, point by point: set the weights, evaluate in batches, restore."""
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


# ---------------------------------------------------------------- trajectory PCA


def pca_directions(checkpoints, final: torch.Tensor, mask: torch.Tensor | None = None):
    """Two principal directions of ``w_t - w_final`` and the path projected onto them.

    Like the reference (scikit-learn's PCA) the differences are centred before the
    decomposition, and the path is projected without centring, so the final point is the
    origin. ``checkpoints`` is a list of flat vectors (or a T×P tensor). The T×T Gram
    matrix of the centred differences is decomposed instead of the T×P matrix (same
    components, far cheaper when P is large), and it is formed from the uncentred one so
    that the only T×P copy is the differences themselves. Returns
    ``(d1, d2, explained variance ratios, xs, ys)``, or None when the path spans fewer
    than two dimensions.
    """
    diffs = torch.stack([c - final for c in checkpoints])
    if mask is not None:
        diffs.mul_(mask)
    t = len(diffs)
    mean = diffs.mean(0)
    dm = (diffs @ mean).double()
    # (D - 1mᵀ)(D - 1mᵀ)ᵀ = DDᵀ - (Dm)1ᵀ - 1(Dm)ᵀ + (mᵀm)11ᵀ
    gram = (diffs @ diffs.T).double() - dm.unsqueeze(1) - dm.unsqueeze(0) + (mean @ mean).double()
    evals, evecs = torch.linalg.eigh(gram)
    evals, evecs = evals.flip(0).clamp(min=0), evecs.flip(1)
    total = evals.sum()
    if t < 3 or total <= 0 or evals[1] <= 1e-6 * total:  # below float32 round-off: a line, not a plane
        return None
    u = evecs[:, :2].T.to(diffs.dtype)  # (2, T)
    comps = u @ diffs - u.sum(1, keepdim=True) * mean  # Uᵀ(D - 1mᵀ): each scaled by its singular value
    d1 = comps[0] / comps[0].norm()
    d2 = comps[1] - (comps[1] @ d1) * d1  # re-orthogonalize against round-off
    d2 = d2 / d2.norm()
    ratios = (evals[:2] / total).tolist()
    return d1, d2, ratios, (diffs @ d1).tolist(), (diffs @ d2).tolist()


def path_axis(values: list[float], resolution: int, pad: float = 0.15) -> torch.Tensor:
    """Grid coordinates covering ``values`` and 0, with 0 exactly on the grid."""
    lo, hi = min(min(values), 0.0), max(max(values), 0.0)
    margin = (hi - lo) * pad or 1.0
    lo, hi = lo - margin, hi + margin
    h = (hi - lo) / max(1, resolution - 2)
    first = math.floor(lo / h)
    return h * (torch.arange(resolution, dtype=torch.float64) + first)


# ---------------------------------------------------------------- sharpness (PyHessian)


def _hvp_setup(net, loss_fn, x, y, batch: int):
    """Hessian-vector products by double backward, averaged over sample batches.

    With a single batch the first-order graph is built once and kept for every product.
    """
    params = [p for p in net.parameters() if p.requires_grad]

    def first_order(xb, yb):
        loss = loss_fn(net(xb), yb)
        grads = torch.autograd.grad(loss, params, create_graph=True, allow_unused=True)
        return [(p, g) for p, g in zip(params, grads) if g is not None and g.requires_grad]

    cached = first_order(x, y) if len(x) <= batch else None

    def hvp(v: list[torch.Tensor]) -> list[torch.Tensor]:
        out = [torch.zeros_like(p) for p in params]
        index = {id(p): i for i, p in enumerate(params)}
        for lo in range(0, len(x), batch):
            pairs = cached if cached is not None else first_order(x[lo:lo + batch], y[lo:lo + batch])
            if not pairs:  # the loss is at most linear in the parameters: H = 0
                continue
            hv = torch.autograd.grad([g for _, g in pairs], [p for p, _ in pairs],
                                     grad_outputs=[v[index[id(p)]] for p, _ in pairs],
                                     retain_graph=cached is not None, allow_unused=True)
            w = min(batch, len(x) - lo) / len(x)
            for (p, _), h in zip(pairs, hv):
                if h is not None:
                    out[index[id(p)]].add_(h, alpha=w)
        return out
    return params, hvp


def _dot(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    return float(sum((x * y).sum() for x, y in zip(a, b)))


def sharpness(net: nn.Module, loss_fn: LossFn, x: torch.Tensor, y: torch.Tensor, iters: int = 20,
              trace_samples: int = 20, tol: float = 1e-3, seed: int = 0, batch: int = 4096) -> dict:
    """Top Hessian eigenvalue (power iteration) and trace (Hutchinson) of the loss on ``x, y``."""
    was = net.training
    net.eval()
    gen = torch.Generator().manual_seed(seed)
    try:
        with torch.enable_grad():
            params, hvp = _hvp_setup(net, loss_fn, x, y, batch)
            # 1. power iteration on a normalized iterate (PyHessian's eigenvalues())
            v = [torch.randn(p.shape, generator=gen).to(p) for p in params]
            norm = math.sqrt(_dot(v, v))
            v = [vi / norm for vi in v]
            eig, used = None, 0
            while used < iters:
                used += 1
                hv = hvp(v)
                new = _dot(hv, v)  # the Rayleigh quotient of the unit iterate
                norm = math.sqrt(_dot(hv, hv)) + 1e-12
                v = [h / norm for h in hv]
                converged = eig is not None and abs(new - eig) / (abs(eig) + 1e-6) < tol
                eig = new
                if converged:
                    break
            # 2. Hutchinson: E[vᵀHv] = tr(H) for Rademacher v
            samples = []
            for _ in range(trace_samples):
                r = [(torch.randint(0, 2, p.shape, generator=gen) * 2 - 1).to(p) for p in params]
                samples.append(_dot(hvp(r), r))
    finally:
        net.train(was)
    trace = sum(samples) / len(samples) if samples else None
    return {"top_eigenvalue": _finite(eig), "trace": _finite(trace), "power_iterations": used,
            "trace_samples": len(samples)}


# ---------------------------------------------------------------- events


def _finite(v) -> float | None:
    """Finite values rounded to 6 significant digits (surfaces are large), else None."""
    v = finite_or_none(v)
    return None if v is None else float(f"{v:.6g}")


def json_losses(t: torch.Tensor) -> list:
    """Losses as JSON-safe lists (6 significant digits; NaN and inf become null)."""
    values = t.tolist()
    if t.dim() == 1:
        return [_finite(v) for v in values]
    return [[_finite(v) for v in row] for row in values]


def log_scale_hint(t: torch.Tensor) -> bool:
    """Suggest a log colour scale when the finite losses span more than two decades."""
    f = t[torch.isfinite(t)]
    return bool(len(f) and f.min() > 0 and f.max() / f.min() > 100)



# ---------------------------------------------------------------- the trainer's hook


class Tracker:
    """Keeps checkpoints during training and computes the surfaces the spec asks for.

    The trainer calls ``on_step`` after every step, ``on_epoch`` at the end of every
    epoch and ``finish`` once after a successful run. Checkpoints are flat parameter
    vectors on the parameters' device; when there are more than fit in the budget (at most
    200) every other one is dropped and the saving stride doubles, so they stay evenly spread.
    """

    def __init__(self, net: nn.Module, spec, budget_bytes: int = 128 * 2**20):
        self.spec = spec
        n_params = sum(p.numel() for p in net.parameters())
        self.max_checkpoints = int(max(3, min(MAX_CHECKPOINTS, budget_bytes // max(1, 4 * n_params))))
        self.checkpoints: list[torch.Tensor] = []
        self.steps: list[int] = []
        self.stride, self.seen, self.epoch = 1, 0, 0
        self.w0 = flatten(params_of(net))
        self._done_for: torch.Tensor | None = None  # weights of the last surfaces drawn
        self._eval: tuple[torch.Tensor, torch.Tensor] | None = None
        self._save(net, 0)

    # -- checkpoints ---------------------------------------------------------

    def _save(self, net: nn.Module, step: int) -> None:
        if self.seen % self.stride == 0:
            self.checkpoints.append(flatten(params_of(net)))  # torch.cat copies
            self.steps.append(step)
            if len(self.checkpoints) > self.max_checkpoints:
                self.checkpoints, self.steps = self.checkpoints[::2], self.steps[::2]
                self.stride *= 2
        self.seen += 1

    def on_step(self, net: nn.Module, step: int) -> None:
        every = self.spec.checkpoint_every_steps
        if every and step % every == 0:
            self._save(net, step)

    def on_epoch(self, trainer, epoch: int) -> None:
        self.epoch = epoch
        if not self.spec.checkpoint_every_steps:
            self._save(trainer.net, trainer.step)
        if self.spec.when == "every" and epoch % self.spec.every_epochs == 0:
            self.compute(trainer)

    def finish(self, trainer) -> dict | None:
        final = flatten(params_of(trainer.net))
        drawn = self._done_for is not None and torch.equal(self._done_for, final)
        if not drawn and not self.compute(trainer, final=True):
            return None
        if not self.spec.sharpness or trainer.sink.should_stop():
            return None
        x, y = self._subset(trainer)
        # double backward keeps the graph: a few times the activations per sample
        batch = max(16, default_budget(x.device) // (6 * _act_bytes_per_sample(trainer.net, x[:1])))
        return {"sharpness": sharpness(trainer.net, trainer.eval_loss_fn, x, y, seed=self.spec.seed, batch=batch)}

    # -- surfaces ------------------------------------------------------------

    def _subset(self, trainer) -> tuple[torch.Tensor, torch.Tensor]:
        """The first ``eval_samples`` training samples after a seeded permutation, fixed for the run."""
        if self._eval is None:
            d = trainer.data
            gen = torch.Generator().manual_seed(self.spec.seed)
            idx = torch.randperm(len(d.x_train), generator=gen)[:self.spec.eval_samples].to(d.x_train.device)
            self._eval = d.x_train[idx], d.y_train[idx]
        return self._eval

    def compute(self, trainer, final: bool = False) -> bool:
        """Draw every surface the spec asks for and emit them; False when stopped midway."""
        s, net = self.spec, trainer.net
        x, y = self._subset(trainer)
        ev = LossSurface(net, x, y, trainer.eval_loss_fn)
        center = {k: v.clone() for k, v in params_of(net).items()}
        flat = flatten(center)
        center_loss = _plain_loss(net, trainer.eval_loss_fn, x, y)
        stop = trainer.sink.should_stop
        common = {"epoch": self.epoch, "step": trainer.step, "final": final, "seed": s.seed,
                  "eval_samples": len(x), "center_loss": _finite(center_loss)}
        res, res_y = s.resolution, s.resolution_y or s.resolution
        line = torch.linspace(-s.span, s.span, res, dtype=torch.float64)
        if s.mode == "1d":
            (d1,) = random_directions(center, s.seed, 1)
            loss = ev.evaluate(center, [d1], line.unsqueeze(1), stop)
            if loss is None:
                return False
            trainer.emit("landscape", surface="random1d", mode="1d", alphas=_coords(line), loss=json_losses(loss),
                         span=s.span, done=True, partial=False, log_scale_hint=log_scale_hint(loss), **common)
        else:
            dirs = random_directions(center, s.seed, 2)
            betas = torch.linspace(-s.span, s.span, res_y, dtype=torch.float64)
            if not self._grid(trainer, ev, "random", center, dirs, line, betas, common, span=s.span):
                return False
            if s.trajectory:
                ckpts = self.checkpoints if torch.equal(self.checkpoints[-1], flat) else self.checkpoints + [flat]
                steps = self.steps if len(ckpts) == len(self.checkpoints) else self.steps + [trainer.step]
                pca = pca_directions(ckpts, flat, ignore_mask(center))
                if pca is not None:
                    d1, d2, ratios, xs, ys = pca
                    extra = {"trajectory": {"x": _coords(xs), "y": _coords(ys), "steps": steps},
                             "explained_variance": [_finite(r) for r in ratios]}
                    pdirs = [unflatten(d1, center), unflatten(d2, center)]
                    if not self._grid(trainer, ev, "pca", center, pdirs, path_axis(xs, res),
                                      path_axis(ys, res_y), common, **extra):
                        return False
        if s.interpolation:
            alphas = torch.linspace(-0.5, 1.5, res, dtype=torch.float64)
            start = unflatten(self.w0, center)
            loss = ev.evaluate(start, [unflatten(flat - self.w0, center)], alphas.unsqueeze(1), stop)
            if loss is None:
                return False
            trainer.emit("landscape", surface="interpolation", mode="1d", alphas=_coords(alphas),
                         loss=json_losses(loss), done=True, partial=False, log_scale_hint=log_scale_hint(loss),
                         **common)
        self._done_for = flat
        return True

    def _grid(self, trainer, ev: LossSurface, name: str, center: Params, dirs: list[Params],
              alphas: torch.Tensor, betas: torch.Tensor, common: dict, **extra) -> bool:
        a, b = _coords(alphas), _coords(betas)
        ny = len(betas)

        def on_rows(row_start: int, rows: torch.Tensor) -> None:
            trainer.emit("landscape", surface=name, mode="2d", alphas=a, betas=b, loss=json_losses(rows),
                         row_start=row_start, partial=True, done=False,
                         progress=round((row_start + len(rows)) / ny, 4), epoch=common["epoch"], step=common["step"])

        grid = surface_2d(ev, center, dirs, alphas, betas, on_rows, trainer.sink.should_stop)
        if grid is None:
            return False
        trainer.emit("landscape", surface=name, mode="2d", alphas=a, betas=b, loss=json_losses(grid),
                     partial=False, done=True, log_scale_hint=log_scale_hint(grid), **common, **extra)
        return True


@torch.no_grad()
def _plain_loss(net: nn.Module, loss_fn: LossFn, x: torch.Tensor, y: torch.Tensor, chunk: int = 4096) -> float:
    """The model's own loss on ``x, y`` in eval mode: what the centre of every surface must show."""
    was = net.training
    net.eval()
    try:
        total = sum(loss_fn(net(x[i:i + chunk]), y[i:i + chunk]).item() * len(x[i:i + chunk])
                    for i in range(0, len(x), chunk))
    finally:
        net.train(was)
    return total / len(x)


def _coords(values) -> list:
    values = values.tolist() if isinstance(values, torch.Tensor) else values
    return [_finite(v) for v in values]
