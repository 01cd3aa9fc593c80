"""Peak memory of a run on digits (a small CNN with augmentation and every monitor on).

Each case runs in a fresh subprocess; prints the peak resident set size above the
process's baseline (torch and the engine imported), side by side for the MLP and the
CNN, and their ratio.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys
sys.path.insert(0, ROOT)
import torch
from training.loop import ListSink, train
from training.spec import validate
import training.landscape, training.diagnostics, training.data.augment  # imported before the baseline
def rss_mb():
    # current RSS from /proc (ru_maxrss is the peak so far)
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
base = rss_mb()
spec = validate(json.loads(SPEC))
sink = ListSink()
status = train(spec, sink)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"status": status, "baseline_mb": base, "peak_mb": peak, "events": len(sink.events)}))
"""

CASES = {
    "digits-cnn": {
        "data": {"dataset": "digits"},
        "model": {"layers": [{"type": "conv2d", "filters": 16}, {"type": "maxpool2d"},
                             {"type": "conv2d", "filters": 32}, {"type": "flatten"},
                             {"type": "dense", "units": 64}, {"type": "dropout", "p": 0.2}]},
        "augment": [{"type": "rotate", "degrees": 10}, {"type": "translate"}],
        "training": {"epochs": 5, "batch_size": 64},
        "monitor": {"landscape": {"mode": "2d", "resolution": 21, "eval_samples": 512}},
    },
    "digits-mlp": {
        "data": {"dataset": "digits"},
        "model": {"layers": [{"type": "dense", "units": 128}, {"type": "dense", "units": 64}]},
        "training": {"epochs": 5, "batch_size": 64},
    },
}


def measure(spec: dict) -> dict:
    code = CHILD.replace("ROOT", repr(str(ROOT))).replace("SPEC", repr(json.dumps(spec)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    rows = {name: measure(spec) for name, spec in CASES.items()}
    for name, r in rows.items():
        print(f"{name:<11} status={r['status']:<9} baseline {r['baseline_mb']:7.1f} MB  peak {r['peak_mb']:7.1f} MB  "
              f"run adds {r['peak_mb'] - r['baseline_mb']:6.1f} MB")
    cnn, mlp = rows["digits-cnn"], rows["digits-mlp"]
    print(f"peak cnn / peak mlp = {cnn['peak_mb'] / mlp['peak_mb']:.2f}")


if __name__ == "__main__":
    main()
