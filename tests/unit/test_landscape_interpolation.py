"""The init→final interpolation moves batch-norm statistics with the weights (the reference's
``states`` mode), and every grid keeps its anchor points: α = 0 and 1, the 2-D centre."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from training.landscape import (
    LossSurface,
    centered_axis,
    flatten,
    float_buffers_of,
    interpolation_axis,
    params_of,
    unflatten,
)
from training.loop import ListSink, train
from training.model import Net, Unit
from training.spec import validate


def bn_net(seed: int, shift: float) -> Net:
    torch.manual_seed(seed)
    l1, out = nn.Linear(4, 8), nn.Linear(8, 2)
    net = Net([Unit("dense1", "dense", l1, "relu", l1), Unit("batchnorm1", "batchnorm", nn.BatchNorm1d(8)),
               Unit("output", "dense", out, None, out)])
    net.train()
    with torch.no_grad():
        for _ in range(10):
            net(torch.randn(32, 4) * (1 + shift) + shift)  # statistics of their own
    return net


def test_batchnorm_statistics_at_half_way_are_the_mean_of_both_ends():
    start, end = bn_net(0, 0.0), bn_net(1, 2.0)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(64, 4, generator=g), torch.randint(0, 2, (64,), generator=g)
    p0, p1 = params_of(start), params_of(end)
    b0, b1 = float_buffers_of(start), float_buffers_of(end)
    assert not torch.allclose(b0["units.1.body.running_mean"], b1["units.1.body.running_mean"])
    ev = LossSurface(end, x, y, F.cross_entropy)
    direction = {k: p1[k] - p0[k] for k in p0}
    bdir = {k: b1[k] - b0[k] for k in b0}
    got = ev.evaluate(p0, [direction], torch.tensor([[0.0], [0.5], [1.0]]), buffers=b0, buffer_dirs=[bdir])
    # the same three points by hand: a model whose weights and running statistics are the mix
    mid = bn_net(2, 0.0)
    with torch.no_grad():
        for k, v in mid.named_parameters():
            v.copy_((p0[k] + p1[k]) / 2)
        for k, v in mid.named_buffers():
            if v.is_floating_point():
                v.copy_((b0[k] + b1[k]) / 2)
    expected = []
    for net in (start, mid, end):
        net.eval()
        with torch.no_grad():
            expected.append(F.cross_entropy(net(x), y).item())
    assert got.tolist() == pytest.approx(expected, rel=1e-5)
    # without moving the statistics the half-way point is a different model
    frozen = ev.evaluate(p0, [direction], torch.tensor([[0.5]]), buffers=b1)
    assert abs(frozen.item() - expected[1]) > 1e-4
    # the per-point path agrees
    loop = LossSurface(end, x, y, F.cross_entropy, method="loop")
    assert loop.evaluate(p0, [direction], torch.tensor([[0.5]]), buffers=b0, buffer_dirs=[bdir]).item() == \
        pytest.approx(expected[1], rel=1e-5)


@pytest.mark.parametrize("resolution", range(3, 52))
def test_the_centre_and_both_ends_are_on_every_grid(resolution):
    axis = centered_axis(1.5, resolution)
    assert len(axis) == resolution and (axis == 0).sum() == 1
    assert axis.max() == pytest.approx(1.5) and axis.min() >= -1.5 - 1e-12
    assert torch.all(axis.diff() > 0)
    inter = interpolation_axis(resolution)
    assert len(inter) == resolution and (inter == 0).sum() == 1 and (inter == 1).sum() == 1
    assert torch.allclose(inter.diff(), inter.diff()[0].expand(resolution - 1))  # evenly spaced


@pytest.mark.parametrize("resolution", [4, 6])
def test_even_resolutions_still_sample_the_trained_model(resolution):
    sink = ListSink()
    train(validate({"data": {"n_samples": 200}, "training": {"epochs": 2},
                    "model": {"layers": [{"type": "dense", "units": 8}, {"type": "batchnorm"}]},
                    "monitor": {"boundary": False, "diagnostics": False,
                                "landscape": {"resolution": resolution, "eval_samples": 64, "sharpness": False}}}), sink)
    done = {e["surface"]: e for e in sink.of("landscape") if e["done"]}
    rnd, interp = done["random"], done["interpolation"]
    i, j = rnd["alphas"].index(0.0), rnd["betas"].index(0.0)
    assert rnd["loss"][j][i] == pytest.approx(rnd["center_loss"], rel=1e-5)
    a1 = interp["alphas"].index(1.0)
    assert interp["loss"][a1] == pytest.approx(interp["center_loss"], rel=1e-5)
    assert interp["buffers"] == "interpolated"
    # α = 0 is the untrained model with its own (initial) statistics: the path's first point
    pca = done["pca"]
    assert interp["loss"][interp["alphas"].index(0.0)] == pytest.approx(pca["trajectory"]["loss"][0], rel=1e-5)


def test_flat_buffers_round_trip():
    net = bn_net(0, 1.0)
    b = float_buffers_of(net)
    assert set(b) == {"units.1.body.running_mean", "units.1.body.running_var"}  # the counter is not a float
    back = unflatten(flatten(b), b)
    assert all(torch.equal(back[k], b[k]) for k in b)
