"""Warm a fresh training process up before its first run (issue 9, section 7).

A new worker pays, on its first run, for: importing the engine's lazily imported modules
(data generators, augmentation, diagnostics, boundary, landscape), scikit-learn's digits
loader, the mnist1d templates, and PyTorch's first kernels (the first forward/backward of
a Linear and a Conv2d, the fused optimizer step, the allocator's first blocks). None of
that depends on the run, so :func:`warm_up` does it once at start: it trains two tiny
specs (an MLP on a 2-D set, a CNN on digits) through the real trainer into a list, and
generates the image datasets' caches. It touches no database and no network.
"""

from __future__ import annotations

import time

WARMUP_SPECS = (
    # the 2-D playground path: dense layers, fused Adam, diagnostics and decision boundary
    {"data": {"dataset": "circle", "n_samples": 40}, "training": {"epochs": 1, "batch_size": 16},
     "monitor": {"boundary_resolution": 8}},
    # the image path: conv, pooling, batch norm, dropout, SGD with momentum
    {"data": {"dataset": "digits", "n_samples": 40},
     "model": {"layers": [{"type": "conv2d", "filters": 2}, {"type": "batchnorm"}, {"type": "maxpool2d"},
                          {"type": "dropout", "p": 0.1}, {"type": "dense", "units": 4}]},
     "optimizer": {"name": "momentum", "lr": 0.01}, "training": {"epochs": 1, "batch_size": 16}},
)


def warm_up() -> dict[str, float]:
    """Do the first-run work now; returns seconds per part (for the worker's log)."""
    import torch

    from training.loop import ListSink, train
    from training.spec import validate

    timings: dict[str, float] = {}
    t = time.perf_counter()
    # 1. the datasets with something to load or build once (lru caches, templates)
    from training.data.datasets import _digits
    from training.data.mnist1d import templates

    _digits()
    templates()
    timings["datasets"] = time.perf_counter() - t
    # 2. the engine end to end: imports, first kernels, optimizer steps, evaluation
    state = torch.random.get_rng_state()
    for i, doc in enumerate(WARMUP_SPECS):
        t = time.perf_counter()
        train(validate(doc), ListSink(validate=False))
        timings[f"train{i + 1}"] = time.perf_counter() - t
    torch.random.set_rng_state(state)  # runs seed themselves; leave the process as it was
    return timings
