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
    _lesson(
        "repeats-matter", "Repeats matter: one seed can point the wrong way",
        "Plain SGD against SGD with momentum, same learning rate, on noisy moons with a validation set "
        "of a hundred points. With the lesson's first seed alone, plain SGD comes out ahead. Repeat each "
        "over five seeds and compare the means with their spread: momentum is better on average, and the "
        "single-seed gap was smaller than the seed-to-seed noise. Before calling one setting better, "
        "repeat it over seeds and look at mean ± std; with a small validation set one point more or less "
        "is a whole percent.",
        {"seed": 8, "data": {"dataset": "moons", "n_samples": 200, "noise": 0.35,
                             "split": {"train": 0.5, "val": 0.5, "test": 0.0}},
         "model": {"layers": [{"type": "dense", "units": 16, "activation": "relu"}]},
         "optimizer": {"name": "sgd", "lr": 0.05}, "training": {"epochs": 20, "batch_size": 20},
         "regularization": _NO_EARLY_STOP},
        {"method": "grid", "repeats": 5, "metric": "val_acc", "goal": "max",
         "axes": [{"path": "/optimizer/name", "values": ["sgd", "momentum"]}]},
    ),
    _lesson(
        "double-descent-width", "Double descent in width",
        "One hidden layer of growing width on MNIST-1D, 400 training samples with 15 % of their labels "
        "flipped, each net trained until it fits its training set as well as it can. Narrow nets cannot fit "
        "the noise. Around the width where the net first fits every training label, the interpolation "
        "threshold (here about 16 units), it must bend to hit every wrong label too, and test loss and "
        "test error peak. Wider still, many weight settings fit the data and training finds a smoother "
        "one: test loss falls again (Nakkiran et al. 2019, Deep double descent). Bigger is not always "
        "worse; just-big-enough can be.",
        {"seed": 0, "data": {"dataset": "mnist1d", "n_samples": 1000, "label_noise": 0.15,
                             "split": {"train": 0.4, "val": 0.0, "test": 0.6}},
         "model": {"layers": [{"type": "dense", "units": 16, "activation": "relu"}]},
         "optimizer": {"name": "adam", "lr": 0.003}, "training": {"epochs": 1500, "batch_size": 400},
         "regularization": _NO_EARLY_STOP},
        {"method": "grid", "metric": "test_loss", "goal": "min",
         "axes": [{"path": "/model/layers/0/units", "values": [2, 4, 8, 16, 32, 64, 256]}]},
    ),
]
