"""Classroom presets: one experiment per lesson, served at GET /api/presets.

Each preset is ``{"slug", "title", "lesson", "spec"}``. A spec lists only what differs
from the defaults of ``training/spec.py``, so it reads as the point of the lesson.
Keep every preset small enough to finish in well under half a minute on a laptop CPU:
a few hundred samples, narrow layers, tens of epochs. Many lessons come in pairs
(sigmoid vs ReLU, SGD vs momentum): run one, then the other, and compare.
"""

from __future__ import annotations

import copy

# Building blocks shared by several presets -------------------------------------------------


def _dense(units: int, activation: str = "relu", n: int = 1) -> list[dict]:
    return [{"type": "dense", "units": units, "activation": activation} for _ in range(n)]


# noisy moons with few points (75 to train on): easy to underfit with a tiny net, easy to
# overfit with a big one
_HALF = {"train": 0.5, "val": 0.25, "test": 0.25}
_NOISY_MOONS = {"dataset": "moons", "n_samples": 150, "noise": 0.4, "split": _HALF}
_BIG_MLP = _dense(128, "relu", 3)
_OVERFIT_TRAINING = {"epochs": 200, "batch_size": 16}
_BIG_ADAM = {"name": "adam", "lr": 0.01}
_DEEP = 8  # hidden layers in the vanishing-gradient pair
_DIGITS = {"dataset": "digits", "n_samples": 600, "noise": 0.0}
_SMALL_CNN = [
    {"type": "conv2d", "filters": 8, "kernel": 3, "padding": "same", "activation": "relu"},
    {"type": "maxpool2d", "kernel": 2},
    {"type": "conv2d", "filters": 16, "kernel": 3, "padding": "same", "activation": "relu"},
    {"type": "maxpool2d", "kernel": 2},
    {"type": "flatten"},
    {"type": "dense", "units": 32, "activation": "relu"},
]


def _preset(slug: str, title: str, lesson: str, spec: dict) -> dict:
    # deep copy: presets share building blocks, and a caller may edit one preset's spec
    return {"slug": slug, "title": title, "lesson": lesson, "spec": copy.deepcopy({"name": title, **spec})}


PRESETS: list[dict] = [
    # -- capacity ----------------------------------------------------------------------------
    _preset(
        "underfit-tiny-mlp", "Underfitting: a network too small",
        "One hidden layer of two units can only draw an almost straight boundary: training and "
        "validation loss stay high together. That is underfitting (high bias). Add units or layers.",
        {"data": _NOISY_MOONS, "model": {"layers": _dense(2, "tanh")},
         "optimizer": {"name": "adam", "lr": 0.02}, "training": {"epochs": 80, "batch_size": 16}},
    ),
    _preset(
        "overfit-huge-mlp", "Overfitting: a network too big for 75 points",
        "Three layers of 128 units memorize the noise: the boundary wraps around single points, "
        "training loss keeps falling while validation loss turns up. That gap is overfitting (high variance).",
        {"data": _NOISY_MOONS, "model": {"layers": _BIG_MLP},
         "optimizer": _BIG_ADAM, "training": _OVERFIT_TRAINING, "monitor": {"boundary_every": 4}},
    ),
    # -- gradients and initialization ---------------------------------------------------------
    _preset(
        "vanishing-gradients-sigmoid", "Vanishing gradients: a deep sigmoid network",
        "Eight sigmoid layers: each multiplies the gradient by at most 0.25, so the gradient-flow "
        "heatmap goes dark towards the input and the first layers barely learn. Compare with the ReLU + He preset.",
        {"data": {"dataset": "circle"}, "model": {"layers": _dense(16, "sigmoid", _DEEP),
                                                  "init": {"weights": "xavier_normal", "bias": "zeros"}},
         "optimizer": {"name": "sgd", "lr": 0.1}, "training": {"epochs": 40}},
    ),
    _preset(
        "relu-he-init", "The fix: ReLU with He initialization",
        "The same eight layers with ReLU and He (kaiming) initialization keep the gradient norm "
        "roughly constant from layer to layer, and the network trains.",
        {"data": {"dataset": "circle"}, "model": {"layers": _dense(16, "relu", _DEEP),
                                                  "init": {"weights": "kaiming_normal", "bias": "zeros"}},
         "optimizer": {"name": "sgd", "lr": 0.1}, "training": {"epochs": 40}},
    ),
    _preset(
        "dead-relu-high-lr", "Dead ReLUs: a learning rate too high",
        "A too-large step pushes many ReLU units into the region where they output zero for every "
        "input. Their gradient is zero too, so they never recover: watch the dead fraction jump. "
        "Try leaky_relu, or a lower learning rate.",
        {"data": {"dataset": "spiral", "n_samples": 400, "noise": 0.1},
         "model": {"layers": _dense(32, "relu", 3)},
         "optimizer": {"name": "sgd", "lr": 2.0}, "training": {"epochs": 40}},
    ),
    _preset(
        "init-zeros-symmetry", "Zero initialization: no symmetry breaking",
        "With every weight zero, all units of a layer compute the same thing and get the same "
        "gradient, so they stay identical forever: the network behaves as if it had one unit per layer. "
        "Switch the init to kaiming_normal and train again.",
        {"data": {"dataset": "xor"}, "model": {"layers": _dense(8, "tanh", 2),
                                               "init": {"weights": "zeros", "bias": "zeros"}},
         "optimizer": {"name": "sgd", "lr": 0.1}, "training": {"epochs": 40}},
    ),
    _preset(
        "init-xavier-vs-he", "Xavier vs He initialization on a deep tanh network",
        "Xavier (Glorot) keeps the activation variance steady for tanh; He doubles it, which suits "
        "ReLU. Watch the activation std per layer, then switch the init and compare.",
        {"data": {"dataset": "circle"}, "model": {"layers": _dense(32, "tanh", 6),
                                                                     "init": {"weights": "xavier_normal", "bias": "zeros"}},
         "optimizer": {"name": "sgd", "lr": 0.05}, "training": {"epochs": 40}},
    ),
    # -- optimizers ----------------------------------------------------------------------------
    _preset(
        "sgd-plain", "Plain SGD on the spiral",
        "Plain SGD follows the steepest direction of each mini-batch: slow in long narrow valleys. "
        "Switch the optimizer to momentum, nesterov, then adam, and compare the loss curves.",
        {"data": {"dataset": "spiral", "n_samples": 400, "noise": 0.1}, "model": {"layers": _dense(32, "relu", 2)},
         "optimizer": {"name": "sgd", "lr": 0.05}, "training": {"epochs": 60}},
    ),
    _preset(
        "momentum-nesterov", "Momentum and Nesterov",
        "Momentum accumulates a velocity so consistent directions speed up and oscillations cancel; "
        "Nesterov looks ahead before stepping. Same lr as plain SGD, much faster progress.",
        {"data": {"dataset": "spiral", "n_samples": 400, "noise": 0.1}, "model": {"layers": _dense(32, "relu", 2)},
         "optimizer": {"name": "nesterov", "lr": 0.05, "momentum": 0.9}, "training": {"epochs": 60}},
    ),
    _preset(
        "adam", "Adam: per-parameter step sizes",
        "Adam scales each parameter's step by a running estimate of its gradient's magnitude, so "
        "it needs little tuning. Compare its update/weight ratios with SGD's.",
        {"data": {"dataset": "spiral", "n_samples": 400, "noise": 0.1}, "model": {"layers": _dense(32, "relu", 2)},
         "optimizer": {"name": "adam", "lr": 0.01}, "training": {"epochs": 60}},
    ),
    # -- learning rate -------------------------------------------------------------------------
    _preset(
        "lr-too-high", "A learning rate too high: divergence",
        "On a regression (mean squared error) each step overshoots the minimum by more than it "
        "started from, so the loss grows geometrically until it is no longer a number and the run "
        "stops as diverged. Lower the learning rate to 0.05 and it trains.",
        {"data": {"dataset": "plane"}, "model": {"layers": _dense(16, "relu", 2)},
         "optimizer": {"name": "sgd", "lr": 5.0}, "training": {"epochs": 20}},
    ),
    _preset(
        "lr-range-test", "LR range test: find a good learning rate",
        "The learning rate grows exponentially every step while we record the loss (Smith 2017). "
        "Pick the lr where the loss falls fastest, press 'Apply this lr', and train.",
        # digits with SGD shows the textbook curve: flat, a steep fall, then the blow-up
        {"mode": "lr_finder", "data": {"dataset": "digits", "noise": 0.0},
         "model": {"layers": [{"type": "dense", "units": 64, "activation": "relu"}]},
         "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9}, "training": {"batch_size": 64, "epochs": 20},
         "lr_finder": {"start_lr": 1e-5, "end_lr": 10.0, "steps": 100}},
    ),
    _preset(
        "warmup-cosine", "Warm-up then cosine decay",
        "A linear warm-up avoids large early steps while statistics (and Adam's moments) settle; "
        "cosine decay then shrinks the step smoothly to fine-tune. See the learning-rate panel.",
        {"data": {"dataset": "spiral", "n_samples": 400, "noise": 0.1}, "model": {"layers": _dense(32, "relu", 2)},
         "optimizer": {"name": "adam", "lr": 0.02},
         "schedule": {"name": "cosine", "warmup_epochs": 5, "min_lr": 0.0005}, "training": {"epochs": 60}},
    ),
    _preset(
        "step-decay", "Step decay",
        "Dividing the learning rate by ten at set epochs gives the classic staircase loss curve: "
        "each drop lets the optimizer settle deeper into the valley it bounced around in.",
        {"data": {"dataset": "spiral", "n_samples": 400, "noise": 0.1}, "model": {"layers": _dense(32, "relu", 2)},
         "optimizer": {"name": "momentum", "lr": 0.1, "momentum": 0.9},
         "schedule": {"name": "multistep", "milestones": [25, 45], "gamma": 0.1}, "training": {"epochs": 60}},
    ),
    # -- regularization ------------------------------------------------------------------------
    _preset(
        "l2-weight-decay", "L2 penalty / weight decay against overfitting",
        "The overfitting network again, now with an L2 penalty pulling every weight towards zero: a "
        "smoother boundary and a much smaller train/val gap. Try decoupled weight_decay (about 1.0 here) instead.",
        {"data": _NOISY_MOONS, "model": {"layers": _BIG_MLP},
         "optimizer": _BIG_ADAM, "regularization": {"l2": 0.01},
         "training": _OVERFIT_TRAINING, "monitor": {"boundary_every": 4}},
    ),
    _preset(
        "l1-max-norm", "L1 penalty and max-norm",
        "The L1 penalty drives many weights exactly to zero (a sparse network); max-norm caps the "
        "norm of each unit's incoming weights. Both shrink the capacity the big network uses.",
        {"data": _NOISY_MOONS, "model": {"layers": _BIG_MLP},
         "optimizer": _BIG_ADAM, "regularization": {"l1": 0.001, "max_norm": 1.0},
         "training": _OVERFIT_TRAINING, "monitor": {"boundary_every": 4}},
    ),
    _preset(
        "dropout", "Dropout",
        "Randomly zeroing half of the units at every step stops them from co-adapting to memorize "
        "points; at test time all units are used. The boundary of the overfitting network smooths out.",
        {"data": _NOISY_MOONS,
         "model": {"layers": [*_dense(128), {"type": "dropout", "p": 0.5}, *_dense(128),
                              {"type": "dropout", "p": 0.5}, *_dense(128), {"type": "dropout", "p": 0.5}]},
         "optimizer": _BIG_ADAM, "training": _OVERFIT_TRAINING, "monitor": {"boundary_every": 4}},
    ),
    _preset(
        "batchnorm", "Batch normalization",
        "Normalizing each layer's pre-activations per mini-batch keeps them in a good range, so the "
        "deep sigmoid network that barely trained now trains, even with a larger learning rate.",
        {"data": {"dataset": "circle"},
         "model": {"layers": [layer for _ in range(_DEEP) for layer in (
             {"type": "dense", "units": 16, "activation": "linear"}, {"type": "batchnorm"},
             {"type": "activation", "fn": "sigmoid"})]},
         "optimizer": {"name": "sgd", "lr": 0.5}, "training": {"epochs": 40}},
    ),
    _preset(
        "early-stopping", "Early stopping",
        "Stop when validation loss has not improved for 25 epochs and keep the best weights: the "
        "cheapest regularizer there is. The summary shows the best epoch.",
        {"data": _NOISY_MOONS, "model": {"layers": _BIG_MLP}, "optimizer": _BIG_ADAM,
         "regularization": {"early_stopping": {"metric": "val_loss", "patience": 25, "restore_best": True}},
         "training": _OVERFIT_TRAINING, "monitor": {"boundary_every": 4}},
    ),
    _preset(
        "augment-digits", "Data augmentation on handwritten digits",
        "A small CNN on 600 8x8 digits. Small rotations and shifts make new training images for free; "
        "remove the augmentations and watch the train/val gap grow.",
        {"data": _DIGITS, "model": {"layers": _SMALL_CNN},
         "augment": [{"type": "rotate", "degrees": 10, "p": 0.5}, {"type": "translate", "shift": 0.125, "p": 0.5}],
         "optimizer": {"name": "adam", "lr": 0.003}, "training": {"epochs": 25, "batch_size": 32}},
    ),
    # -- memorization --------------------------------------------------------------------------
    _preset(
        "label-noise", "Label noise",
        "30% of the training labels are flipped. A big network first learns the true pattern "
        "(validation accuracy peaks), then memorizes the wrong labels and validation accuracy falls.",
        {"data": {"dataset": "moons", "n_samples": 160, "noise": 0.1, "label_noise": 0.3, "split": _HALF},
         "model": {"layers": _dense(128, "tanh", 3)}, "optimizer": {"name": "adam", "lr": 0.003},
         "training": {"epochs": 300, "batch_size": 16}, "monitor": {"boundary_every": 5}},
    ),
    _preset(
        "random-labels", "Random labels: memorization",
        "Every label is random, so there is nothing to learn, yet a big enough network drives "
        "training accuracy to 100% while validation stays at chance (Zhang et al. 2017).",
        {"data": {"dataset": "gauss", "n_samples": 120, "random_labels": True, "split": _HALF},
         "model": {"layers": _dense(128, "tanh", 3)}, "optimizer": {"name": "adam", "lr": 0.003},
         "training": {"epochs": 300, "batch_size": 16}, "monitor": {"boundary_every": 5}},
    ),
    _preset(
        "double-descent", "Double descent on a noisy polynomial",
        "Twenty noisy points of a cubic and one hidden layer about as wide as the data: near this "
        "interpolation threshold the fit wiggles wildly and test error peaks. Try widths 4, 20, 200 and 1000: "
        "past the threshold, test error falls again.",
        {"data": {"dataset": "poly1d", "n_samples": 30, "noise": 0.2, "degree": 3,
                  "split": {"train": 0.66, "val": 0.17, "test": 0.17}},
         "model": {"layers": _dense(20, "relu")}, "optimizer": {"name": "adam", "lr": 0.01},
         "training": {"epochs": 400, "batch_size": 20}, "monitor": {"boundary_every": 5}},
    ),
    # -- loss landscape ------------------------------------------------------------------------
    _preset(
        "loss-landscape", "Loss landscape and the training trajectory",
        "The loss on a plane through the trained weights along filter-normalized directions "
        "(Li et al. 2018), with the path training took projected onto its two main (PCA) directions.",
        {"data": {"dataset": "moons", "n_samples": 300}, "model": {"layers": _dense(16, "relu", 2)},
         "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}, "training": {"epochs": 30},
         "monitor": {"landscape": {"mode": "2d", "resolution": 21, "span": 1.0, "trajectory": True}}},
    ),
]

# -- transfer learning (issue 9): pretrain on digits 0-4, fine-tune on 5-9 with 50 images each ----
_TRANSFER_CNN = [
    {"type": "conv2d", "filters": 16, "kernel": 3, "activation": "relu"},
    {"type": "maxpool2d", "kernel": 2},
    {"type": "conv2d", "filters": 32, "kernel": 3, "activation": "relu"},
    {"type": "dense", "units": 64, "activation": "relu"},
]
TRANSFER_PLACEHOLDER = "paste-the-pretrain-run-id"  # model.init_from.run until the student fills it in
_FEW_HIGH_DIGITS = {"dataset": "digits", "classes": [5, 6, 7, 8, 9], "per_class": 50}
_TRANSFER_TRAINING = {"optimizer": {"name": "momentum", "lr": 0.02}, "training": {"epochs": 5, "batch_size": 25}}
_TRANSFER_SCRATCH = {"name": "Digits 5-9 from scratch (250 images)", "seed": 0, "data": _FEW_HIGH_DIGITS,
                     "model": {"layers": _TRANSFER_CNN}, **_TRANSFER_TRAINING}
_TRANSFER_FINETUNE = {**_TRANSFER_SCRATCH, "name": "Digits 5-9 fine-tuned from 0-4 (250 images)",
                      "model": {"layers": _TRANSFER_CNN,
                                "init_from": {"run": TRANSFER_PLACEHOLDER, "weights": "final",
                                              "exclude": ["dense1", "output"]}}}
PRESETS += [
    _preset(
        "transfer-pretrain", "Transfer learning, step 1: pretrain on the digits 0-4",
        "Train a small CNN on every image of the digits 0 to 4. Its convolutions learn strokes, "
        "curves and corners that the other digits are drawn with too. When it has finished, copy "
        "this run's id from its address: step 2 starts from its weights.",
        {"seed": 0, "data": {"dataset": "digits", "classes": [0, 1, 2, 3, 4]},
         "model": {"layers": _TRANSFER_CNN}, "optimizer": {"name": "adam", "lr": 0.003}, "training": {"epochs": 8}},
    ),
    _preset(
        "transfer-finetune", "Transfer learning, step 2: 50 images each of 5-9, from scratch vs fine-tuned",
        "Only 250 images of the digits 5 to 9. This run learns them from scratch. Then edit it: add "
        "\"init_from\": {\"run\": \"<the step-1 run's id>\", \"exclude\": [\"dense1\", \"output\"]} to the "
        "model and run it again. The two convolutions now start from what they learned on 0-4 (the "
        "dense layer and the new output layer start fresh): the fine-tuned run is ahead from the first "
        "epoch and ends higher. Then try \"freeze\": true on the convolutions to train only the head.",
        _TRANSFER_SCRATCH,
    ),
]
PRESETS[-1]["panel"], PRESETS[-1]["watch"] = "accuracy", "Validation accuracy after each epoch, fine-tuned vs scratch."

# Lessons of issue 7 and, for every preset, the panel to watch, one sentence of what to
# look for, the runs to compare ("Run both") and spec.lesson = its slug (webapp/lessons).
from webapp.lessons.catalog import LESSONS, annotate  # noqa: E402

PRESETS += LESSONS
annotate(PRESETS)
