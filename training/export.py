"""A spec as a standalone PyTorch script (``GET /api/runs/<id>/export/script``).

The script imports torch and the standard library only. It embeds the prepared splits
(split, label-noised and normalized exactly as the engine prepared them, as base64 of
zlib-compressed raw tensors) because the generators need numpy, then rebuilds the model
as readable code, the optimizer, the schedule, the regularizers and the loop. Run on the
CPU with the same seed it reproduces the engine's per-epoch losses: it draws from the
RNGs in the engine's order (``torch.manual_seed``; module construction, then every
initializer; then a ``torch.Generator`` seeded alike for the batch order, one
``randperm`` per epoch; dropout noise from the global RNG during the forward passes).

Augmentations are not exported: they draw from the batch-order generator, so a spec
with augmentations trains on the same data but in a different order.
"""

from __future__ import annotations

import base64
import json
import zlib

import torch
from torch import nn

from training.model import ACTIVATIONS, LEAKY_SLOPE, GaussianDropout, Net, ResidualBlock, Unit, _build
from training.optim import GAMMA, ONECYCLE_PCT, fused_ok, optimizer_config
from training.spec import Spec, validate

_ACT_CODE = {"sigmoid": "nn.Sigmoid()", "tanh": "nn.Tanh()", "relu": "nn.ReLU()",
             "leaky_relu": f"nn.LeakyReLU({LEAKY_SLOPE})", "prelu": "nn.PReLU()", "elu": "nn.ELU()",
             "selu": "nn.SELU()", "gelu": "nn.GELU()"}
assert set(_ACT_CODE) | {"linear"} == set(ACTIVATIONS)

_GAUSSIAN_DROPOUT = '''
class GaussianDropout(nn.Module):
    """Multiplicative N(1, p/(1-p)) noise in training, identity in eval (Srivastava et al. 2014)."""

    def __init__(self, p):
        super().__init__()
        self.p, self.std = p, math.sqrt(p / (1 - p))

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        return x * (1 + self.std * torch.randn_like(x))
'''

_RESIDUAL = '''
class Residual(nn.Module):
    """body(x) + x, or body(x) + projection(x) when the body changes the shape."""

    def __init__(self, body, projection=None):
        super().__init__()
        self.body, self.projection = body, projection

    def forward(self, x):
        return self.body(x) + (x if self.projection is None else self.projection(x))
'''


_ABOUT = """Rebuilds the prepared data (embedded), the network, optimizer, learning-rate schedule,
regularizers and training loop. Run on the CPU it reproduces the engine's per-epoch
losses (same seed, same order of random draws).
"""

_IMPORTS = """import argparse
import base64
import math
import zlib
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

"""

_TENSOR = '''def tensor(lines, dtype, shape):
    """A tensor embedded as base64 of its zlib-compressed raw bytes."""
    raw = zlib.decompress(base64.b64decode("".join(lines)))
    if not raw:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)


'''


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
    """Writes units as ``nn.Sequential(OrderedDict(...))`` entries and remembers where each
    weighted module lives (``model.dense1``) for the initializers."""

    def __init__(self):
        self.where: dict[int, str] = {}
        self.uses: set[str] = set()

    def entries(self, units, owner: str, indent: str) -> list[str]:
        out = []
        for unit in units:
            out += self.unit(unit, owner, indent)
        return out

    def unit(self, unit: Unit, owner: str, indent: str) -> list[str]:
        name, body, out = unit.name, unit.body, []
        comment = f"  # {unit.path}" if unit.path else "  # added for the task"
        if isinstance(body, ResidualBlock):
            self.uses.add("residual")
            inner = self.entries(body.units, f"{owner}.{name}.body", indent + "    ")
            proj = "None"
            if body.projection is not None:
                p = body.projection
                if isinstance(p, nn.Sequential):
                    proj = f"nn.Sequential({', '.join(_leaf(m) for m in p)})"
                    self.where[id(p[-1])] = f"{owner}.{name}.projection[{len(p) - 1}]"
                else:
                    proj = _leaf(p)
                    self.where[id(p)] = f"{owner}.{name}.projection"
            out.append(f'{indent}("{name}", Residual(nn.Sequential(OrderedDict([{comment}\n'
                       + "".join(line + "\n" for line in inner)
                       + f"{indent}])), projection={proj})),")
        else:
            mods = list(body) if isinstance(body, nn.Sequential) else [body]
            for m in mods:
                if isinstance(m, nn.Identity):
                    continue
                if isinstance(m, GaussianDropout):
                    self.uses.add("gaussian_dropout")
                is_main = m is unit.weight_module or len(mods) == 1
                key = name if is_main else f"{name}_{type(m).__name__.lower()}"
                if m is unit.weight_module:
                    self.where[id(m)] = f"{owner}.{key}"
                out.append(f'{indent}("{key}", {_leaf(m)}),' + (comment if is_main else ""))
        if unit.activation and unit.activation != "linear":
            key = f"{name}_{unit.activation}" if unit.kind != "activation" else name
            out.append(f'{indent}("{key}", {_ACT_CODE[unit.activation]}),')
        return out


def _model_code(net: Net, inits: list) -> tuple[str, set]:
    w = _ModelWriter()
    entries = w.entries(net.units, "model", "        ")
    lines = ["def build_model():", '    """The network, then its initializers, in the engine\'s order (same RNG draws)."""',
             "    model = nn.Sequential(OrderedDict(["]
    lines += entries
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
    return "\n".join(lines) + "\n", w.uses


# ---------------------------------------------------------------- loss, schedule, loop


def _loss_code(spec: Spec, task: str) -> str:
    name = spec.loss or ("cross_entropy" if task == "classification" else "mse")
    fn = {"mse": "F.mse_loss", "mae": "F.l1_loss", "huber": "F.huber_loss"}.get(name)
    head = ["def loss_fn(logits, y, smoothing=0.0):", f'    """{name} (label smoothing in training only)."""']
    if task == "regression":
        return "\n".join(head + [f"    return {fn}(logits, y)"]) + "\n"
    soft = ["    target = F.one_hot(y, N_CLASSES).float()"]
    if name == "cross_entropy":
        body = ["    return F.cross_entropy(logits, y, label_smoothing=smoothing)"]
    elif name == "bce":  # one sigmoid per class; smoothing towards 1/2
        body = soft + ["    return F.binary_cross_entropy_with_logits(logits, target * (1 - smoothing) + smoothing / 2)"]
    else:  # softmax probabilities against one-hot targets
        body = soft + ["    if smoothing:", "        target = target * (1 - smoothing) + smoothing / N_CLASSES",
                       f"    return {fn}(F.softmax(logits, 1), target)"]
    return "\n".join(head + body) + "\n"


_SCHEDULE_BODY = {
    "constant": ["return BASE_LR"],
    "step": ["return max(MIN_LR, BASE_LR * GAMMA ** (step // (STEP_SIZE * self.spe)))"],
    "multistep": ["passed = sum(step >= m * self.spe for m in MILESTONES)",
                  "return max(MIN_LR, BASE_LR * GAMMA ** passed)"],
    "exponential": ["return max(MIN_LR, BASE_LR * GAMMA ** (step / self.spe))  # continuous per step"],
    "cosine": ["t, span = step - self.warmup, max(1, self.total - self.warmup)",
               "return MIN_LR + (BASE_LR - MIN_LR) * 0.5 * (1 + math.cos(math.pi * min(t, span) / span))"],
    "cyclic": ["x = (step - self.warmup) / (STEP_SIZE * self.spe)  # triangular, half-cycle STEP_SIZE epochs",
               "return BASE_LR + (MAX_LR - BASE_LR) * max(0.0, 1 - abs(x % 2 - 1))"],
    "onecycle": ["t, span = step - self.warmup, max(1, self.total - self.warmup)",
                 "up = ONECYCLE_PCT * span - 1  # cosine up to MAX_LR, then down to MIN_LR (torch's OneCycleLR)",
                 "if t <= up:",
                 "    return cos_anneal(BASE_LR, MAX_LR, t / up if up > 0 else 1.0)",
                 "return cos_anneal(MAX_LR, MIN_LR, min(1.0, (t - up) / max(span - 1 - up, 1e-12)))"],
    "plateau": ["return max(MIN_LR, BASE_LR * self.scale)"],
}


def _schedule_code(spec: Spec) -> str:
    s = spec.schedule
    consts = {"BASE_LR": spec.optimizer.lr, "WARMUP_EPOCHS": s.warmup_epochs, "MIN_LR": s.min_lr}
    if s.name in GAMMA:
        consts["GAMMA"] = s.gamma if s.gamma is not None else GAMMA[s.name]
    if s.name in ("step", "cyclic"):
        consts["STEP_SIZE"] = s.step_size
    if s.name == "multistep":
        consts["MILESTONES"] = list(s.milestones)
    if s.name in ("cyclic", "onecycle"):
        consts["MAX_LR"] = s.max_lr if s.max_lr is not None else 10 * spec.optimizer.lr
    if s.name == "onecycle":
        consts["ONECYCLE_PCT"] = ONECYCLE_PCT
    if s.name == "plateau":
        consts["PATIENCE"] = s.patience
    lines = [f"{k} = {v!r}" for k, v in consts.items()] + ["", ""]
    if s.name == "onecycle":
        lines += ["def cos_anneal(start, end, pct):", "    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)",
                  "", ""]
    lines += [
        "class Schedule:",
        f'    """{s.name} learning rate as a function of the global step, after a linear warm-up."""',
        "",
        "    def __init__(self, steps_per_epoch):",
        "        self.spe = steps_per_epoch",
        "        self.total = steps_per_epoch * EPOCHS",
        "        self.warmup = min(round(WARMUP_EPOCHS * self.spe), max(0, self.total - 1))",
        "        self.scale, self.best, self.bad_epochs = 1.0, None, 0",
        "",
        "    def lr_at(self, step):",
        "        if step < self.warmup:  # rises linearly to the lr the schedule has at its end",
        "            return self.after_warmup(self.warmup) * (step + 1) / self.warmup",
        "        return self.after_warmup(step)",
        "",
        "    def after_warmup(self, step):",
    ]
    lines += [f"        {line}" for line in _SCHEDULE_BODY[s.name]]
    lines += ["", "    def epoch_end(self, val_loss):"]
    if s.name == "plateau":
        lines += ["        # multiply by GAMMA once more than PATIENCE epochs pass without a new best",
                  "        if self.best is None or val_loss < self.best:",
                  "            self.best, self.bad_epochs = val_loss, 0",
                  "            return",
                  "        self.bad_epochs += 1",
                  "        if self.bad_epochs > PATIENCE:",
                  "            self.scale *= GAMMA",
                  "            self.bad_epochs = 0"]
    else:
        lines.append("        pass")
    return "\n".join(lines) + "\n"


def _loop_code(spec: Spec, task: str, has_val: bool) -> str:
    r = spec.regularization
    cls, cfg = optimizer_config(spec.optimizer)
    if fused_ok(cls, "cpu"):
        cfg["fused"] = True  # as the engine does: the same kernel gives the same numbers
    opt_args = ", ".join(f"{k}={v!r}" for k, v in cfg.items())
    es = r.early_stopping
    L = ["def evaluate(model, x, y):",
         '    """Loss (no smoothing) and metric over a whole split, in eval mode."""',
         "    model.eval()",
         "    with torch.no_grad():",
         "        logits = torch.cat([model(x[i:i + 8192]) for i in range(0, len(x), 8192)])",
         "    model.train()",
         "    loss = loss_fn(logits, y).item()"]
    if task == "classification":
        L += ["    return loss, (logits.argmax(1) == y).float().mean().item()"]
    else:
        L += ["    return loss, 1 - ((logits - y) ** 2).mean().item() / max(y.var(unbiased=False).item(), 1e-30)"]
    metric = "acc" if task == "classification" else "r2"
    L += ["", "", "def main():",
          "    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])",
          '    parser.add_argument("--epochs", type=int, default=EPOCHS, help="stop early (the schedule keeps EPOCHS)")',
          "    args = parser.parse_args()",
          "    # 1. the engine's RNG order: global seed, model and initializers, then the batch-order generator",
          "    torch.manual_seed(SEED)",
          "    model = build_model()",
          "    gen = torch.Generator().manual_seed(SEED)",
          f"    optimizer = torch.optim.{cls}(model.parameters(), {opt_args})",
          "    n = len(X_TRAIN)",
          "    bs = min(BATCH_SIZE, n)",
          "    schedule = Schedule(math.ceil(n / bs) - (1 if bs > 1 and n % bs == 1 and n > bs else 0))",
          "    weights = [m.weight for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]  # not biases"]
    if es is not None:
        L += [f"    best, best_epoch, best_state = None, None, None  # early stopping on {es.metric}"]
    L += ["    step = 0",
          "    for epoch in range(1, args.epochs + 1):",
          "        # 2. one pass over the training split in a fresh random order",
          "        model.train()",
          "        perm = torch.randperm(n, generator=gen)",
          "        edges = list(range(0, n, bs)) + [n]",
          "        if bs > 1 and len(edges) > 2 and edges[-1] - edges[-2] == 1:",
          "            del edges[-2]  # a last batch of one joins the one before (batch norm needs two)",
          "        for start, end in zip(edges, edges[1:]):",
          "            idx = perm[start:end]",
          "            lr = schedule.lr_at(step)",
          "            for group in optimizer.param_groups:",
          '                group["lr"] = lr',
          "            optimizer.zero_grad(set_to_none=True)",
          f"            loss = loss_fn(model(X_TRAIN[idx]), Y_TRAIN[idx], {r.label_smoothing!r})"]
    if r.l1 or r.l2:
        L += ["            penalty = 0"]
        if r.l1:
            L += [f"            penalty = penalty + {r.l1!r} * sum(w.abs().sum() for w in weights)  # L1"]
        if r.l2:
            L += [f"            penalty = penalty + {r.l2!r} * sum(w.pow(2).sum() for w in weights)  # L2"]
        L += ["            loss = loss + penalty"]
    L += ["            loss.backward()"]
    if r.grad_clip_value:
        L += [f"            nn.utils.clip_grad_value_(model.parameters(), {r.grad_clip_value!r})"]
    if r.grad_clip_norm:
        L += [f"            nn.utils.clip_grad_norm_(model.parameters(), {r.grad_clip_norm!r})"]
    L += ["            optimizer.step()"]
    if r.weight_decay or r.max_norm:
        L += ["            with torch.no_grad():"]
        if r.weight_decay:
            L += ["                for w in weights:  # decoupled weight decay (Loshchilov & Hutter 2019)",
                  f"                    w.mul_(1 - lr * {r.weight_decay!r})"]
        if r.max_norm:
            L += ["                for w in weights:  # max-norm: every unit's incoming weights to norm <= c",
                  f"                    norms = w.flatten(1).norm(dim=1).clamp(min={r.max_norm!r})",
                  f"                    w.mul_(({r.max_norm!r} / norms).view(-1, *[1] * (w.dim() - 1)))"]
    L += ["            step += 1",
          "        # 3. the epoch's metrics, as the engine reports them",
          f"        train_loss, train_{metric} = evaluate(model, X_TRAIN, Y_TRAIN)"]
    if has_val:
        L += [f"        val_loss, val_{metric} = evaluate(model, X_VAL, Y_VAL)",
              f'        print(f"epoch {{epoch}} train_loss {{train_loss:.8f}} train_{metric} {{train_{metric}:.4f}} "',
              f'              f"val_loss {{val_loss:.8f}} val_{metric} {{val_{metric}:.4f}} lr {{lr:.6g}}", flush=True)',
              "        schedule.epoch_end(val_loss)"]
    else:
        L += [f'        print(f"epoch {{epoch}} train_loss {{train_loss:.8f}} train_{metric} {{train_{metric}:.4f}} "',
              '              f"lr {lr:.6g}", flush=True)',
              "        schedule.epoch_end(train_loss)"]
    if es is not None:
        value = {"val_loss": "val_loss", "train_loss": "train_loss", "val_acc": f"-val_{metric}"}[es.metric]
        L += [f"        score = {value}  # lower is better",
              f"        if best is None or score < best - {es.min_delta!r}:",
              "            best, best_epoch = score, epoch"]
        if es.restore_best:
            L += ["            best_state = {k: v.clone() for k, v in model.state_dict().items()}"]
        L += [f"        elif epoch - best_epoch >= {es.patience}:",
              '            print(f"early stopping at epoch {epoch} (best epoch {best_epoch})")']
        if es.restore_best:
            L += ["            model.load_state_dict(best_state)"]
        L += ["            break"]
    L += ["    if len(X_TEST):",
          f"        test_loss, test_{metric} = evaluate(model, X_TEST, Y_TEST)",
          f'        print(f"test_loss {{test_loss:.8f}} test_{metric} {{test_{metric}:.4f}}")',
          "", "", 'if __name__ == "__main__":', "    main()"]
    return "\n".join(L) + "\n"


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
    model_code, uses = _model_code(net, inits)
    title = (spec.name or f"{spec.data.dataset} experiment").replace("\\", "/").replace('"', "'")
    notes = []
    if spec.augment:
        notes.append("Augmentations (" + ", ".join(a.type for a in spec.augment) + ") are not included, so the "
                     "batch order differs from the engine's run.")
    if spec.mode == "lr_finder":
        notes.append("The spec is an LR range test; this script trains with its settings instead.")
    doc = (f"{title}: a Descent experiment as a standalone PyTorch script.\n\n{_ABOUT}\n"
           f"    python {_filename(spec)} [--epochs N]\n" + "".join(f"\n{n}\n" for n in notes))
    set_fields = spec.model_dump(mode="json", exclude_defaults=True)
    spec_lines = "\n".join("#   " + line for line in json.dumps(set_fields, indent=1).splitlines())
    names = ", ".join(data.feature_names[:8]) + (" ..." if len(data.feature_names) > 8 else "")
    parts = [
        f'"""{doc}"""\n',
        _IMPORTS,
        f"# The spec this was exported from (fields at their defaults left out):\n{spec_lines}\n\n",
        (f"SEED = {spec.seed}\nEPOCHS = {spec.training.epochs}\nBATCH_SIZE = {spec.training.batch_size}\n"
         f"N_CLASSES = {data.n_classes}  # {data.task}\n\n\n"),
        _TENSOR,
        f"# The prepared splits: {names} (normalization: {spec.data.normalize}, fitted on the training split)\n",
    ]
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        parts.append(_blob(getattr(data, name), name.upper()))
    if "gaussian_dropout" in uses:
        parts.append("\n" + _GAUSSIAN_DROPOUT)
    if "residual" in uses:
        parts.append("\n" + _RESIDUAL)
    parts += ["\n\n" + model_code, "\n\n" + _loss_code(spec, data.task), "\n\n" + _schedule_code(spec),
              "\n\n" + _loop_code(spec, data.task, len(data.x_val) > 0)]
    return "".join(parts)


def _filename(spec: Spec) -> str:
    base = "".join(c if c.isalnum() else "_" for c in (spec.name or spec.data.dataset).lower()).strip("_")
    return f"descent_{base or 'experiment'}.py"


def script_filename(spec: Spec | None) -> str:
    """A file name for the download's Content-Disposition."""
    return _filename(spec) if spec is not None else "descent_experiment.py"
