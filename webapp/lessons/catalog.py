"""Lessons: what each preset asks the student to watch, and runs that belong side by side.

``annotate(PRESETS)`` (called at the end of webapp/presets/presets.py) gives every preset:

- ``panel``: the id of the run-page panel to watch (``panel-<id>`` is highlighted there);
- ``watch``: one sentence of what to look for (the /lessons card);
- ``variants``: ``[{"label", "spec"}]``, runs to start together and open on /compare
  ("Run both"); the preset's own spec is one of them;
- ``spec.lesson``: its slug, so a run started from it keeps the lesson (banner, share
  link, replay, fork, "Edit in playground").

``LESSONS`` are the lessons this module adds (texts in our own words), each checked with
its seed through the engine in tests/unit/test_lessons_catalog.py.
"""

from __future__ import annotations

import copy

PANEL_IDS = ("loss", "accuracy", "lr", "boundary", "gradflow", "gradnorm", "updateratio", "activations",
             "dead", "landscape", "lrfinder", "summary", "confusion", "weights", "neurons")


def _dense(units: int, activation: str = "relu", n: int = 1) -> list[dict]:
    return [{"type": "dense", "units": units, "activation": activation} for _ in range(n)]


def _lesson(slug, title, lesson, watch, panel, spec, variants=None):
    spec = {"name": title, **spec}
    return {"slug": slug, "title": title, "lesson": lesson, "spec": spec, "watch": watch, "panel": panel,
            "variants": variants}


def _with(spec: dict, label_name: str, **patch) -> dict:
    """A copy of ``spec`` with top-level sections patched (a dict section is merged)."""
    out = copy.deepcopy(spec)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    out["name"] = label_name
    return out


# -- the lessons ------------------------------------------------------------------------------

_SPIRAL_FEW = {"dataset": "spiral", "n_samples": 150, "noise": 0.5, "split": {"train": 0.5, "val": 0.25, "test": 0.25}}
_WIDTH = {"data": _SPIRAL_FEW, "model": {"layers": _dense(1, "tanh")}, "optimizer": {"name": "adam", "lr": 0.01},
          "training": {"epochs": 150, "batch_size": 16}, "monitor": {"boundary_every": 5}}

_IMBALANCED = {"data": {"dataset": "gauss", "n_samples": 600, "noise": 1.5, "imbalance": 0.1},
               "model": {"layers": _dense(8)}, "optimizer": {"name": "adam", "lr": 0.01}, "training": {"epochs": 30}}

_EXPLODING = {"data": {"dataset": "circle", "n_samples": 300},
              "model": {"layers": _dense(32, "relu", 6), "init": {"weights": "normal", "std": 0.5}},
              "optimizer": {"name": "momentum", "lr": 0.1}, "regularization": {"grad_clip_norm": 1.0},
              "training": {"epochs": 12}}

_SMOOTHING = {"data": {"dataset": "moons", "n_samples": 300, "noise": 0.2}, "model": {"layers": _dense(32, "relu", 2)},
              "optimizer": {"name": "adam", "lr": 0.01}, "regularization": {"label_smoothing": 0.2},
              "training": {"epochs": 60}}

_WARMUP = {"data": {"dataset": "spiral", "n_samples": 300, "noise": 0.1}, "model": {"layers": _dense(32, "relu", 3)},
           "optimizer": {"name": "adam", "lr": 0.1}, "schedule": {"name": "constant", "warmup_epochs": 5},
           "training": {"epochs": 25}}

# the same spiral net with L1, with L2, with neither (issue 11): tests/unit/test_diagnostics_weight_histograms.py
_L1_L2 = {"seed": 3, "data": {"dataset": "spiral", "n_samples": 400, "noise": 0.1},
          "model": {"layers": _dense(32, "relu", 2)}, "optimizer": {"name": "momentum", "lr": 0.05},
          "regularization": {"l1": 1e-3}, "training": {"epochs": 40, "batch_size": 64},
          "monitor": {"diagnostics_every": 2}}


LESSONS = [
    _lesson(
        "underfit-overfit-width", "Too narrow, too wide: bias and variance in width",
        "Seventy-five noisy points on two interleaved spirals. One hidden unit can only draw a single smooth cut, "
        "so training and validation error stay high together (bias). Two layers of 128 units bend around every "
        "noisy point: training accuracy climbs past 90% while validation loss climbs too (variance). Run both "
        "and compare the gap.",
        "Watch the gap between the train and val loss curves: none for the narrow net, wide for the big one.",
        "loss", _WIDTH,
        variants=[("1 unit", {}), ("2 × 128 units", {"model": {"layers": _dense(128, "relu", 2)}})],
    ),
    _lesson(
        "imbalanced-classes", "Imbalanced classes: accuracy hides the minority",
        "Only one in ten training points of the second class is kept. The network learns that guessing the "
        "majority is usually right: overall accuracy looks fine while the minority class is recognized about "
        "half the time. The per-class accuracy in the summary tells the real story.",
        "Compare the per-class accuracies in the confusion matrix: the rare class lags far behind.",
        "confusion", _IMBALANCED,
        variants=[("10% of class 2", {}), ("balanced", {"data": {"imbalance": 1.0}})],
    ),
    _lesson(
        "gradient-clipping", "Gradient clipping tames an exploding network",
        "Six ReLU layers whose weights start too large multiply the gradient layer after layer; with momentum "
        "at lr 0.1 the first steps jump so far that the loss becomes NaN. Capping the gradient norm at 1 keeps "
        "every step bounded, and the same network trains to a clean circle.",
        "Watch the gradient norms: without clipping they blow up and the run diverges within an epoch.",
        "gradnorm", _EXPLODING,
        variants=[("clipped at 1", {}), ("no clipping", {"regularization": {"grad_clip_norm": None}})],
    ),
    _lesson(
        "label-smoothing", "Label smoothing: less sure, not less right",
        "Training on targets of 0.9/0.1 instead of 1/0 (smoothing 0.2) stops the network from pushing its "
        "outputs toward infinite confidence. Accuracy stays the same; the boundary's probabilities turn soft "
        "away from the data, and the training loss (measured on hard labels) stops near a floor instead of zero.",
        "Look at the decision boundary's colours: soft shades with smoothing, saturated without.",
        "boundary", _SMOOTHING,
        variants=[("smoothing 0.2", {}), ("no smoothing", {"regularization": {"label_smoothing": 0.0}})],
    ),
    _lesson(
        "adam-warmup", "Warm-up for Adam at a high learning rate",
        "Adam's first steps divide by a second-moment estimate made from a handful of gradients, so at lr 0.1 "
        "they can throw the weights far off. Ramping the lr up over the first five epochs lets the estimates "
        "settle first; without the ramp the spiral is learned worse or not at all.",
        "Watch the loss over the first epochs and the lr chart: the warm-up ramp and a calmer start.",
        "loss", _WARMUP,
        variants=[("warm-up 5 epochs", {}), ("no warm-up", {"schedule": {"warmup_epochs": 0}})],
    ),
    _lesson(
        "l1-vs-l2-weights", "L1 or L2: what each penalty does to the weights",
        "Both penalties charge the network for large weights, but differently. L2 charges the square, so its pull "
        "fades as a weight shrinks: every weight gets smaller, almost none reaches zero. L1 charges the absolute "
        "value, a pull of the same size however small the weight is, so weights that the data does not need are "
        "pushed all the way to zero and stay there: a sparse network. Run the three together and open the "
        "Weights panel on the compare page.",
        "In the Weights panel the L1 run's histogram collapses onto zero: well over ten times as many weights "
        "below 0.001 as with L2 or with no penalty.",
        "weights", _L1_L2,
        variants=[("L1 1e-3", {}), ("L2 1e-3", {"regularization": {"l1": 0.0, "l2": 1e-3}}),
                  ("no penalty", {"regularization": {"l1": 0.0}})],
    ),
]


# what to watch in the presets that were there before (slug: panel, sentence, partner slugs)
WATCH = {
    "underfit-tiny-mlp": ("loss", "Train and val loss stay high together: the model is too simple.",
                          ["overfit-huge-mlp"]),
    "overfit-huge-mlp": ("loss", "Train loss keeps falling while val loss turns up.", ["underfit-tiny-mlp"]),
    "vanishing-gradients-sigmoid": ("gradflow", "Gradient flow: the layers near the input go dark.",
                                    ["relu-he-init"]),
    "relu-he-init": ("gradflow", "Gradient flow: every layer keeps a healthy gradient.",
                     ["vanishing-gradients-sigmoid"]),
    "dead-relu-high-lr": ("dead", "The share of dead ReLUs jumps after the first big steps.", []),
    "init-zeros-symmetry": ("neurons", "Every hidden neuron draws the same picture: symmetry is never broken.", []),
    "init-xavier-vs-he": ("activations", "Activation spread per layer: it shrinks or holds with depth.", []),
    "sgd-plain": ("loss", "A slow, steady loss curve.", ["momentum-nesterov", "adam"]),
    "momentum-nesterov": ("loss", "The loss falls faster than plain SGD.", ["sgd-plain", "adam"]),
    "adam": ("loss", "The loss falls fast from the first epoch.", ["sgd-plain", "momentum-nesterov"]),
    "lr-too-high": ("loss", "The loss jumps around or explodes instead of falling.", []),
    "lr-range-test": ("lrfinder", "Where the loss falls fastest before it blows up.", []),
    "warmup-cosine": ("lr", "The lr ramps up, then follows a cosine down.", []),
    "step-decay": ("lr", "Each lr drop gives the loss another step down.", []),
    "l2-weight-decay": ("weights", "The weights stay smaller; the boundary smoother.", []),
    "l1-max-norm": ("weights", "Many weights pushed to exactly zero.", []),
    "dropout": ("loss", "The val loss stays close to the train loss.", []),
    "batchnorm": ("loss", "The deep sigmoid net trains at all, and fast.", []),
    "early-stopping": ("loss", "Training stops soon after the val loss turns up.", []),
    "augment-digits": ("accuracy", "The gap between train and val accuracy.", []),
    "label-noise": ("accuracy", "Val accuracy peaks, then falls as the noise is memorized.", []),
    "random-labels": ("accuracy", "Train accuracy reaches 100% while val stays at chance.", []),
    "double-descent": ("boundary", "The fitted curve wiggles through every point near the threshold.", []),
    "loss-landscape": ("landscape", "The trajectory running down into the valley.", []),
}

# "with and without": derived pairs for presets that contrast a single ingredient
_WITHOUT = {
    "batchnorm": ("without batch norm", lambda s: {"model": {**s["model"], "layers": [
        layer for layer in s["model"]["layers"] if layer.get("type") != "batchnorm"]}}),
    "dropout": ("without dropout", lambda s: {"model": {**s["model"], "layers": [
        layer for layer in s["model"]["layers"] if layer.get("type") != "dropout"]}}),
    "l2-weight-decay": ("without weight decay", lambda s: {"regularization": {"l2": 0.0, "weight_decay": 0.0}}),
}


def _first_sentence(text: str) -> str:
    end = text.find(". ")
    return text if end < 0 else text[:end + 1]


def annotate(presets: list[dict]) -> list[dict]:
    """Add panel, watch, variants and spec.lesson to every preset (in place; returns it)."""
    by_slug = {p["slug"]: p for p in presets}
    for p in presets:
        panel, watch, partners = WATCH.get(p["slug"], (p.get("panel") or "loss", p.get("watch"), []))
        p["panel"] = p.get("panel") or panel
        p["watch"] = p.get("watch") or watch or _first_sentence(p.get("lesson", ""))
        spec = p.get("spec")
        if not isinstance(spec, dict):
            continue  # e.g. a sweep lesson: its body says what runs
        spec["lesson"] = p["slug"]
        variants = p.get("variants")
        if variants and isinstance(variants[0], tuple):  # (label, patch) of this module's lessons
            p["variants"] = [{"label": label, "spec": _with(spec, f"{p['title']} · {label}", **patch)}
                             for label, patch in variants]
        elif not variants:
            if partners:
                p["variants"] = [{"label": q["title"], "spec": q["spec"]} for q in
                                 [p] + [by_slug[s] for s in partners if s in by_slug]]
            elif p["slug"] in _WITHOUT:
                label, patch = _WITHOUT[p["slug"]]
                p["variants"] = [{"label": p["title"], "spec": spec},
                                 {"label": label, "spec": _with(spec, f"{p['title']} · {label}", **patch(spec))}]
            else:
                p["variants"] = []
    return presets
