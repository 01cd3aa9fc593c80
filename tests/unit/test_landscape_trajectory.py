"""PCA of the training path (Li et al. 2018, §7) and the checkpoints it is made from."""

import torch
from torch import nn

from training.landscape import LandscapeHook, Tracker, path_axis, pca_directions
from training.spec import LandscapeSpec


def path_in_a_plane(t=30, p=50, seed=0):
    """A curved path that ends at ``final`` and lies in the plane of two random vectors."""
    g = torch.Generator().manual_seed(seed)
    u, v = torch.randn(p, generator=g), torch.randn(p, generator=g)
    final = torch.randn(p, generator=g)
    s = torch.linspace(1, 0, t)
    ckpts = final + (3 * s).unsqueeze(1) * u + (s ** 2 * torch.sin(5 * s)).unsqueeze(1) * v
    return ckpts, final, u, v


def test_pca_directions_are_orthonormal_and_the_final_point_is_the_origin():
    ckpts, final, _, _ = path_in_a_plane()
    d1, d2, ratios, xs, ys = pca_directions(ckpts, final)
    assert abs(d1.norm() - 1) < 1e-5 and abs(d2.norm() - 1) < 1e-5
    assert abs(d1 @ d2) < 1e-5
    assert abs(xs[-1]) < 1e-5 and abs(ys[-1]) < 1e-5  # the last checkpoint is the final point
    assert ratios[0] >= ratios[1] > 0


def test_a_path_in_a_plane_is_fully_explained_and_recovered_by_two_directions():
    ckpts, final, _, _ = path_in_a_plane()
    d1, d2, ratios, xs, ys = pca_directions(ckpts, final)
    assert sum(ratios) > 0.999
    # projecting back onto the two directions reproduces every checkpoint
    rebuilt = final + torch.tensor(xs).unsqueeze(1) * d1 + torch.tensor(ys).unsqueeze(1) * d2
    torch.testing.assert_close(rebuilt, ckpts, rtol=1e-4, atol=1e-4)


def test_masked_entries_get_no_direction():
    ckpts, final, _, _ = path_in_a_plane()
    mask = torch.ones(ckpts.shape[1])
    mask[:10] = 0
    d1, d2, *_ = pca_directions(ckpts, final, mask)
    assert not d1[:10].any() and not d2[:10].any()


def test_a_straight_path_has_no_second_direction():
    final = torch.zeros(20)
    ckpts = torch.linspace(1, 0, 10).unsqueeze(1) * torch.ones(20)
    assert pca_directions(ckpts, final) is None


def test_the_grid_axis_covers_the_path_with_zero_on_the_grid():
    values = [3.0, 2.1, 0.7, 0.0]
    axis = path_axis(values, 11)
    assert len(axis) == 11
    assert axis.min() < 0 and axis.max() > 3
    assert (axis == 0).any()


def test_checkpoints_are_bounded_and_thinned_evenly():
    net = nn.Linear(3, 2)
    hook = LandscapeHook(net, lambda out, y: out.sum(), torch.zeros(4, 3), torch.zeros(4), lambda *a, **k: None,
                         lambda: False)
    tracker = Tracker(hook, LandscapeSpec(checkpoint_every_steps=1))
    tracker.max_checkpoints = 10
    for step in range(1, 100):
        with torch.no_grad():
            net.weight.fill_(step)
        tracker.on_step(step)
    assert len(tracker.checkpoints) <= 10
    gaps = {b - a for a, b in zip(tracker.steps, tracker.steps[1:])}
    assert tracker.steps[0] == 0 and len(gaps) == 1  # the initial weights and an even stride
    assert [int(c[0]) for c in tracker.checkpoints[1:]] == tracker.steps[1:]
