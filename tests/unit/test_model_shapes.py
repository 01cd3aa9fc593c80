"""Shape inference, parameter counts, names and shape errors of the network builder."""

import pytest
import torch
from torch import nn

from training.model import Net, ResidualBlock, build_model, summarize
from training.spec import Limits, SpecError, validate


def spec_with(layers, **model):
    return validate({"model": {"layers": layers, **model}})


def errors_of(layers, shape, out=2):
    with pytest.raises(SpecError) as exc:
        summarize(spec_with(layers), shape, out)
    return exc.value.errors


@pytest.mark.parametrize("layer, shape, expected", [
    ({"type": "conv2d", "filters": 4, "kernel": 3, "padding": "same"}, (1, 8, 8), (4, 8, 8)),
    ({"type": "conv2d", "filters": 4, "kernel": 3, "padding": "valid"}, (1, 8, 8), (4, 6, 6)),
    ({"type": "conv2d", "filters": 4, "kernel": 3, "padding": 2}, (1, 8, 8), (4, 10, 10)),
    ({"type": "conv2d", "filters": 4, "kernel": 3, "stride": 2, "padding": "valid"}, (1, 9, 9), (4, 4, 4)),
    ({"type": "conv2d", "filters": 4, "kernel": 4, "padding": "same"}, (2, 8, 8), (4, 8, 8)),
    ({"type": "conv2d", "filters": 4, "kernel": 3, "stride": 2, "padding": "same"}, (2, 7, 7), (4, 4, 4)),
    ({"type": "maxpool2d", "kernel": 2}, (3, 8, 8), (3, 4, 4)),
    ({"type": "maxpool2d", "kernel": 3, "stride": 1}, (3, 8, 8), (3, 6, 6)),
    ({"type": "avgpool2d", "kernel": 2}, (3, 7, 7), (3, 3, 3)),
    ({"type": "flatten"}, (3, 4, 4), (48,)),
    ({"type": "batchnorm"}, (3, 4, 4), (3, 4, 4)),
    ({"type": "groupnorm", "groups": 2}, (4,), (4,)),
])
def test_inferred_shape_matches_the_forward_pass(layer, shape, expected):
    spec = spec_with([layer])
    summary = summarize(spec, shape, 3)
    assert tuple(summary["layers"][0]["output_shape"]) == expected
    net = build_model(spec, shape, 3)
    x = torch.randn(2, *shape)
    assert tuple(net.units[0](x).shape[1:]) == expected
    assert net(x).shape == (2, 3)


def test_parameter_counts_match_torch():
    layers = [{"type": "conv2d", "filters": 6, "kernel": 3}, {"type": "batchnorm"},
              {"type": "maxpool2d"}, {"type": "groupnorm", "groups": 3},
              {"type": "conv2d", "filters": 4, "kernel": 5, "bias": False, "padding": "valid", "activation": "prelu"},
              {"type": "layernorm"}, {"type": "dense", "units": 7}, {"type": "layernorm"}, {"type": "batchnorm"}]
    summary = summarize(spec_with(layers), (2, 12, 12), 5)
    reference = [nn.Conv2d(2, 6, 3), nn.BatchNorm2d(6), nn.MaxPool2d(2), nn.GroupNorm(3, 6),
                 nn.Sequential(nn.Conv2d(6, 4, 5, bias=False), nn.PReLU()), nn.GroupNorm(1, 4),
                 nn.Linear(4 * 2 * 2, 7), nn.LayerNorm(7), nn.BatchNorm1d(7), nn.Linear(7, 5)]
    counts = [sum(p.numel() for p in m.parameters()) for m in reference]
    assert [row["params"] for row in summary["layers"]] == counts
    assert summary["params"] == sum(counts)
    net = build_model(spec_with(layers), (2, 12, 12), 5)
    assert sum(p.numel() for p in net.parameters()) == sum(counts)


def test_dense_after_an_image_flattens_automatically():
    net = build_model(spec_with([{"type": "conv2d", "filters": 2}, {"type": "dense", "units": 3}]), (1, 4, 4), 2)
    assert net.units[1].weight_module.in_features == 2 * 4 * 4
    assert net(torch.randn(5, 1, 4, 4)).shape == (5, 2)


def test_units_have_readable_unique_names_and_expose_their_weights():
    layers = [{"type": "conv2d"}, {"type": "maxpool2d"}, {"type": "conv2d"}, {"type": "flatten"},
              {"type": "dense"}, {"type": "activation", "fn": "tanh"}, {"type": "dropout"},
              {"type": "residual", "layers": [{"type": "dense"}]}]
    net = build_model(spec_with(layers), (1, 8, 8), 3)
    names = [u.name for u in net.all_units()]
    assert names == ["conv1", "maxpool1", "conv2", "flatten1", "dense1", "tanh1", "dropout1",
                     "residual1", "dense2", "output"]
    assert isinstance(net.units[0].weight_module, nn.Conv2d) and net.units[0].kind == "conv2d"
    assert net.units[0].activation == "relu"
    assert net.units[-1].name == "output" and isinstance(net.units[-1].weight_module, nn.Linear)
    assert net.units[1].weight_module is None
    assert isinstance(net.units[7].body, ResidualBlock) and net.units[7].body.units[0].path == "/model/layers/7/layers/0"
    assert isinstance(net, Net)


def test_summary_lists_nested_layers_with_paths_and_counts_each_parameter_once():
    spec = spec_with([{"type": "dense", "units": 4},
                      {"type": "residual", "layers": [{"type": "dense", "units": 6}]}])
    s = summarize(spec, (2,), 2)
    rows = {r["name"]: r for r in s["layers"]}
    assert rows["residual1"]["params"] == (4 * 6 + 6) + (4 * 6 + 6)  # body + projection
    assert rows["dense2"]["depth"] == 1 and rows["dense2"]["path"] == "/model/layers/1/layers/0"
    assert s["params"] == (2 * 4 + 4) + 60 + (6 * 2 + 2)


def test_conv_on_a_vector_names_the_layer():
    errs = errors_of([{"type": "dense"}, {"type": "conv2d"}], (2,))
    assert errs == [{"path": "/model/layers/1", "message": "conv2d needs an image input (C, H, W); got (8,)"}]
    errs = errors_of([{"type": "conv2d"}], (2,))
    assert errs[0]["message"] == "conv2d needs an image input (C, H, W); got (2,)"


def test_every_shape_error_is_collected():
    layers = [{"type": "conv2d", "kernel": 5, "padding": "valid"}, {"type": "maxpool2d"},
              {"type": "residual", "layers": [{"type": "groupnorm", "groups": 3}]},
              {"type": "residual", "layers": []}, {"type": "dropout", "init": {"weights": "zeros"}}]
    errs = errors_of(layers, (4, 4, 4))
    paths = [e["path"] for e in errs]
    assert "/model/layers/0/kernel" in paths
    assert "kernel 5 is larger than the 4×4 input" in errs[paths.index("/model/layers/0/kernel")]["message"]
    assert "/model/layers/4/init" in paths  # checked even after an earlier shape error
    errs = errors_of([{"type": "maxpool2d", "kernel": 5}, {"type": "groupnorm", "groups": 3}], (4, 4, 4))
    assert [e["path"] for e in errs] == ["/model/layers/0/kernel"]
    errs = errors_of([{"type": "groupnorm", "groups": 3}, {"type": "residual", "layers": []},
                      {"type": "avgpool2d", "kernel": 8}], (4, 4, 4))
    assert [e["path"] for e in errs] == ["/model/layers/0/groups", "/model/layers/1/layers", "/model/layers/2/kernel"]
    assert errs[0]["message"] == "groups (3) must divide the 4 channels"


def test_residual_that_cannot_be_projected_is_an_error():
    errs = errors_of([{"type": "residual", "layers": [{"type": "conv2d", "kernel": 3, "padding": "valid"}]}], (2, 8, 8))
    assert errs[0]["path"] == "/model/layers/0" and "projection" in errs[0]["message"]


def test_bias_cannot_take_a_fan_based_initializer():
    with pytest.raises(SpecError) as exc:
        build_model(spec_with([{"type": "dense", "init": {"bias": "xavier_uniform"}}],
                              init={"weights": "orthogonal", "bias": "kaiming_normal"}), (2,), 2)
    assert {e["path"] for e in exc.value.errors} == {"/model/init/bias", "/model/layers/0/init/bias"}


def test_parameter_limit_is_reported():
    spec = spec_with([{"type": "dense", "units": 4096}, {"type": "dense", "units": 4096}])
    with pytest.raises(SpecError) as exc:
        summarize(spec, (2,), 2, Limits(max_params=1000))
    assert exc.value.errors[0]["path"] == "/model/layers"
