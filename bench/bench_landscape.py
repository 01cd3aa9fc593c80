"""Loss-landscape surfaces three ways, side by side in one process (issue 9 §5).

A 784-128-128-10 MLP on 4,096 random samples, on the same two filter-normalized
directions, interleaved, median of the repeats, at every resolution asked for:

- ``reference``: the recipe of tomgoldstein/loss-landscape (``crunch`` + ``eval_loss``):
  set the weights of the point, then one pass of a ``DataLoader`` (batches of 128);
- ``loop``: Descent's own per-point loop (``loop_surface``): the same without the
  DataLoader, slicing the tensors directly;
- ``auto``: what the tracker runs (``LossSurface(method="auto")``): stacked points with
  the first layer factorized, or the per-point path where that measured faster.

Ratios: auto / loop (target >= 3x at 51x51 on one CPU thread) and auto / reference.
Peak memory is the rise of the resident set above its level before the method ran
(sampled every 2 ms), or ``torch.cuda.max_memory_allocated`` on a GPU.

    python bench/bench_landscape.py --threads 1                          # 21x21 and 51x51 (minutes)
    python bench/bench_landscape.py --threads 1 --resolutions 21 --repeats 1
    python bench/bench_landscape.py --threads 1 --resolutions 51 --methods loop auto  # the target ratio only
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from training.landscape import LossSurface, grid_coeffs, loop_surface, params_of, random_directions
from training.model import build_model
from training.spec import validate


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


class PeakMemory:
    """Peak bytes above the starting level while the block runs."""

    def __init__(self, device: torch.device):
        self.device, self.peak = device, 0

    def __enter__(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
            return self
        self.base, self.top, self.running = rss(), rss(), True

        def poll():
            while self.running:
                self.top = max(self.top, rss())
                time.sleep(0.002)
        self.thread = threading.Thread(target=poll, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            self.peak = torch.cuda.max_memory_allocated() - self.base
        else:
            self.running = False
            self.thread.join()
            self.peak = max(self.top, rss()) - self.base


@torch.no_grad()
def reference_surface(net, x, y, center, dirs, coeffs, batch_size: int = 128) -> torch.Tensor:
    """The reference's recipe: per grid point, set the weights, then a DataLoader pass (its ``eval_loss``)."""
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)
    named = dict(net.named_parameters())
    saved = {k: v.detach().clone() for k, v in named.items()}
    center = {k: v.clone() for k, v in center.items()}
    net.eval()
    out = torch.empty(len(coeffs))
    for j, c in enumerate(coeffs.tolist()):
        for k, p in named.items():  # the reference's set_weights: w + x·d1 + y·d2
            p.copy_(center[k] + sum(ci * d[k] for ci, d in zip(c, dirs)))
        total, count = 0.0, 0
        for xb, yb in loader:
            total += F.cross_entropy(net(xb), yb).item() * len(xb)
            count += len(xb)
        out[j] = total / count
    for k, p in named.items():
        p.copy_(saved[k])
    return out


def run(args, dev, net, x, y, center, dirs, resolution: int) -> None:
    axis = torch.linspace(-1, 1, resolution)
    coeffs = grid_coeffs(axis, axis)
    chosen = {}

    def auto(cs):
        ev = LossSurface(net, x, y, F.cross_entropy)
        out = ev.evaluate(center, dirs, cs)
        chosen["method"] = ev.chosen
        return out

    grids = {
        "reference": lambda cs: reference_surface(net, x, y, center, dirs, cs, args.batch),
        "loop": lambda cs: loop_surface(net, x, y, F.cross_entropy, center, dirs, cs, args.batch),
        "auto": auto,
    }
    for name in args.methods:  # first calls (kernel selection, torch.func) are a worker's start-up cost
        grids[name](coeffs[:4])
    methods = {k: (lambda g=g: g(coeffs)) for k, g in grids.items() if k in args.methods}
    results = {k: [] for k in methods}
    peaks = {k: 0 for k in methods}
    surfaces = {}
    for _ in range(args.repeats):  # interleaved: machine noise hits every method alike
        for name, fn in methods.items():
            with PeakMemory(dev) as mem:
                t0 = time.perf_counter()
                surfaces[name] = fn().cpu()
                if dev.type == "cuda":
                    torch.cuda.synchronize()
                results[name].append(time.perf_counter() - t0)
            peaks[name] = max(peaks[name], mem.peak)
    n = len(coeffs)
    ref = surfaces["loop"]
    print(f"{resolution}x{resolution} grid ({n} points), 784-128-128-10 MLP, {args.samples} samples, "
          f"device={dev}, threads={torch.get_num_threads()}, repeats={args.repeats} (median); auto chose {chosen['method']}")
    for name, times in results.items():
        t = statistics.median(times)
        err = ((surfaces[name] - ref).abs() / ref.abs()).max().item()
        print(f"  {name:<10} {n / t:9.1f} points/s  {t:8.2f} s  peak {peaks[name] / 2**20:8.1f} MiB  "
              f"max rel. diff vs loop {err:.1e}")
    auto_t = statistics.median(results["auto"])
    print(f"  auto / loop speed-up      = {statistics.median(results['loop']) / auto_t:.2f}x  (target >= 3x at 51x51, 1 thread)")
    if "reference" in results:
        print(f"  auto / reference speed-up = {statistics.median(results['reference']) / auto_t:.2f}x", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resolutions", type=int, nargs="+", default=[21, 51])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--samples", type=int, default=4096)
    ap.add_argument("--batch", type=int, default=128, help="the per-point methods' evaluation batch")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own)")
    ap.add_argument("--methods", nargs="+", default=["reference", "loop", "auto"], choices=["reference", "loop", "auto"],
                    help="loop and auto are always timed (the ratios need them)")
    args = ap.parse_args()
    args.methods = sorted(set(args.methods) | {"loop", "auto"}, key=["reference", "loop", "auto"].index)
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = torch.device("cuda" if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
                       else "cpu")
    spec = validate({"model": {"layers": [{"type": "dense", "units": 128}, {"type": "dense", "units": 128}]}})
    torch.manual_seed(0)
    net = build_model(spec, (784,), 10).to(dev)
    x = torch.randn(args.samples, 784, device=dev)
    y = torch.randint(0, 10, (args.samples,), device=dev)
    center = {k: v.clone() for k, v in params_of(net).items()}
    dirs = random_directions(center, seed=0)
    for resolution in args.resolutions:
        run(args, dev, net, x, y, center, dirs, resolution)


if __name__ == "__main__":
    main()
