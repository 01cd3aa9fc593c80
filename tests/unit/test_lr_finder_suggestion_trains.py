"""The LR range test's suggestion trains (issue 9 §4): on noisy mini-batches, training at the
suggested lr reaches at least 90 % of the best final validation accuracy of a log-spaced
sweep of learning rates on the same setup (same seed, data, model and epochs)."""

import pytest

from training.loop import ListSink, train
from training.spec import validate

SETUPS = {
    "digits": {"data": {"dataset": "digits", "n_samples": 1797, "noise": 0.0},
               "model": {"layers": [{"type": "dense", "units": 32}]}, "training": {"epochs": 4, "batch_size": 32}},
    "mnist1d": {"data": {"dataset": "mnist1d", "n_samples": 4000},
                "model": {"layers": [{"type": "dense", "units": 128}, {"type": "dense", "units": 128}]},
                "training": {"epochs": 6, "batch_size": 32}},
    "moons": {"data": {"dataset": "moons", "n_samples": 400, "noise": 0.2},
              "model": {"layers": [{"type": "dense", "units": 16}, {"type": "dense", "units": 16}]},
              "training": {"epochs": 10, "batch_size": 16}},
}
SWEEP = [10 ** (k / 2) for k in range(-6, 1)]  # 1e-3 ... 1


def doc(setup: str, optimizer: str, **extra) -> dict:
    return {"seed": 0, "monitor": {"diagnostics": False, "boundary": False}, **SETUPS[setup],
            "optimizer": {"name": optimizer, "lr": 0.01}, **extra}


def val_acc(setup: str, optimizer: str, lr: float) -> float:
    d = doc(setup, optimizer)
    d["optimizer"]["lr"] = lr
    sink = ListSink()
    status = train(validate(d), sink)
    return 0.0 if status == "diverged" else sink.of("summary")[0]["val_acc"]  # a diverged run learnt nothing


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("setup", list(SETUPS))
def test_training_at_the_suggestion_reaches_90_percent_of_the_best_swept_lr(setup, optimizer):
    sink = ListSink()
    train(validate(doc(setup, optimizer, mode="lr_finder", lr_finder={"start_lr": 1e-5, "end_lr": 10})), sink)
    (ev,) = sink.of("lr_finder")
    assert ev["steps"] >= 100 and ev["rule"] == "valley"
    best = max(val_acc(setup, optimizer, lr) for lr in SWEEP)
    got = val_acc(setup, optimizer, ev["suggestion"])
    print(f"{setup} {optimizer}: suggestion {ev['suggestion']:.3g} val_acc {got:.3f} best of sweep {best:.3f}")
    assert got >= 0.9 * best, (ev["suggestion"], got, best)
