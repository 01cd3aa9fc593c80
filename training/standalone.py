"""The exported script's own part: its training loop, weights loading and command line.

``training.export`` copies these functions into every exported script (with
``inspect.getsource``), next to the engine's schedules, regularizers, early stopper,
losses, batch edges and evaluation, copied the same way. So the script runs the engine's
code, not a transcription of it; what is written here is only what the Celery-facing
:class:`training.loop.Trainer` does around it (events, diagnostics, controls), reduced
to printing. The loop keeps the Trainer's order of operations and of random draws, which
is what lets the script reproduce the engine's losses.

Nothing here may use a name the script does not define: torch, math, json, argparse,
nn, F and the engine code that ``training.export.CORE`` lists.
"""

from __future__ import annotations

import argparse
import json
import math
from types import SimpleNamespace

import torch

from training.loop import batch_edges, evaluate
from training.losses import build_loss
from training.optim import EarlyStopper, LRSchedule, Regularizer
from training.swa import SWA


def read_safetensors(path: str) -> tuple[list[tuple[str, torch.Tensor]], dict]:
    """A safetensors file without the safetensors package: an 8-byte header size, a JSON
    header (dtype, shape, byte offsets per tensor, metadata), then the raw bytes."""
    dtypes = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
              "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
              "BOOL": torch.bool}
    with open(path, "rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
        data = f.read()
    meta = header.pop("__metadata__", {}) or {}
    order = json.loads(meta["order"]) if "order" in meta else sorted(header, key=lambda k: header[k]["data_offsets"])
    out = []
    for key in order:
        h = header[key]
        start, end = h["data_offsets"]
        raw = bytearray(data[start:end])
        t = torch.frombuffer(raw, dtype=dtypes[h["dtype"]]) if raw else torch.empty(0, dtype=dtypes[h["dtype"]])
        out.append((key, t.reshape(h["shape"])))
    return out, meta


def load_weights(model: torch.nn.Module, path: str, names: list[str], exclude: list[str]) -> None:
    """Descent's weights file (``GET /api/runs/<id>/export/weights``) into this model, as
    ``model.init_from`` does (training.weights.load_matching): every tensor whose name and
    shape match, except the layers in ``exclude``; the others keep their initialization.

    ``names`` are Descent's names of this model's tensors (``conv1.body.weight``), in the
    order of ``model.state_dict()``.
    """
    saved = dict(read_safetensors(path)[0])
    current = model.state_dict()
    state, skipped = {}, []
    for key, name in zip(current, names):
        if name.split(".", 1)[0] in exclude or name not in saved or saved[name].shape != current[key].shape:
            skipped.append(name)
        else:
            state[key] = saved[name].to(current[key].dtype)
    model.load_state_dict(state, strict=False)
    print(f"loaded {len(state)} tensors from {path}" + (f"; kept the initialization of {', '.join(skipped)}"
                                                        if skipped else ""))


def freeze(model: torch.nn.Module, frozen_params: list[int], frozen_norms: list[int]) -> None:
    """The spec's ``freeze`` layers: no gradient, fixed batch-norm statistics (as training.model.freeze)."""
    for i, p in enumerate(model.parameters()):
        if i in frozen_params:
            p.requires_grad_(False)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for i in frozen_norms:
        norms[i].momentum = 0.0


def train_script(cfg: SimpleNamespace, data: SimpleNamespace, build_model, epochs: int,
                 weights: str | None = None) -> torch.nn.Module:
    """Train as the engine does and print each epoch's losses and metrics."""
    metric = "acc" if cfg.task == "classification" else "r2"
    # 1. the engine's RNG order: global seed, model and initializers, then the batch-order generator
    torch.manual_seed(cfg.seed)
    model = build_model()
    if weights:
        load_weights(model, weights, cfg.state_names, cfg.init_exclude)
    freeze(model, cfg.frozen_params, cfg.frozen_norms)
    gen = torch.Generator().manual_seed(cfg.seed)
    params = [p for p in model.parameters() if p.requires_grad]
    # torch's optimizer, or the engine's own one that the exporter copied into the script
    opt_class = getattr(torch.optim, cfg.optimizer, None) or globals()[cfg.optimizer]
    optimizer = opt_class(params, **cfg.optimizer_args)
    n = len(data.x_train)
    bs = min(cfg.batch_size, n)
    edges = batch_edges(n, bs)
    schedule = LRSchedule(cfg.schedule, cfg.optimizer_args["lr"], len(edges) - 1, cfg.epochs)
    reg = Regularizer(cfg.regularization, model)
    stopper = EarlyStopper(cfg.early_stopping)
    loss_fn = build_loss(cfg.loss, cfg.task, cfg.n_classes, cfg.regularization.label_smoothing)
    eval_loss_fn = build_loss(cfg.loss, cfg.task, cfg.n_classes, 0.0)
    s = getattr(cfg.regularization, "swa", None)  # stochastic weight averaging (training/swa.py)
    swa = SWA(model, s["start_epoch"], s["lr"], s["every"]) if s else None
    step = 0
    for epoch in range(1, epochs + 1):
        # 2. one epoch of shuffled mini-batches (the Trainer's _train_step, step by step)
        model.train()
        perm = torch.randperm(n, generator=gen)
        for start, end in zip(edges, edges[1:]):
            idx = perm[start:end]
            lr = schedule.lr_at(step)
            if swa is not None:
                lr = swa.lr_for(epoch, lr)
            for group in optimizer.param_groups:
                group["lr"] = lr
            optimizer.zero_grad(set_to_none=True)
            data_loss = loss_fn(model(data.x_train[idx]), data.y_train[idx])
            penalty, _ = reg.penalty()
            total = data_loss if penalty is None else data_loss + penalty
            if not math.isfinite(data_loss.item()) or not math.isfinite(total.item()):
                print(f"diverged: loss became {data_loss.item()} at step {step + 1}")
                return model
            total.backward()
            reg.before_step()
            optimizer.step()
            reg.after_step(lr)
            step += 1
        # 3. the epoch's metrics, as the engine reports them
        tr, _ = evaluate(model, eval_loss_fn, data.x_train, data.y_train, cfg.task)
        va, _ = evaluate(model, eval_loss_fn, data.x_val, data.y_val, cfg.task)
        line = f"epoch {epoch} train_loss {tr['loss']:.8f} train_{metric} {tr[metric]:.4f}"
        if va:
            line += f" val_loss {va['loss']:.8f} val_{metric} {va[metric]:.4f}"
        if swa is not None and swa.due(epoch):  # the average joins a snapshot, then is evaluated
            swa.update(model)
            sv, _ = evaluate(swa.finalize(data.x_train, bs), eval_loss_fn, data.x_val, data.y_val, cfg.task)
            if sv:
                line += f" swa_val_loss {sv['loss']:.8f} swa_val_{metric} {sv[metric]:.4f}"
        print(f"{line} lr {lr:.6g}", flush=True)
        schedule.epoch_end(epoch, va.get("loss", tr["loss"]))
        if stopper.update(epoch, {"val_loss": va.get("loss"), "val_acc": va.get("acc"), "train_loss": tr["loss"]},
                          model):
            print(f"early stopping at epoch {epoch} (best epoch {stopper.best_epoch})")
            break
    stopper.restore(model)
    te, _ = evaluate(model, eval_loss_fn, data.x_test, data.y_test, cfg.task)
    if te:
        print(f"test_loss {te['loss']:.8f} test_{metric} {te[metric]:.4f}")
    return model


def main(cfg: SimpleNamespace, data: SimpleNamespace, build_model, doc: str) -> torch.nn.Module:
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=cfg.epochs, help="stop early (the schedule keeps EPOCHS)")
    parser.add_argument("--weights", help="start from a Descent weights file (.safetensors)")
    parser.add_argument("--save", help="write the trained weights (torch.save of the state dict)")
    args = parser.parse_args()
    model = train_script(cfg, data, build_model, args.epochs, args.weights)
    if args.save:
        torch.save(model.state_dict(), args.save)
    return model
