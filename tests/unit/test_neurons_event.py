"""The `neurons` event: what each hidden neuron computes over the input plane."""

import json

import torch

from training import neurons
from training.loop import ListSink, Trainer, train
from training.spec import validate


def _run(doc):
    base = {"seed": 0, "data": {"dataset": "xor", "n_samples": 200}, "training": {"epochs": 2, "batch_size": 50},
            "monitor": {"diagnostics": False, "boundary": False}}
    base.update(doc)
    sink = ListSink()
    t = Trainer(validate(base), sink)
    t.run()
    return t, sink


def _decode(grid, scale):
    return torch.tensor(grid, dtype=torch.float32) / 100 * scale


def test_dense_net_on_2d_data_sends_one_neurons_event_per_epoch():
    _, sink = _run({"model": {"layers": [{"type": "dense", "units": 5, "activation": "tanh"},
                                         {"type": "dense", "units": 12, "activation": "relu"}]}})
    evs = sink.of("neurons")
    assert [e["epoch"] for e in evs] == [1, 2]
    first = evs[0]
    assert [layer["units"] for layer in first["layers"]] == [5, 12, 2]
    # at most 8 neurons of a layer travel; the panel writes "+4"
    assert [len(layer["grids"]) for layer in first["layers"]] == [5, 8, 2]
    assert all(len(g) == first["resolution"] ** 2 for layer in first["layers"] for g in layer["grids"])
    # edges between drawn neurons: weights[out][in]
    assert len(first["layers"][1]["weights"]) == 8 and len(first["layers"][1]["weights"][0]) == 5
    # the inputs' grids travel once
    assert [i["name"] for i in first["inputs"]] == ["x1", "x2"] and "inputs" not in evs[1]


def test_neuron_grids_equal_the_networks_own_hidden_outputs():
    t, sink = _run({"model": {"layers": [{"type": "dense", "units": 3, "activation": "tanh"}]}})
    ev = sink.of("neurons")[-1]
    res = ev["resolution"]
    xs = torch.linspace(*ev["x"], res)
    ys = torch.linspace(*ev["y"], res)
    # the centre cell of the plane through the first layer by hand
    i, j = res // 2, res // 3
    point = torch.tensor([[xs[j].item(), ys[i].item()]])
    with torch.no_grad():
        hidden = t.net.units[0](t.data.featurize(point))[0]
    layer = ev["layers"][0]
    for n in range(3):
        got = _decode(layer["grids"][n], layer["scales"][n]).reshape(res, res)[i, j]
        assert abs(got.item() - hidden[n].item()) <= 0.011 * layer["scales"][n] + 1e-4
    assert layer["activation"] == "tanh"


def test_feature_crosses_are_the_input_nodes():
    _, sink = _run({"data": {"dataset": "circle", "n_samples": 200, "features": ["x1", "x2", "x1^2", "sin(x2)"]}})
    assert [i["name"] for i in sink.of("neurons")[0]["inputs"]] == ["x1", "x2", "x1^2", "sin(x2)"]


def test_an_epoch_of_the_default_net_stays_under_the_budget():
    _, sink = _run({})
    for ev in sink.of("neurons"):
        assert len(json.dumps(ev, separators=(",", ":"))) < neurons.MAX_BYTES


def test_estimate_is_an_upper_bound_of_the_real_size():
    _, sink = _run({"model": {"layers": [{"type": "dense", "units": 8, "activation": "relu"}] * 3}})
    ev = sink.of("neurons")[0]
    real = len(json.dumps(ev, separators=(",", ":")))
    assert real <= neurons.estimate_bytes([8, 8, 8, 2], 2, ev["resolution"])


def test_too_big_a_net_gets_a_coarser_grid_or_none():
    wide = [{"type": "dense", "units": 64, "activation": "relu"}]
    _, sink = _run({"model": {"layers": wide * 3}})
    assert sink.of("neurons")[0]["resolution"] < neurons.RESOLUTION
    _, sink = _run({"model": {"layers": wide * 16}})
    (ev,) = sink.of("neurons")
    assert ev["available"] is False and "kB" in ev["reason"]


def test_toggle_off_sends_nothing():
    _, sink = _run({"monitor": {"neurons": False, "diagnostics": False, "boundary": False}})
    assert sink.of("neurons") == []


def test_regression_on_a_line_says_why_there_is_no_view():
    _, sink = _run({"data": {"dataset": "poly1d", "n_samples": 60}})
    (ev,) = sink.of("neurons")
    assert ev["available"] is False and "2-D" in ev["reason"]


def test_images_get_first_conv_filters_and_feature_maps():
    doc = {"data": {"dataset": "digits", "n_samples": 200, "noise": 0.0},
           "model": {"layers": [{"type": "conv2d", "filters": 10, "kernel": 3, "padding": "same",
                                 "activation": "relu"}, {"type": "flatten"}]}}
    _, sink = _run(doc)
    evs = sink.of("neurons")
    first = evs[0]
    assert first["kind"] == "conv" and first["filters_total"] == 10
    assert len(first["filters"]) == 10 and len(first["filters"][0]) == 3 and len(first["filters"][0][0]) == 3
    assert len(first["maps"]) == 8 and len(first["maps"][0]) == 8  # 8 of 10 maps, 8×8 each
    assert len(first["image"]) == 8 and "image" not in evs[1]
    assert first["filters"] != evs[1]["filters"]  # the filters learn


def test_a_long_run_sends_at_most_a_hundred():
    assert neurons.every(2000) == 20 and neurons.every(60) == 1


def test_lr_finder_mode_has_no_neurons():
    sink = ListSink()
    train(validate({"mode": "lr_finder", "lr_finder": {"steps": 10},
                    "monitor": {"diagnostics": False, "boundary": False}}), sink)
    assert sink.of("neurons") == []
