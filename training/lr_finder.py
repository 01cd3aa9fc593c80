"""The learning-rate range test (Smith, "Cyclical Learning Rates", 2017).

Train for ``steps`` batches while the learning rate grows exponentially from
``start_lr`` to ``end_lr``; smooth the loss with a bias-corrected running average
(β = 0.98); stop once the smoothed loss exceeds ``diverge_factor`` × its best. The model
and the optimizer are restored afterwards: the test must not train the run.

The suggestion is fastai's "valley" (fastai 2.5, ``fastai.callback.schedule.valley``):
the longest stretch over which the smoothed loss keeps falling, and a point a little past
its middle; the stretch starts once the loss has made a tenth of its fall (see
:func:`valley`). On noisy mini-batch curves it is far more robust than the steepest slope,
which a single lucky batch at the very start can claim (issue 9 measured 6.4e-7 on
digits where the useful range is 0.05-0.7). The steepest slope and the minimum / 10 are
kept as secondary marks. Like fastai, the first tenth and the last 5 points are ignored.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator

import numpy as np
import torch
from torch import nn

from training.numbers import finite_or_none

SKIP_END = 5
MIN_STEPS, MAX_AUTO_STEPS = 100, 300


def auto_steps(steps_per_epoch: int | None) -> int:
    """Steps when the spec leaves them out: two epochs' worth, between 100 and 300.

    fastai's 100 suits large data sets; on small ones every batch is seen only a couple
    of times, and the β = 0.98 average (a window of ~50 steps) lags less on a longer sweep.
    """
    if not steps_per_epoch:
        return MIN_STEPS
    return int(min(MAX_AUTO_STEPS, max(MIN_STEPS, 2 * steps_per_epoch)))


def _window(lrs: list[float], smoothed: list[float | None], planned: int) -> list[tuple[float, float]]:
    pts = [(lr, v) for lr, v in zip(lrs, smoothed) if v is not None and math.isfinite(v)]
    lo = min(planned // 10, max(0, len(pts) - 3))
    hi = len(pts) - SKIP_END if len(pts) - SKIP_END - lo >= 3 else len(pts)
    return pts[lo:hi]


def valley(losses: list[float], trim: float = 0.1) -> int | None:
    """Index in the middle of the longest falling stretch of the curve (fastai's ``valley``).

    ``lds[i]`` is the length of the longest strictly decreasing subsequence ending at
    ``i``. On a smooth curve the flat start at tiny learning rates also decreases
    strictly and would count as valley, pulling the suggestion far down (a full-batch test
    put it at 3e-3 where 0.06 trains); so the stretch starts only once the loss has made
    ``trim`` of its fall. On noisy curves the plateau breaks the subsequence anyway.
    """
    n = len(losses)
    if n < 2:
        return None
    v = np.asarray(losses, dtype=float)
    lds = np.ones(n, dtype=int)
    max_start = max_end = 0
    for i in range(1, n):
        higher = v[:i] > v[i]
        if higher.any():
            lds[i] = lds[:i][higher].max() + 1
        if lds[max_end] < lds[i]:
            max_end = i
            max_start = max_end - lds[max_end]
    max_start = max(0, max_start)
    if trim and max_end > max_start:
        level = v[max_start] - trim * (v[max_start] - v[max_end])
        max_start = next(i for i in range(max_start, max_end + 1) if v[i] <= level)
    sections = (max_end - max_start) / 3
    return max(0, min(n - 1, max_start + int(sections) + int(sections / 2)))


def suggest(lrs: list[float], smoothed: list[float | None], planned: int | None = None) -> dict:
    """The marks on the curve: ``suggestion`` (valley), ``suggestion_steep``, ``suggestion_min10``."""
    window = _window(lrs, smoothed, planned if planned is not None else len(lrs))
    if len(window) < 2:
        return {"suggestion": None, "suggestion_steep": None, "suggestion_min10": None}
    grads = [(b[1] - a[1]) / (math.log(b[0]) - math.log(a[0])) for a, b in zip(window, window[1:])]
    steep = window[min(range(len(grads)), key=grads.__getitem__)][0]
    minimum = min(window, key=lambda p: p[1])[0] / 10
    i = valley([v for _, v in window])
    return {"suggestion": window[i][0] if i is not None else None, "suggestion_steep": steep,
            "suggestion_min10": minimum}


def find_lr(net: nn.Module, loss_fn, optimizer: torch.optim.Optimizer, batches: Iterator,
            lr_spec, should_stop: Callable[[], bool] = lambda: False, steps_per_epoch: int | None = None) -> dict:
    """Run the range test on ``batches`` (an endless iterator of ``(x, y)``); see the module doc.

    ``should_stop`` is checked before every step (a stop request or the run's time limit).
    """
    s = lr_spec
    steps = s.steps or auto_steps(steps_per_epoch)
    model_state = copy.deepcopy(net.state_dict())
    opt_state = copy.deepcopy(optimizer.state_dict())
    was = net.training
    net.train()
    ratio = s.end_lr / s.start_lr
    lrs, losses, smoothed = [], [], []
    avg, best, stopped_early = 0.0, math.inf, False
    try:
        for i in range(steps):
            if should_stop():
                stopped_early = True
                break
            lr = s.start_lr * ratio ** (i / (steps - 1))
            for group in optimizer.param_groups:
                group["lr"] = lr
            x, y = next(batches)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(net(x), y)
            value = loss.item()
            lrs.append(lr)
            if not math.isfinite(value):
                # the loss blew up: the curve ends here (the average would stay NaN forever)
                losses.append(None)
                smoothed.append(None)
                stopped_early = True
                break
            loss.backward()
            optimizer.step()
            avg = s.beta * avg + (1 - s.beta) * value
            smooth = avg / (1 - s.beta ** (i + 1))
            losses.append(value)
            smoothed.append(smooth)
            best = min(best, smooth)
            if i > 0 and smooth > s.diverge_factor * best:
                stopped_early = True
                break
    finally:
        net.load_state_dict(model_state)
        optimizer.load_state_dict(opt_state)
        net.train(was)
    marks = suggest(lrs, smoothed, steps)
    return {"lrs": lrs, "losses": [finite_or_none(v) for v in losses], "smoothed": [finite_or_none(v) for v in smoothed],
            **marks, "rule": "valley", "steps": steps, "stopped_early": stopped_early}
