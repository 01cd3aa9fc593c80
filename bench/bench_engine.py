"""Engine steps/s against a minimal hand-written loop and the idiomatic DataLoader loop.

Same model, data, optimizer and batch size, in one process, interleaved repeats; prints
the ratios (targets: engine / hand >= 0.9, engine / DataLoader >= 1.5).

    python bench/bench_engine.py               # the default MLP on 2-D data
    python bench/bench_engine.py --case cnn    # a small CNN on digits, with augmentation
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from training.data import load  # noqa: E402
from training.data.augment import build_augmenter  # noqa: E402
from training.loop import train  # noqa: E402
from training.losses import build_loss  # noqa: E402
from training.model import build_model  # noqa: E402
from training.optim import optimizer_config  # noqa: E402
from training.spec import validate  # noqa: E402

CASES = {
    "mlp": {"data": {"dataset": "spiral", "n_samples": 2000}, "training": {"epochs": 8, "batch_size": 32}},
    "cnn": {
        "data": {"dataset": "digits", "n_samples": 1797},
        "model": {"layers": [{"type": "conv2d", "filters": 16, "kernel": 3}, {"type": "maxpool2d"},
                             {"type": "conv2d", "filters": 32, "kernel": 3}, {"type": "flatten"},
                             {"type": "dense", "units": 64}]},
        "augment": [{"type": "translate", "shift": 0.125, "p": 0.5}, {"type": "gaussian_noise", "std": 0.05}],
        "training": {"epochs": 3, "batch_size": 64},
    },
}


class StepClock:
    """A sink that timestamps step events (the engine's own work between them counts)."""

    def __init__(self):
        self.times: list[float] = []

    def emit(self, event):
        if event["type"] == "step":
            self.times.append(time.perf_counter())

    def should_stop(self):
        return False


def engine(spec) -> float:
    clock = StepClock()
    train(spec, clock)
    return (len(clock.times) - 1) / (clock.times[-1] - clock.times[0])


def _setup(spec):
    torch.manual_seed(spec.seed)
    data = load(spec)
    net = build_model(spec, data.input_shape, data.out_dim)
    # the baselines build the optimizer the plain way: torch.optim.Adam(params, lr=...)
    cls, cfg = optimizer_config(spec.optimizer)
    opt = getattr(torch.optim, cls)(net.parameters(), **cfg)
    loss_fn = build_loss(spec.loss, data.task, data.n_classes)
    aug = build_augmenter(spec.augment, data)
    return data, net, opt, loss_fn, aug


@torch.no_grad()
def epoch_eval(net, loss_fn, data) -> tuple[float, float]:
    """What any training script does once an epoch to draw its curves: train and val loss."""
    net.eval()
    out = loss_fn(net(data.x_train), data.y_train).item(), loss_fn(net(data.x_val), data.y_val).item()
    net.train()
    return out


def _timed_loop(spec, epoch_batches) -> float:
    """Steps/s of the plain loop over ``epoch_batches(data, gen)``, one iterable an epoch."""
    data, net, opt, loss_fn, aug = _setup(spec)
    gen = torch.Generator().manual_seed(0)
    batches = epoch_batches(data, gen)
    steps, t0 = 0, time.perf_counter()
    for _ in range(spec.training.epochs):
        for xb, yb in batches():
            if aug is not None:
                xb, yb = aug(xb, yb, gen)
            opt.zero_grad(set_to_none=True)
            loss_fn(net(xb), yb).backward()
            opt.step()
            steps += 1
        epoch_eval(net, loss_fn, data)
    return steps / (time.perf_counter() - t0)


def hand(spec) -> float:
    """The minimal loop: tensors in memory, index batches, a train/val loss per epoch."""
    bs = spec.training.batch_size

    def epoch_batches(data, gen):
        x, y = data.x_train, data.y_train

        def one_epoch():
            perm = torch.randperm(len(x), generator=gen)
            for i in range(0, len(x), bs):
                yield x[perm[i:i + bs]], y[perm[i:i + bs]]

        return one_epoch

    return _timed_loop(spec, epoch_batches)


def dataloader(spec) -> float:
    """The idiomatic loop: TensorDataset + DataLoader(shuffle=True), a train/val loss per epoch."""

    def epoch_batches(data, gen):
        loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=spec.training.batch_size,
                            shuffle=True, generator=gen)
        return lambda: loader

    return _timed_loop(spec, epoch_batches)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", choices=sorted(CASES), default="mlp")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (the worker's default is 1)")
    ap.add_argument("--monitor", action="store_true", help="keep diagnostics and boundary on in the engine")
    args = ap.parse_args()
    doc = dict(CASES[args.case])
    if not args.monitor:
        doc["monitor"] = {"diagnostics": False, "boundary": False}
    spec = validate(doc)
    torch.set_num_threads(args.threads)  # the same for all three loops
    results = {"engine": [], "hand": [], "dataloader": []}
    engine(spec)  # warm-up
    for _ in range(args.repeats):  # interleaved, so machine noise hits all three alike
        results["engine"].append(engine(spec))
        results["hand"].append(hand(spec))
        results["dataloader"].append(dataloader(spec))
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"case={args.case} monitor={'on' if args.monitor else 'off'} batch={spec.training.batch_size} "
          f"threads={torch.get_num_threads()} repeats={args.repeats}")
    for k, v in med.items():
        print(f"  {k:<11} {v:9.1f} steps/s (median)")
    print(f"  engine / hand loop   = {med['engine'] / med['hand']:.2f}  (target >= 0.9)")
    print(f"  engine / DataLoader  = {med['engine'] / med['dataloader']:.2f}  (target >= 1.5)")


if __name__ == "__main__":
    main()
