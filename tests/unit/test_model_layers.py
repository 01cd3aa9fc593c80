"""Each layer and activation does what its name says."""

import pytest
import torch
import torch.nn.functional as F

from training.model import build_model
from training.spec import validate


def net_of(layers, shape=(4,), out=2, **model):
    torch.manual_seed(0)
    return build_model(validate({"model": {"layers": layers, **model}}), shape, out)


@pytest.mark.parametrize("name, fn", [
    ("linear", lambda x: x), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("relu", F.relu),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.01)), ("prelu", lambda x: F.prelu(x, torch.tensor([0.25]))),
    ("elu", F.elu), ("selu", F.selu), ("gelu", F.gelu),
])
def test_activation_matches_its_torch_function(name, fn):
    net = net_of([{"type": "activation", "fn": name}])
    x = torch.linspace(-3, 3, 24).reshape(6, 4)
    assert torch.allclose(net.units[0](x), fn(x))
    dense = net_of([{"type": "dense", "units": 4, "activation": name}])
    unit = dense.units[0]
    assert torch.allclose(unit(x), fn(unit.weight_module(x)))


def test_bernoulli_dropout_drops_in_training_only():
    net = net_of([{"type": "dropout", "p": 0.5}])
    x = torch.ones(200, 50)
    net.train()
    y = net.units[0](x)
    assert 0.4 < (y == 0).float().mean() < 0.6
    assert torch.allclose(y[y != 0], torch.tensor(2.0))  # inverted dropout keeps the mean
    net.eval()
    assert torch.equal(net.units[0](x), x)


def test_gaussian_dropout_is_multiplicative_noise_with_the_mean_preserved():
    p = 0.3
    net = net_of([{"type": "dropout", "p": p, "variant": "gaussian"}])
    x = torch.full((400, 500), 2.0)
    net.train()
    y = net.units[0](x)
    assert (y != 0).all()  # noise, not zeros
    assert abs(y.mean().item() - 2.0) < 0.02
    assert abs((y / x).var().item() - p / (1 - p)) < 0.01
    net.eval()
    assert torch.equal(net.units[0](x), x)


def test_batchnorm_uses_batch_statistics_in_training_and_running_ones_in_eval():
    for shape, x in (((3,), torch.randn(64, 3) * 5 + 3), ((3, 4, 4), torch.randn(64, 3, 4, 4) * 5 + 3)):
        net = net_of([{"type": "batchnorm"}], shape)
        bn = net.units[0]
        net.train()
        y = bn(x)
        dims = [0] if len(shape) == 1 else [0, 2, 3]
        assert torch.allclose(y.mean(dims), torch.zeros(3), atol=1e-5)
        assert torch.allclose(y.var(dims, unbiased=False), torch.ones(3), atol=1e-3)
        net.eval()
        running = bn.body.running_mean.clone()
        assert not torch.allclose(running, torch.zeros(3))
        expected = (x - running.view(-1, *[1] * (len(shape) - 1))) / torch.sqrt(
            bn.body.running_var.view(-1, *[1] * (len(shape) - 1)) + bn.body.eps)
        assert torch.allclose(bn(x), expected, atol=1e-5)
        assert torch.allclose(bn(x[:1]), expected[:1], atol=1e-5)  # one sample: no batch statistics


def test_layernorm_normalizes_each_sample():
    x = torch.randn(5, 6) * torch.arange(1, 6).view(5, 1) + torch.arange(5).view(5, 1)
    y = net_of([{"type": "layernorm"}], (6,)).units[0](x)
    assert torch.allclose(y.mean(1), torch.zeros(5), atol=1e-5)
    assert torch.allclose(y.var(1, unbiased=False), torch.ones(5), atol=1e-3)
    img = torch.randn(5, 3, 4, 4) * 3 + 1
    y = net_of([{"type": "layernorm"}], (3, 4, 4)).units[0](img)
    assert torch.allclose(y.mean((1, 2, 3)), torch.zeros(5), atol=1e-5)
    assert torch.allclose(y[0], net_of([{"type": "layernorm"}], (3, 4, 4)).units[0](img[:1])[0], atol=1e-6)


def test_groupnorm_normalizes_each_group_of_each_sample():
    x = torch.randn(3, 4, 5, 5) * 4 + 2
    y = net_of([{"type": "groupnorm", "groups": 2}], (4, 5, 5)).units[0](x)
    g = y.reshape(3, 2, -1)
    assert torch.allclose(g.mean(2), torch.zeros(3, 2), atol=1e-5)
    assert torch.allclose(g.var(2, unbiased=False), torch.ones(3, 2), atol=1e-3)


def test_residual_with_a_zeroed_body_is_the_identity():
    layers = [{"type": "residual", "layers": [{"type": "dense", "units": 4, "activation": "tanh"}],
               "init": {"weights": "zeros", "bias": "zeros"}}]
    net = net_of(layers)
    x = torch.randn(7, 4)
    assert torch.equal(net.units[0](x), x)
    # and the skip is really added: the block is body(x) + x
    net = net_of([{"type": "residual", "layers": [{"type": "dense", "units": 4, "activation": "tanh"}]}])
    block = net.units[0].body
    assert torch.allclose(net.units[0](x), block.units[0](x) + x)
    assert block.projection is None


def test_residual_projects_the_skip_when_shapes_differ():
    net = net_of([{"type": "residual", "layers": [{"type": "dense", "units": 6}]}], (4,))
    block = net.units[0].body
    x = torch.randn(3, 4)
    assert block.projection.weight.shape == (6, 4)
    assert torch.allclose(net.units[0](x), block.units[0](x) + block.projection(x))
    net = net_of([{"type": "residual", "layers": [{"type": "conv2d", "filters": 5, "stride": 2}]}], (3, 8, 8))
    proj = net.units[0].body.projection
    assert proj.kernel_size == (1, 1) and proj.stride == (2, 2)
    assert net.units[0](torch.randn(2, 3, 8, 8)).shape == (2, 5, 4, 4)
    net = net_of([{"type": "residual", "layers": [{"type": "conv2d", "filters": 5, "stride": 2}]}], (3, 7, 7))
    assert net.units[0](torch.randn(2, 3, 7, 7)).shape == (2, 5, 4, 4)
