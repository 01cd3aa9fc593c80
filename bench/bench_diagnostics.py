"""Cost of the per-layer diagnostics: steps/s of the same run with them on and off.

The default spec (``{}``) is run in one process with ``monitor.diagnostics`` on and off,
interleaved, and the median steps/s compared (target: overhead <= 10 %). Steps/s runs
from the first step event to the last, so the per-epoch work between steps (the
gradient record, the evaluation pass with hooks, the boundary) all counts.

    python bench/bench_diagnostics.py              # the default spec, boundary on as in {}
    python bench/bench_diagnostics.py --no-boundary --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from training.loop import train
from training.spec import validate


class StepClock:
    """Wall and CPU time of every step event (the process's CPU time is what a busy machine disturbs least)."""

    def __init__(self):
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def emit(self, event):
        if event["type"] == "step":
            self.wall.append(time.perf_counter())
            self.cpu.append(time.process_time())

    def should_stop(self):
        return False


def steps_per_second(spec) -> tuple[float, float]:
    """(steps per wall second, steps per CPU second) from the first step to the last."""
    clock = StepClock()
    train(spec, clock)
    n = len(clock.wall) - 1
    return n / (clock.wall[-1] - clock.wall[0]), n / (clock.cpu[-1] - clock.cpu[0])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-boundary", action="store_true", help="turn the decision boundary off in both runs")
    ap.add_argument("--every", type=int, default=1, help="monitor.diagnostics_every (epochs)")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    monitor = {"diagnostics_every": args.every}
    if args.no_boundary:
        monitor["boundary"] = False
    on = validate({"monitor": {**monitor, "diagnostics": True}})
    off = validate({"monitor": {**monitor, "diagnostics": False}})
    steps_per_second(on)  # warm-up
    rates = {"on": [], "off": []}
    for _ in range(args.repeats):  # interleaved: machine noise hits both alike
        rates["off"].append(steps_per_second(off))
        rates["on"].append(steps_per_second(on))
    print(f"default spec: {on.training.epochs} epochs, batch {on.training.batch_size}, boundary "
          f"{'off' if args.no_boundary else 'on'}, diagnostics every {args.every} epoch(s), "
          f"threads={torch.get_num_threads()}, repeats={args.repeats} (medians)")
    for i, clock in enumerate(("wall", "CPU")):
        med = {k: statistics.median(r[i] for r in v) for k, v in rates.items()}
        ratio = med["on"] / med["off"]
        print(f"  {clock:<4} time: off {med['off']:8.1f} steps/s, on {med['on']:8.1f} steps/s, "
              f"on / off = {ratio:.3f}, overhead {100 * (1 / ratio - 1):+.1f} %  (target <= 10 %)")


if __name__ == "__main__":
    main()
