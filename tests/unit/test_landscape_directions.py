"""Filter-normalized random directions (Li et al. 2018, §4; the reference's --xnorm filter --xignore biasbn)."""

import torch
from torch import nn

from training.landscape import filter_normalize, params_of, random_directions
from training.model import Net, Unit


def conv_net() -> Net:
    conv = nn.Conv2d(1, 4, 3, padding=1)
    lin = nn.Linear(4 * 6 * 6, 3)
    return Net([
        Unit("conv1", "conv2d", conv, "relu", conv),
        Unit("batchnorm1", "batchnorm", nn.BatchNorm2d(4)),
        Unit("output", "dense", nn.Sequential(nn.Flatten(), lin), None, lin),
    ])


def test_each_direction_slice_has_the_norm_of_its_weight_slice():
    torch.manual_seed(0)
    center = params_of(conv_net())
    (d,) = random_directions(center, seed=3, n=1)
    for name in ("units.0.body.weight", "units.2.body.1.weight"):
        w, dw = center[name], d[name]
        w_norms = w.reshape(len(w), -1).norm(dim=1)
        d_norms = dw.reshape(len(dw), -1).norm(dim=1)
        torch.testing.assert_close(d_norms, w_norms, rtol=1e-5, atol=1e-7)
        assert not torch.allclose(dw, w)  # a random direction, not the weights


def test_bias_and_batchnorm_directions_are_zero_by_default():
    center = params_of(conv_net())
    for d in random_directions(center, seed=0, n=2):
        for name, v in d.items():
            if center[name].dim() <= 1:
                assert not v.any(), name
            else:
                assert v.any(), name


def test_without_ignore_1d_parameters_move_along_themselves():
    w = torch.randn(5)
    assert torch.equal(filter_normalize(torch.randn(5), w, ignore_1d=False), w)


def test_directions_are_reproducible_from_their_seed():
    center = params_of(conv_net())
    a1, b1 = random_directions(center, seed=7)
    a2, b2 = random_directions(center, seed=7)
    (c1, _) = random_directions(center, seed=8)
    name = "units.0.body.weight"
    assert torch.equal(a1[name], a2[name]) and torch.equal(b1[name], b2[name])
    assert not torch.equal(a1[name], b1[name])  # the two directions of a grid differ
    assert not torch.equal(a1[name], c1[name])
