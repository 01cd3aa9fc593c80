"""Vectorized loss landscape against the reference's per-point loop, side by side.

A 51×51 grid of a 784-128-128-10 MLP on 4,096 random samples, on the same two
filter-normalized directions, in one process, interleaved, median of the repeats:

- ``loop``: the reference's way (tomgoldstein/loss-landscape ``crunch``): set the
  weights of the point, evaluate in batches of 128, next point;
- ``vmap``: ``torch.func.vmap`` over ``functional_call`` on chunks of stacked parameters;
- ``vmap+stem``: the same with the first layer's output combined from three products
  (what ``training.landscape`` does by default).

Peak memory is the rise of the process's resident set above its level before the
method ran (sampled every 2 ms), or ``torch.cuda.max_memory_allocated`` on a GPU.

    python bench/bench_landscape.py                              # the full benchmark (minutes)
    python bench/bench_landscape.py --resolution 21 --repeats 3  # shorter
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resolution", type=int, default=51)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--samples", type=int, default=4096)
    ap.add_argument("--batch", type=int, default=128, help="the per-point loop's evaluation batch")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--skip-plain-vmap", action="store_true", help="time only loop and vmap+stem")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own)")
    args = ap.parse_args()
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
    axis = torch.linspace(-1, 1, args.resolution)
    coeffs = grid_coeffs(axis, axis)
    methods = {
        "loop": lambda: loop_surface(net, x, y, F.cross_entropy, center, dirs, coeffs, args.batch),
        "vmap": lambda: LossSurface(net, x, y, F.cross_entropy, factorize=False).evaluate(center, dirs, coeffs),
        "vmap+stem": lambda: LossSurface(net, x, y, F.cross_entropy).evaluate(center, dirs, coeffs),
    }
    if args.skip_plain_vmap:
        del methods["vmap"]
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
    print(f"{args.resolution}x{args.resolution} grid ({n} points), 784-128-128-10 MLP, {args.samples} samples, "
          f"device={dev}, threads={torch.get_num_threads()}, repeats={args.repeats} (median)")
    for name, times in results.items():
        t = statistics.median(times)
        err = ((surfaces[name] - ref).abs() / ref.abs()).max().item()
        print(f"  {name:<10} {n / t:9.1f} points/s  {t:8.2f} s  peak {peaks[name] / 2**20:8.1f} MiB  "
              f"max rel. diff vs loop {err:.1e}")
    loop_t = statistics.median(results["loop"])
    for name in methods:
        if name != "loop":
            print(f"  {name} / loop speed-up = {loop_t / statistics.median(results[name]):.2f}x"
                  + ("  (target >= 3x on the CPU)" if name == "vmap+stem" else ""))


if __name__ == "__main__":
    main()
