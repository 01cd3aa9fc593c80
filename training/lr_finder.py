"""The learning-rate range test (Smith, "Cyclical Learning Rates", 2017).

Train for ``steps`` batches while the learning rate grows exponentially from
``start_lr`` to ``end_lr``; smooth the loss with a bias-corrected running average
(β = 0.98); stop once the smoothed loss exceeds ``diverge_factor`` × its best. The
suggestion is fastai's "steep": the lr where the smoothed loss falls fastest against
log(lr), ignoring the first tenth and the last few points (fastai's ``lr_find`` skips
``num_it // 10`` and 5); ``suggestion_min10`` is the lr at the minimum divided by 10.
The model and the optimizer are restored afterwards: the test must not train the run.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterator

import torch
from torch import nn

from training.numbers import finite_or_none

SKIP_END = 5



def suggest(lrs: list[float], smoothed: list[float | None]) -> tuple[float | None, float | None]:
    """(steepest-descent lr, lr at the minimum / 10) from the smoothed curve."""
    pts = [(lr, v) for lr, v in zip(lrs, smoothed) if v is not None and math.isfinite(v)]
    n = len(pts)
    lo = n // 10
    hi = n - SKIP_END if n - SKIP_END - lo >= 3 else n
    window = pts[lo:hi] if hi - lo >= 3 else pts
    if len(window) < 2:
        return None, None
    grads = [(b[1] - a[1]) / (math.log(b[0]) - math.log(a[0])) for a, b in itertools.pairwise(window)]
    steep = window[min(range(len(grads)), key=grads.__getitem__)][0]
    minimum = min(window, key=lambda p: p[1])[0] / 10
    return steep, minimum


def find_lr(net: nn.Module, loss_fn, optimizer: torch.optim.Optimizer, batches: Iterator,
            lr_spec, should_stop: Callable[[], bool] = lambda: False) -> dict:
    """Run the range test on ``batches`` (an endless iterator of ``(x, y)``); see the module doc."""
    s = lr_spec
    model_state = copy.deepcopy(net.state_dict())
    opt_state = copy.deepcopy(optimizer.state_dict())
    was = net.training
    net.train()
    ratio = s.end_lr / s.start_lr
    lrs, losses, smoothed = [], [], []
    avg, best, stopped_early = 0.0, math.inf, False
    try:
        for i in range(s.steps):
            if should_stop():
                stopped_early = True
                break
            lr = s.start_lr * ratio ** (i / (s.steps - 1))
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
    suggestion, suggestion_min10 = suggest(lrs, smoothed)
    return {"lrs": lrs, "losses": [finite_or_none(v) for v in losses], "smoothed": [finite_or_none(v) for v in smoothed],
            "suggestion": suggestion, "suggestion_min10": suggestion_min10, "stopped_early": stopped_early}
