"""SWA, stochastic depth, LAMB and repeated augmentation through the spec and the trainer."""

import pytest
import torch

from training.events import validate_event
from training.loop import ListSink, Trainer, train
from training.spec import SpecError, validate

BASE = {"seed": 0, "data": {"dataset": "moons", "n_samples": 200}, "training": {"epochs": 6, "batch_size": 32},
        "monitor": {"boundary": False, "diagnostics": False}}


def _run(**overrides):
    doc = {**BASE, **overrides}
    sink = ListSink()
    result = train(validate(doc), sink)
    for e in sink.events:
        validate_event(e)
    return result, sink


def test_swa_reports_the_averaged_weights_beside_the_raw_ones():
    result, sink = _run(regularization={"swa": {"start_epoch": 3, "lr": 0.005, "every": 1}})
    assert result.status == "succeeded"
    swa = result.summary["swa"]
    assert swa["snapshots"] == 4 and swa["start_epoch"] == 3
    assert swa["val_loss"] != result.summary["val_loss"]  # the average is not the last iterate
    epochs = sink.of("epoch")
    assert [e["lr"] for e in epochs] == [0.01, 0.01, 0.005, 0.005, 0.005, 0.005]
    assert [e.get("swa_val_loss") is not None for e in epochs] == [False, False, True, True, True, True]
    assert epochs[-1]["swa_val_loss"] == pytest.approx(swa["val_loss"])


def test_swa_that_starts_after_the_last_epoch_is_refused():
    with pytest.raises(SpecError) as err:
        validate({**BASE, "regularization": {"swa": {"start_epoch": 7}}})
    assert err.value.errors[0]["path"] == "/regularization/swa/start_epoch"


def test_stochastic_depth_drops_the_branch_in_training_only():
    doc = {**BASE, "model": {"layers": [{"type": "dense", "units": 8, "activation": "relu"},
                                        {"type": "residual", "drop_path": 0.5,
                                         "layers": [{"type": "dense", "units": 8, "activation": "relu"}]}]}}
    t = Trainer(validate(doc), ListSink())
    t.setup()
    block = next(u.body for u in t.net.units if u.kind == "residual")
    assert block.drop_path == 0.5
    x = torch.randn(64, 8)
    block.eval()
    assert torch.equal(block(x), block(x))  # evaluation: deterministic, nothing dropped
    block.train()
    torch.manual_seed(0)
    a = block(x)
    skip_only = (a == x).all(1).float().mean().item()  # branch dropped: output is the skip alone
    assert 0.3 < skip_only < 0.7
    result, _ = _run(model=doc["model"])
    assert result.status == "succeeded"


def test_lamb_trains_the_default_network():
    result, sink = _run(optimizer={"name": "lamb", "lr": 0.02}, training={"epochs": 15, "batch_size": 32})
    losses = [e["train_loss"] for e in sink.of("epoch")]
    assert result.status == "succeeded" and losses[-1] < 0.8 * losses[0]


def test_lamb_rejects_hyperparameters_it_does_not_have():
    with pytest.raises(SpecError) as err:
        validate({"optimizer": {"name": "lamb", "momentum": 0.9}})
    assert err.value.errors[0]["path"] == "/optimizer/momentum"


def test_repeated_augmentation_feeds_k_differently_augmented_copies_of_each_sample():
    doc = {**BASE, "augment": [{"type": "gaussian_noise", "std": 0.1}], "training": {"epochs": 1, "batch_size": 16,
                                                                                      "repeated_augment": 3}}
    t = Trainer(validate(doc), ListSink())
    t.setup()
    seen = []
    t.net.register_forward_pre_hook(lambda _m, args: seen.append(args[0].detach().clone()) if t.net.training else None)
    xb, yb = next(t.batches())
    t._train_step(xb, yb, 1, record_grads=False)
    batch = seen[0]
    assert batch.shape[0] == 3 * len(xb)
    copies = batch.reshape(3, len(xb), -1)
    assert not torch.allclose(copies[0], copies[1])  # each copy has its own noise
    assert torch.allclose(copies.mean(0), xb.reshape(len(xb), -1), atol=0.25)  # ... around the same samples


def test_repeated_augmentation_without_an_augmentation_is_refused():
    with pytest.raises(SpecError) as err:
        validate({"training": {"repeated_augment": 2}})
    assert err.value.errors[0]["path"] == "/training/repeated_augment"
