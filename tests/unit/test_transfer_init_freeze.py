"""model.init_from loads matching layers; "freeze" keeps a layer fixed; data.classes / per_class."""

import pytest
import torch

from training import weights as W
from training.check import check
from training.data import load
from training.loop import ListSink, train
from training.model import build_model
from training.spec import SpecError, validate

QUIET = {"monitor": {"diagnostics": False, "boundary": False}}
HIDDEN = [{"type": "dense", "units": 12, "activation": "tanh"}, {"type": "batchnorm"},
          {"type": "dense", "units": 6, "activation": "relu"}]
SOURCE = {"seed": 0, "data": {"dataset": "spiral", "n_samples": 150, "n_classes": 3},
          "model": {"layers": HIDDEN}, "training": {"epochs": 3, "batch_size": 16}}


@pytest.fixture
def source(tmp_path):
    assert train(validate({**SOURCE, **QUIET}), ListSink(), artifacts_dir=tmp_path / "src") == "succeeded"
    return W.read(tmp_path / "src" / "final.safetensors")[0]


def final(tmp_path, doc, name):
    result = train(validate({**doc, **QUIET}), ListSink(), artifacts_dir=tmp_path / name)
    assert result == "succeeded", result.message
    return W.read(tmp_path / name / "final.safetensors")[0]


def initial(doc, input_shape=(2,), out_dim=4):
    spec = validate(doc)
    torch.manual_seed(spec.seed)
    return W.readable_state(build_model(spec, input_shape, out_dim))


def test_init_from_loads_layers_whose_name_and_shape_match_and_initializes_the_rest(tmp_path, source):
    # four classes now: the output layer's shape differs, so it starts as a fresh one would
    doc = {"seed": 5, "data": {"dataset": "spiral", "n_samples": 150, "n_classes": 4},
           "model": {"layers": HIDDEN, "init_from": {"run": "src"}}, "optimizer": {"lr": 1e-9},
           "training": {"epochs": 1}}
    torch.manual_seed(5)
    net = build_model(validate(doc), (2,), 4)
    report = W.load_matching(net, tmp_path / "src" / "final.safetensors")
    assert report["loaded"] == ["batchnorm1", "dense1", "dense2"]
    assert report["skipped"]["output"].startswith("shape [3, 6] saved")
    got = W.readable_state(net)
    fresh = initial({k: v for k, v in doc.items() if k != "model"} | {"model": {"layers": HIDDEN}})
    assert torch.equal(got["dense1.body.weight"], source["dense1.body.weight"])
    assert torch.equal(got["batchnorm1.body.running_var"], source["batchnorm1.body.running_var"])
    assert torch.equal(got["output.body.weight"], fresh["output.body.weight"])
    # and the trainer does the same: with a vanishing lr the trained weights stay the loaded ones
    trained = final(tmp_path, doc, "ft")
    assert torch.allclose(trained["dense1.body.weight"], source["dense1.body.weight"], atol=1e-6)


def test_exclude_starts_named_layers_afresh(tmp_path, source):
    doc = {**SOURCE, "seed": 7, "model": {"layers": HIDDEN, "init_from": {"run": "src", "exclude": ["dense2"]}}}
    torch.manual_seed(7)
    net = build_model(validate(doc), (2,), 3)
    report = W.load_matching(net, tmp_path / "src" / "final.safetensors", ["dense2"])
    assert "dense2" not in report["loaded"] and "output" in report["loaded"]
    assert torch.equal(W.readable_state(net)["dense2.body.weight"], initial(doc, out_dim=3)["dense2.body.weight"])


def test_frozen_layers_stay_unchanged_under_decay_penalties_and_max_norm(tmp_path, source):
    layers = [dict(HIDDEN[0], freeze=True), dict(HIDDEN[1], freeze=True), HIDDEN[2]]
    doc = {**SOURCE, "seed": 2, "model": {"layers": layers, "init_from": {"run": "src"}},
           "optimizer": {"name": "momentum", "lr": 0.1},
           "regularization": {"weight_decay": 0.5, "l1": 0.01, "l2": 0.01, "max_norm": 0.5}}
    trained = final(tmp_path, doc, "frozen")
    for key in ("dense1.body.weight", "dense1.body.bias", "batchnorm1.body.weight", "batchnorm1.body.bias",
                "batchnorm1.body.running_mean", "batchnorm1.body.running_var"):
        assert torch.equal(trained[key], source[key]), key
    # the layer that is not frozen trains, and max-norm holds it
    assert not torch.equal(trained["dense2.body.weight"], source["dense2.body.weight"])
    assert trained["dense2.body.weight"].norm(dim=1).max() <= 0.5 + 1e-5


def test_freeze_without_init_from_keeps_the_initialization(tmp_path):
    layers = [dict(HIDDEN[0], freeze=True), *HIDDEN[1:]]
    doc = {**SOURCE, "model": {"layers": layers}, "regularization": {"weight_decay": 0.1}}
    trained = final(tmp_path, doc, "frozen-init")
    assert torch.equal(trained["dense1.body.weight"], initial(doc, out_dim=3)["dense1.body.weight"])


def test_a_frozen_residual_freezes_its_body_and_the_optimizer_skips_it():
    doc = {"model": {"layers": [{"type": "residual", "freeze": True, "layers": [{"type": "dense", "units": 2}]},
                                {"type": "dense", "units": 4}]}}
    net = build_model(validate(doc), (2,), 2)
    frozen = {k for k, p in zip(W.readable_state(net), net.parameters()) if not p.requires_grad}
    assert frozen == {"dense1.body.weight", "dense1.body.bias"}


def test_freeze_on_a_layer_without_parameters_is_an_error():
    with pytest.raises(SpecError) as exc:
        check({"model": {"layers": [{"type": "dense"}, {"type": "dropout", "freeze": True}]}})
    assert exc.value.errors[0]["path"] == "/model/layers/1/freeze"


def test_init_from_a_missing_file_stops_the_run_with_a_clear_message(tmp_path):
    spec = validate({"model": {"init_from": {"run": "nosuchrun"}}, **QUIET})
    with pytest.raises(FileNotFoundError, match="no final weights of run 'nosuchrun'"):
        train(spec, ListSink(), artifacts_dir=tmp_path / "new")


def test_classes_are_selected_and_relabelled_and_per_class_thins_the_training_split():
    spec = validate({"seed": 3, "data": {"dataset": "digits", "classes": [7, 5, 9], "per_class": 20}})
    bundle = load(spec)
    assert bundle.n_classes == 3
    assert torch.bincount(bundle.y_train).tolist() == [20, 20, 20]
    assert len(bundle.x_val) > 60 and set(bundle.y_val.tolist()) == {0, 1, 2}  # val/test keep every sample
    _, summary = check({"data": {"dataset": "digits", "classes": [7, 5, 9]}})
    assert summary["n_classes"] == 3  # the output layer has three units
    with pytest.raises(SpecError) as exc:
        check({"data": {"dataset": "moons", "classes": [0, 2]}})
    assert exc.value.errors[0]["path"] == "/data/classes"
