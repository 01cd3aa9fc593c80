"""The vectorized loss surface: equal to the reference's per-point loop, streamed, cancellable."""

import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from training.landscape import (
    LossSurface,
    grid_coeffs,
    json_losses,
    loop_surface,
    params_of,
    random_directions,
    surface_2d,
)
from training.model import GaussianDropout, Net, Unit


def bn_dropout_net() -> Net:
    """dense → batchnorm → dropout → dense(tanh) → gaussian dropout → output, with non-trivial BN statistics."""
    torch.manual_seed(0)
    l1, l2, out = nn.Linear(5, 16), nn.Linear(16, 16), nn.Linear(16, 3)
    net = Net([
        Unit("dense1", "dense", l1, "relu", l1),
        Unit("batchnorm1", "batchnorm", nn.BatchNorm1d(16)),
        Unit("dropout1", "dropout", nn.Dropout(0.5)),
        Unit("dense2", "dense", l2, "tanh", l2),
        Unit("dropout2", "dropout", GaussianDropout(0.3)),
        Unit("output", "dense", out, None, out),
    ])
    net.train()
    with torch.no_grad():
        for _ in range(5):
            net(torch.randn(64, 5) * 2 + 1)  # move the running statistics away from (0, 1)
        net.units[1].body.weight.uniform_(0.5, 1.5)
    return net


def conv_net() -> Net:
    """A padded conv stem (ZeroPad2d + Conv2d, as "same" padding builds it) behind a pooling unit."""
    torch.manual_seed(1)
    conv = nn.Conv2d(1, 4, 2)
    lin = nn.Linear(4 * 4 * 4, 2)
    return Net([
        Unit("pool1", "maxpool2d", nn.MaxPool2d(2)),
        Unit("conv1", "conv2d", nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), conv), "relu", conv),
        Unit("batchnorm1", "batchnorm", nn.BatchNorm2d(4)),
        Unit("output", "dense", nn.Sequential(nn.Flatten(), lin), None, lin),
    ])


def data(shape=(5,), n=96, classes=3):
    g = torch.Generator().manual_seed(2)
    return torch.randn((n, *shape), generator=g), torch.randint(0, classes, (n,), generator=g)


def rel_err(a, b):
    return ((a - b).abs() / b.abs()).max().item()


@pytest.mark.parametrize("factorize", [True, False])
def test_vectorized_surface_equals_the_per_point_loop_in_eval_mode(factorize):
    net = bn_dropout_net()
    x, y = data()
    center = params_of(net)
    dirs = random_directions(center, seed=0)
    coeffs = grid_coeffs(torch.linspace(-1, 1, 7), torch.linspace(-1, 1, 5))
    ev = LossSurface(net, x, y, F.cross_entropy, factorize=factorize)
    assert (ev.stem is not None) == factorize
    fast = ev.evaluate(center, dirs, coeffs)
    slow = loop_surface(net, x, y, F.cross_entropy, center, dirs, coeffs, batch_size=32)
    assert rel_err(fast, slow) < 1e-5
    assert net.training  # the caller's mode is restored
    # dropout really is off: in training mode the same points give other losses
    assert slow.std() > 0


def test_conv_surface_equals_the_loop():
    net = conv_net()
    x, y = data((1, 8, 8), classes=2)
    center = params_of(net)
    dirs = random_directions(center, seed=1)
    coeffs = grid_coeffs(torch.linspace(-1, 1, 4), torch.linspace(-1, 1, 4))
    ev = LossSurface(net, x, y, F.cross_entropy)
    assert ev.stem == 1
    assert rel_err(ev.evaluate(center, dirs, coeffs), loop_surface(net, x, y, F.cross_entropy, center, dirs,
                                                                   coeffs)) < 1e-5


def test_small_memory_budget_splits_points_and_samples_without_changing_losses():
    net = bn_dropout_net()
    x, y = data()
    center = params_of(net)
    dirs = random_directions(center, seed=0)
    coeffs = grid_coeffs(torch.linspace(-1, 1, 3), torch.linspace(-1, 1, 2))
    whole = LossSurface(net, x, y, F.cross_entropy).evaluate(center, dirs, coeffs)
    chunks = []
    tiny = LossSurface(net, x, y, F.cross_entropy, budget_bytes=20_000)  # one point, a few samples at a time
    split = tiny.evaluate(center, dirs, coeffs, on_chunk=lambda done, _: chunks.append(done))
    assert len(chunks) > 3
    assert rel_err(split, whole) < 1e-5


def test_the_centre_of_the_grid_is_the_trained_models_loss():
    net = bn_dropout_net()
    x, y = data()
    center = params_of(net)
    axis = torch.linspace(-0.5, 0.5, 5)
    grid = surface_2d(LossSurface(net, x, y, F.cross_entropy), center, random_directions(center, 0), axis, axis)
    net.eval()
    with torch.no_grad():
        model_loss = F.cross_entropy(net(x), y).item()
    assert grid.shape == (5, 5)
    assert abs(grid[2, 2].item() - model_loss) / model_loss < 1e-5


def test_rows_follow_betas():
    net = bn_dropout_net()
    x, y = data()
    center = params_of(net)
    dirs = random_directions(center, 0)
    alphas, betas = torch.linspace(-1, 1, 3), torch.tensor([-1.0, 0.0, 0.5, 1.0])
    grid = surface_2d(LossSurface(net, x, y, F.cross_entropy), center, dirs, alphas, betas)
    one = LossSurface(net, x, y, F.cross_entropy).evaluate(center, dirs, torch.tensor([[alphas[0], betas[2]]]))
    assert grid.shape == (4, 3)
    assert abs(grid[2, 0] - one[0]) < 1e-5


def test_streamed_rows_assemble_the_full_grid():
    net = bn_dropout_net()
    x, y = data()
    center = params_of(net)
    dirs = random_directions(center, 0)
    axis = torch.linspace(-1, 1, 6)
    streamed = []
    ev = LossSurface(net, x, y, F.cross_entropy, budget_bytes=600_000)  # a few points per chunk
    grid = surface_2d(ev, center, dirs, axis, axis, on_rows=lambda start, rows: streamed.append((start, rows.clone())))
    assert len(streamed) > 1
    starts = [s for s, _ in streamed]
    assert starts[0] == 0 and all(b == a + len(r) for (a, r), b in zip(streamed, starts[1:]))
    assert torch.equal(torch.cat([r for _, r in streamed]), grid)


def test_a_stop_request_cancels_mid_surface():
    net = bn_dropout_net()
    x, y = data()
    center = params_of(net)
    axis = torch.linspace(-1, 1, 8)
    rows_seen = []
    ev = LossSurface(net, x, y, F.cross_entropy, budget_bytes=600_000)
    grid = surface_2d(ev, center, random_directions(center, 0), axis, axis,
                      on_rows=lambda start, rows: rows_seen.append(start + len(rows)),
                      should_stop=lambda: bool(rows_seen) and rows_seen[-1] >= 2)
    assert grid is None
    assert 2 <= rows_seen[-1] < 8


def test_nan_and_inf_losses_become_null_in_events():
    out = json_losses(torch.tensor([[1.0, float("nan")], [float("inf"), 0.123456789]]))
    assert out == [[1.0, None], [None, 0.123457]]
    json.dumps(out, allow_nan=False)


LAYER_ZOO = [
    {"type": "conv2d", "filters": 4, "activation": "prelu"},
    {"type": "groupnorm", "groups": 2},
    {"type": "residual", "layers": [{"type": "conv2d", "filters": 4, "activation": "linear"},
                                    {"type": "batchnorm"}, {"type": "activation", "fn": "elu"}]},
    {"type": "avgpool2d"},
    {"type": "layernorm"},
    {"type": "flatten"},
    {"type": "dropout", "p": 0.2, "variant": "gaussian"},
    {"type": "dense", "units": 6, "activation": "gelu"},
]


@pytest.mark.parametrize("first", [[], [{"type": "maxpool2d"}]])
def test_every_layer_type_matches_the_loop(first):
    from training.model import build_model
    from training.spec import validate

    spec = validate({"data": {"dataset": "digits"}, "model": {"layers": first + LAYER_ZOO}})
    torch.manual_seed(0)
    net = build_model(spec, (1, 8, 8), 3)
    x, y = data((1, 8, 8), n=48)
    net.train()
    with torch.no_grad():
        net(x)  # batchnorm statistics
    center = params_of(net)
    dirs = random_directions(center, seed=4)
    coeffs = grid_coeffs(torch.linspace(-1, 1, 3), torch.linspace(-1, 1, 3))
    ev = LossSurface(net, x, y, F.cross_entropy)
    assert ev.stem is not None
    assert rel_err(ev.evaluate(center, dirs, coeffs), loop_surface(net, x, y, F.cross_entropy, center, dirs,
                                                                   coeffs)) < 1e-5


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_the_surface_is_computed_on_the_parameters_device():
    net = bn_dropout_net().cuda()
    x, y = (t.cuda() for t in data())
    center = params_of(net)
    dirs = random_directions(center, seed=0)
    coeffs = grid_coeffs(torch.linspace(-1, 1, 5), torch.linspace(-1, 1, 5))
    fast = LossSurface(net, x, y, F.cross_entropy).evaluate(center, dirs, coeffs)
    assert fast.is_cuda
    slow = loop_surface(net.cpu(), x.cpu(), y.cpu(), F.cross_entropy, {k: v.cpu() for k, v in center.items()},
                        [{k: v.cpu() for k, v in d.items()} for d in dirs], coeffs)
    assert rel_err(fast.cpu(), slow) < 1e-4
