"""Stochastic depth skips a residual branch with frequency p in training only; SWA averages snapshots."""

import copy

import torch
from torch import nn

from training.droppath import drop_path
from training.swa import SWA


def test_drop_path_skips_the_branch_with_frequency_p_in_training():
    torch.manual_seed(0)
    branch = torch.ones(20000, 4)
    out = drop_path(branch, 0.3, training=True)
    skipped = (out[:, 0] == 0).float().mean().item()
    assert abs(skipped - 0.3) < 0.015
    # a sample keeps or drops the whole branch, never part of it
    assert torch.all((out == 0).all(1) | (out != 0).all(1))


def test_drop_path_preserves_the_expected_output():
    torch.manual_seed(1)
    branch = torch.randn(1, 8).expand(40000, 8).contiguous()
    mean = drop_path(branch, 0.25, training=True).mean(0)
    assert torch.allclose(mean, branch[0], atol=0.03)


def test_drop_path_never_drops_in_evaluation():
    branch = torch.randn(1000, 3)
    assert torch.equal(drop_path(branch, 0.9, training=False), branch)


def test_swa_average_is_the_mean_of_the_snapshots_and_differs_from_the_last_iterate():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    swa = SWA(net, start_epoch=2, lr=0.05, every=1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    snapshots = []
    x, y = torch.randn(64, 3), torch.randint(0, 2, (64,))
    for epoch in range(1, 6):
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
        if swa.due(epoch):
            swa.update(net)
            snapshots.append(copy.deepcopy(net.state_dict()))
    assert swa.n == len(snapshots) == 4
    avg = swa.finalize(x, 32)
    for name, p in avg.named_parameters():
        mean = torch.stack([s[name] for s in snapshots]).mean(0)
        assert torch.allclose(p, mean, atol=1e-6)
    last = dict(net.named_parameters())
    assert any(not torch.allclose(p, last[n]) for n, p in avg.named_parameters())


def test_swa_lr_replaces_the_schedule_from_the_start_epoch():
    swa = SWA(nn.Linear(2, 2), start_epoch=5, lr=0.02, every=2)
    assert swa.lr_for(4, 0.1) == 0.1 and swa.lr_for(5, 0.1) == 0.02
    assert [e for e in range(1, 12) if swa.due(e)] == [5, 7, 9, 11]


def test_swa_recomputes_batch_norm_statistics_of_the_average():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))
    swa = SWA(net, start_epoch=1, lr=None, every=1)
    swa.update(net)
    x = torch.randn(256, 3) * 3 + 2
    avg = swa.finalize(x, 64)
    bn = avg[1]
    h = avg[0](x)
    assert torch.allclose(bn.running_mean, h.mean(0), atol=1e-4)
    # a cumulative average over the pass's batches, as torch.optim.swa_utils.update_bn keeps it
    per_batch = torch.stack([h[i:i + 64].var(0, unbiased=True) for i in range(0, 256, 64)]).mean(0)
    assert torch.allclose(bn.running_var, per_batch, rtol=1e-4)
