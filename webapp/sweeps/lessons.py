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
    _lesson(
        "grokking-weight-decay", "Grokking: generalization long after memorization",
        "Every sum a + b mod 47, half of the table to learn from, the other half to test on. The inputs "
        "are just the two numbers one-hot, so a network can only memorize the table or find the rule. "
        "With weight decay it does both, in that order: training accuracy reaches 100 % within about a "
        "hundred epochs while validation accuracy stays near zero, then hundreds of epochs later "
        "validation accuracy climbs to almost 100 % (Power et al. 2022). The sweep shows why: without "
        "weight decay the memorized solution is never left; with a moderate decay the smaller-norm "
        "solution that implements the rule wins; with too much decay the net cannot even memorize in time.",
        {"seed": 0, "data": {"dataset": "modular", "modulus": 47, "operation": "add", "normalize": "none",
                             "split": {"train": 0.5, "val": 0.5, "test": 0.0}},
         "model": {"layers": [{"type": "dense", "units": 256, "activation": "relu"}]},
         "optimizer": {"name": "adamw", "lr": 0.005, "betas": [0.9, 0.98], "weight_decay": 1.0},
         "training": {"epochs": 1200, "batch_size": 512}, "regularization": _NO_EARLY_STOP},
        {"method": "grid", "metric": "val_acc", "goal": "max",
         "axes": [{"path": "/optimizer/weight_decay", "values": [0.0, 1.0, 3.0]}]},
    ),
]
