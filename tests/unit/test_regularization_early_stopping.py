"""Early stopping stops within patience of the best epoch and restores its weights."""

import torch
from torch import nn

from training.loop import ListSink, train
from training.optim import EarlyStopper
from training.spec import validate


def es(**kw):
    return validate({"regularization": {"early_stopping": kw}}).regularization.early_stopping


def test_stops_patience_epochs_after_the_best_and_restores_it():
    net = nn.Linear(2, 1)
    stopper = EarlyStopper(es(patience=3))
    losses = [1.0, 0.8, 0.5, 0.6, 0.55, 0.7, 0.4]
    for epoch, loss in enumerate(losses, 1):
        with torch.no_grad():
            net.weight.fill_(epoch)
        if stopper.update(epoch, {"val_loss": loss}, net):
            break
    assert stopper.stopped and epoch == 6 and stopper.best_epoch == 3
    stopper.restore(net)
    assert torch.all(net.weight == 3)


def test_min_delta_and_accuracy_metrics():
    stopper = EarlyStopper(es(metric="val_acc", patience=2, min_delta=0.05))
    net = nn.Linear(1, 1)
    assert not stopper.update(1, {"val_acc": 0.5}, net)
    assert not stopper.update(2, {"val_acc": 0.53}, net)  # not better by more than min_delta
    assert stopper.update(3, {"val_acc": 0.9 - 0.36}, net)
    assert stopper.best_epoch == 1


def test_without_restore_the_last_weights_stay():
    stopper = EarlyStopper(es(patience=1, restore_best=False))
    net = nn.Linear(1, 1)
    stopper.update(1, {"val_loss": 1.0}, net)
    with torch.no_grad():
        net.weight.fill_(7)
    assert stopper.update(2, {"val_loss": 2.0}, net)
    stopper.restore(net)
    assert net.weight.item() == 7


def test_trainer_stops_early_and_reports_the_best_epoch():
    spec = validate({"data": {"dataset": "xor", "n_samples": 200, "label_noise": 0.3}, "seed": 1,
                     "model": {"layers": [{"type": "dense", "units": 64}, {"type": "dense", "units": 64}]},
                     "optimizer": {"lr": 0.05}, "training": {"epochs": 80},
                     "monitor": {"diagnostics": False, "boundary": False},
                     "regularization": {"early_stopping": {"patience": 5}}})
    sink = ListSink()
    train(spec, sink)
    summary = sink.of("summary")[0]
    epochs = sink.of("epoch")
    assert summary["early_stopped"] and summary["epochs_run"] == summary["best_epoch"] + 5 < 80
    best = min(epochs, key=lambda e: e["val_loss"])
    assert best["epoch"] == summary["best_epoch"]
    assert abs(summary["val_loss"] - best["val_loss"]) < 1e-6  # the best weights are back
