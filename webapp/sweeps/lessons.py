"""Lessons that need many runs: each is a base spec plus a ``sweep`` body for POST /api/sweeps.

Served at ``GET /api/sweeps/lessons`` and launched with ``POST /api/sweeps {"lesson": slug}``.
Each is verified with its seed through the engine (tests/unit/test_lessons_sweeps.py), and
kept small: a whole lesson finishes in a few minutes on one CPU core.
"""

from __future__ import annotations

import copy

_QUIET = {"diagnostics": False, "boundary": False}  # many runs: no per-epoch extras
_NO_EARLY_STOP = {"early_stopping": None}


def _lesson(slug: str, title: str, lesson: str, spec: dict, sweep: dict, unlocked: list[str] | None = None) -> dict:
    return {"slug": slug, "title": title, "kind": "sweep", "lesson": lesson,
            "spec": copy.deepcopy({"name": title, "monitor": _QUIET, **spec}), "sweep": copy.deepcopy(sweep),
            "unlocked": unlocked or [a["path"] for a in sweep["axes"]]}


_DIGITS_SGD = {
    "seed": 0, "data": {"dataset": "digits", "n_samples": 600},
    "model": {"layers": [{"type": "flatten"}, {"type": "dense", "units": 64, "activation": "relu"}]},
    "optimizer": {"name": "sgd", "lr": 0.01}, "training": {"epochs": 15, "batch_size": 32},
    "regularization": _NO_EARLY_STOP,
}
_SEARCH_TEXT = (
    "Nine runs each, over the learning rate and the weight decay, where only the learning rate matters "
    "(the decay is too small to change anything in 15 epochs). A 3 x 3 grid tries just three learning "
    "rates, three times each; nine random points try nine different learning rates, so one of them is likely "
    "to land closer to the best one. Bergstra & Bengio (2012): when few of the knobs matter, random search "
    "beats grid search for the same budget. Run both lessons and compare their best runs."
)

SWEEP_LESSONS: list[dict] = [
    _lesson(
        "lr-orders-of-magnitude", "Learning rate by orders of magnitude",
        "Nine learning rates from 0.0001 to 10, evenly spaced on a log scale, each training the same network "
        "on digits with plain SGD. Too small and nothing moves in 15 epochs; too large and the loss jumps "
        "out of the valley; in between lies a wide sweet spot. Plotted against the log of the learning rate, "
        "validation loss draws a U. Search learning rates by factors of ten, not by small steps.",
        _DIGITS_SGD,
        {"method": "grid", "axes": [{"path": "/optimizer/lr", "log_uniform": [1e-4, 10.0], "count": 9}],
         "metric": "val_loss", "goal": "min"},
    ),
    _lesson(
        "search-grid-lr-wd", "Grid search: learning rate x weight decay", _SEARCH_TEXT, _DIGITS_SGD,
        {"method": "grid", "metric": "val_acc", "goal": "max",
         "axes": [{"path": "/optimizer/lr", "log_uniform": [1e-4, 10.0], "count": 3},
                  {"path": "/optimizer/weight_decay", "log_uniform": [1e-7, 1e-5], "count": 3}]},
    ),
    _lesson(
        "search-random-lr-wd", "Random search: learning rate x weight decay", _SEARCH_TEXT, _DIGITS_SGD,
        {"method": "random", "samples": 9, "seed": 1, "metric": "val_acc", "goal": "max",
         "axes": [{"path": "/optimizer/lr", "log_uniform": [1e-4, 10.0]},
                  {"path": "/optimizer/weight_decay", "log_uniform": [1e-7, 1e-5]}]},
    ),
]
