"""PCA of the path in float64 with a fixed sign per component (issue 9 §5)."""

import numpy as np
import pytest
import torch

from training.landscape import pca_directions


def path(t=40, p=300, small=1e-3, seed=0, offset=100.0):
    """A path ending at ``final`` along u, with a faint bend along v, far from the origin
    (weights of size ``offset``): float32 Gram products of such a path lose the bend."""
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(p, generator=g)
    v = torch.randn(p, generator=g)
    v = v - (v @ u) / (u @ u) * u
    u, v = u / u.norm(), v / v.norm()
    final = offset + torch.randn(p, generator=g)
    s = torch.linspace(1, 0, t)
    ckpts = final + (5 * s).unsqueeze(1) * u + (small * 5 * torch.sin(6 * s)).unsqueeze(1) * v
    return ckpts, final, u, v


def reference(ckpts, final):
    """scikit-learn's PCA by hand: SVD of the centred differences, in float64 (numpy)."""
    d = (ckpts - final).double().numpy()
    d = d - d.mean(0)
    _, sv, vt = np.linalg.svd(d, full_matrices=False)
    var = sv ** 2
    return vt[:2], var[:2] / var.sum()


def test_a_second_component_below_1e_4_of_the_variance_is_found():
    ckpts, final, u, v = path()
    d1, d2, ratios, xs, ys = pca_directions(ckpts, final)
    comps, ref_ratios = reference(ckpts, final)
    assert ratios[1] < 1e-4
    assert ratios == pytest.approx(ref_ratios.tolist(), rel=1e-3)
    assert abs(float(d2.double() @ torch.from_numpy(comps[1]))) > 0.999
    assert abs(float(d2 @ v)) > 0.99  # the bend's direction, not round-off
    assert abs(float(d1 @ d2)) < 1e-5


def test_the_sign_is_the_same_on_every_run_and_for_a_mirrored_path():
    ckpts, final, _, _ = path(small=0.3)
    first = pca_directions(ckpts, final)
    again = pca_directions(ckpts.clone(), final.clone())
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    # the path started at the opposite side of the final point: directions flip, the plot does not
    mirrored = pca_directions(2 * final - ckpts, final)
    assert torch.allclose(mirrored[0], -first[0], atol=1e-6) and torch.allclose(mirrored[1], -first[1], atol=1e-6)
    assert mirrored[3] == pytest.approx(first[3], abs=1e-5) and mirrored[4] == pytest.approx(first[4], abs=1e-5)
    # and the rule itself: the path starts on the positive side of both axes
    assert first[3][0] > 0 and first[4][0] >= 0


def test_the_sign_rule_uses_the_farthest_point_when_the_start_is_on_the_axis():
    from training.landscape.pca import _fix_sign

    assert _fix_sign(torch.tensor([2.0, -5.0])) == 1.0  # the start decides ...
    assert _fix_sign(torch.tensor([-2.0, 5.0])) == -1.0
    assert _fix_sign(torch.tensor([1e-9, 1.0, -3.0, 0.0])) == -1.0  # ... unless it sits on the axis
    assert _fix_sign(torch.tensor([0.0, -1.0, 3.0])) == 1.0
