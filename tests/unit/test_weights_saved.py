"""Every finished run keeps its weights (safetensors, spec beside them); best ones with early stopping."""

import pytest
import torch

from training import weights as W
from training.data import load
from training.loop import ListSink, evaluate, train
from training.losses import build_loss
from training.spec import validate

QUIET = {"monitor": {"diagnostics": False, "boundary": False}}
NET = {"layers": [{"type": "dense", "units": 12, "activation": "tanh"}, {"type": "batchnorm"},
                  {"type": "residual", "layers": [{"type": "dense", "units": 12, "activation": "prelu"}]}]}


def run(doc, tmp_path, name="run"):
    spec = validate({**doc, **QUIET})
    sink = ListSink()
    result = train(spec, sink, artifacts_dir=tmp_path / name)
    return spec, result, sink


def metrics_of(path, spec, split):
    net, _, _ = W.rebuild(path)
    data = load(spec)
    loss_fn = build_loss(spec.loss, data.task, data.n_classes, 0.0)
    m, _ = evaluate(net, loss_fn, getattr(data, f"x_{split}"), getattr(data, f"y_{split}"), data.task)
    return m


def test_final_weights_rebuild_the_network_that_was_evaluated(tmp_path):
    spec, result, _ = run({"seed": 4, "data": {"dataset": "spiral", "n_samples": 200, "n_classes": 3},
                           "model": NET, "training": {"epochs": 3}}, tmp_path)
    path = tmp_path / "run" / "final.safetensors"
    tensors, meta = W.read(path)
    assert meta["format"] == W.FORMAT and meta["which"] == "final" and meta["epoch"] == 3
    assert validate(meta["spec"]) == spec  # the spec beside the weights rebuilds the run
    # an identity skip has no tensors of its own: the body's layers carry them
    assert {k.split(".")[0] for k in tensors} == {"dense1", "batchnorm1", "dense2", "output"}
    assert "batchnorm1.body.running_var" in tensors and "dense2.act.weight" in tensors  # buffers, PReLU
    m = metrics_of(path, spec, "test")
    assert m["loss"] == pytest.approx(result.summary["test_loss"], abs=1e-6)
    assert m["acc"] == pytest.approx(result.summary["test_acc"])
    assert not (tmp_path / "run" / "best.safetensors").exists()  # no early stopping, no best


def test_early_stopping_keeps_the_best_epochs_weights_apart(tmp_path):
    doc = {"seed": 1, "data": {"dataset": "moons", "n_samples": 150, "noise": 0.4},
           "model": {"layers": [{"type": "dense", "units": 64}] * 2}, "optimizer": {"lr": 0.05},
           "regularization": {"early_stopping": {"patience": 3}}, "training": {"epochs": 60, "batch_size": 8}}
    spec, result, _ = run(doc, tmp_path)
    s = result.summary
    assert s["early_stopped"] and s["best_epoch"] < s["epochs_run"]
    best, final = tmp_path / "run" / "best.safetensors", tmp_path / "run" / "final.safetensors"
    assert W.read(best)[1]["epoch"] == s["best_epoch"] and W.read(final)[1]["epoch"] == s["epochs_run"]
    # the summary is measured after restoring the best epoch: the best file reproduces it
    assert metrics_of(best, spec, "val")["loss"] == pytest.approx(s["val_loss"], abs=1e-6)
    assert metrics_of(final, spec, "val")["loss"] > s["val_loss"]


def test_a_diverged_run_keeps_no_weights(tmp_path):
    _, result, _ = run({"data": {"dataset": "plane"}, "optimizer": {"name": "sgd", "lr": 90},
                        "training": {"epochs": 3}}, tmp_path)
    assert result.status == "diverged"
    assert not (tmp_path / "run").exists()


def test_a_stopped_run_keeps_the_weights_it_reached(tmp_path):
    spec = validate({"data": {"dataset": "xor"}, "training": {"epochs": 5}, **QUIET})
    result = train(spec, ListSink(stop_after_steps=3), artifacts_dir=tmp_path / "stopped")
    assert result.status == "cancelled"
    assert result.summary["steps"] == 3
    assert W.read(tmp_path / "stopped" / "final.safetensors")[1]["epoch"] == result.summary["epochs_run"] == 1


def test_readable_names_put_each_tensor_under_its_layer():
    from training.model import build_model

    spec = validate({"data": {"dataset": "digits"}, "model": {"layers": [
        {"type": "conv2d", "filters": 4}, {"type": "residual", "layers": [{"type": "conv2d", "filters": 6}]},
        {"type": "dense", "units": 5}]}})
    net = build_model(spec, (1, 8, 8), 10)
    names = list(W.readable_state(net))
    assert names == ["conv1.body.weight", "conv1.body.bias", "conv2.body.weight", "conv2.body.bias",
                     "residual1.body.projection.weight", "residual1.body.projection.bias",
                     "dense1.body.1.weight", "dense1.body.1.bias", "output.body.weight", "output.body.bias"]
    assert all(torch.equal(a, b) for a, b in zip(W.readable_state(net).values(), net.state_dict().values()))
