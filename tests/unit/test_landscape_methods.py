"""How a surface is evaluated: the MLP fast path, the per-point path, and ``auto`` choosing between them."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from training.landscape import LossSurface, grid_coeffs, loop_surface, params_of, random_directions
from training.model import GaussianDropout, Net, Unit


def mlp() -> Net:
    torch.manual_seed(0)
    l1, l2, out = nn.Linear(6, 12), nn.Linear(12, 12), nn.Linear(12, 3)
    return Net([
        Unit("dense1", "dense", l1, "relu", l1),
        Unit("dropout1", "dropout", nn.Dropout(0.3)),
        Unit("dense2", "dense", l2, "tanh", l2),
        Unit("dropout2", "dropout", GaussianDropout(0.2)),
        Unit("output", "dense", out, None, out),
    ])


def data(n=80):
    g = torch.Generator().manual_seed(3)
    return torch.randn(n, 6, generator=g), torch.randint(0, 3, (n,), generator=g)


def setup():
    net = mlp()
    x, y = data()
    center = params_of(net)
    dirs = random_directions(center, seed=0)
    coeffs = grid_coeffs(torch.linspace(-1, 1, 5), torch.linspace(-1, 1, 4))
    return net, x, y, center, dirs, coeffs


def rel_err(a, b):
    return ((a - b).abs() / b.abs()).max().item()


def test_an_mlp_takes_the_stacked_dense_path_and_equals_the_loop():
    net, x, y, center, dirs, coeffs = setup()
    ev = LossSurface(net, x, y, F.cross_entropy, method="vectorized", budget_bytes=40_000)  # several chunks
    assert ev.stem == 0 and ev.dense is not None
    assert rel_err(ev.evaluate(center, dirs, coeffs), loop_surface(net, x, y, F.cross_entropy, center, dirs, coeffs)) < 1e-5


def test_a_parametric_activation_falls_back_to_vmap_and_still_matches():
    torch.manual_seed(0)
    l1, out = nn.Linear(6, 8), nn.Linear(8, 3)
    net = Net([Unit("dense1", "dense", l1, "prelu", l1), Unit("output", "dense", out, None, out)])
    x, y = data()
    center = params_of(net)
    dirs = random_directions(center, seed=1)
    coeffs = grid_coeffs(torch.linspace(-1, 1, 3), torch.linspace(-1, 1, 3))
    ev = LossSurface(net, x, y, F.cross_entropy, method="vectorized")
    assert ev.stem == 0 and ev.dense is None
    assert rel_err(ev.evaluate(center, dirs, coeffs), loop_surface(net, x, y, F.cross_entropy, center, dirs, coeffs)) < 1e-5


def test_the_per_point_method_equals_the_vectorized_one_and_leaves_the_weights_alone():
    net, x, y, center, dirs, coeffs = setup()
    before = {k: v.clone() for k, v in params_of(net).items()}
    fast = LossSurface(net, x, y, F.cross_entropy, method="vectorized").evaluate(center, dirs, coeffs)
    slow_ev = LossSurface(net, x, y, F.cross_entropy, method="loop")
    slow = slow_ev.evaluate(center, dirs, coeffs)
    assert slow_ev.chosen == "loop"
    assert rel_err(fast, slow) < 1e-5
    assert all(torch.equal(v, before[k]) for k, v in params_of(net).items())


def test_an_unknown_method_is_refused():
    net, x, y, *_ = setup()
    with pytest.raises(ValueError, match="method"):
        LossSurface(net, x, y, F.cross_entropy, method="fastest")


class FakeClock:
    """Time that advances only by what the methods below declare a point costs."""

    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def timed(ev: LossSurface, loop_cost: float, vec_cost: float) -> FakeClock:
    clock = FakeClock()
    ev.clock = clock
    loop, chunk = ev._loop_points, ev._chunk

    def slow_loop(state, c, s):
        clock.t += loop_cost * len(c)
        return loop(state, c, s)

    def slow_chunk(state, c, *a):
        clock.t += vec_cost * len(c)
        return chunk(state, c, *a)
    ev._loop_points, ev._chunk = slow_loop, slow_chunk
    return clock


@pytest.mark.parametrize(("loop_cost", "vec_cost", "expected"), [(1.0, 5.0, "loop"), (5.0, 1.0, "vectorized")])
def test_auto_keeps_the_method_that_measured_faster(loop_cost, vec_cost, expected):
    net, x, y, center, dirs, coeffs = setup()
    ev = LossSurface(net, x, y, F.cross_entropy, budget_bytes=40_000)  # several chunks: room to choose
    assert ev.method == "auto" and ev.chosen is None
    timed(ev, loop_cost, vec_cost)
    out = ev.evaluate(center, dirs, coeffs)
    assert ev.chosen == expected
    assert set(ev.timings) == {"loop", "vectorized"}
    assert rel_err(out, loop_surface(net, x, y, F.cross_entropy, center, dirs, coeffs)) < 1e-5
