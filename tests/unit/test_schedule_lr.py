"""Each learning-rate schedule follows its formula, step by step."""

import itertools
import math

import pytest
import torch

from training.optim import LRSchedule
from training.spec import SpecError, validate

SPE, EPOCHS, LR = 4, 20, 0.1


def schedule(epochs=EPOCHS, lr=LR, **s):
    spec = validate({"schedule": s, "optimizer": {"lr": lr}, "training": {"epochs": epochs}})
    return LRSchedule(spec.schedule, lr, SPE, epochs)


def lrs(sched, n=SPE * EPOCHS):
    return [sched.lr_at(k) for k in range(n)]


def torch_lrs(make, n=SPE * EPOCHS, per_epoch=True):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    sch = make(opt)
    out = []
    for k in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        if not per_epoch or (k + 1) % SPE == 0:
            sch.step()
    return out


def test_constant():
    assert lrs(schedule(name="constant")) == [LR] * SPE * EPOCHS


def test_step_decays_by_gamma_every_step_size_epochs():
    assert lrs(schedule(name="step", step_size=3, gamma=0.5)) == pytest.approx(
        torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.5)))
    assert schedule(name="step").lr_at(10 * SPE) == pytest.approx(LR * 0.1)  # its own default gamma


def test_multistep_decays_at_each_milestone():
    assert lrs(schedule(name="multistep", milestones=[3, 7, 12], gamma=0.3)) == pytest.approx(
        torch_lrs(lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [3, 7, 12], 0.3)))


def test_exponential_is_lr_gamma_to_the_epoch():
    s = schedule(name="exponential", gamma=0.8)
    torch_values = torch_lrs(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.8))
    assert [s.lr_at(e * SPE) for e in range(EPOCHS)] == pytest.approx(torch_values[::SPE])
    assert s.lr_at(SPE // 2) == pytest.approx(LR * 0.8 ** 0.5)  # continuous within an epoch
    assert schedule(name="exponential").gamma == 0.95


def test_cosine_anneals_to_min_lr():
    values = lrs(schedule(name="cosine", min_lr=0.01))
    total = SPE * EPOCHS
    assert values == pytest.approx([0.01 + (LR - 0.01) * 0.5 * (1 + math.cos(math.pi * k / total))
                                    for k in range(total)])
    assert torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, total, 0.01), per_epoch=False) \
        == pytest.approx(values)


def test_cyclic_is_triangular_between_lr_and_max_lr():
    values = lrs(schedule(name="cyclic", step_size=2, max_lr=0.5))
    ref = torch_lrs(lambda o: torch.optim.lr_scheduler.CyclicLR(
        o, LR, 0.5, step_size_up=2 * SPE, cycle_momentum=False), per_epoch=False)
    assert values == pytest.approx(ref)
    assert max(values) == pytest.approx(0.5) and values[0] == LR and values[4 * SPE] == pytest.approx(LR)


def test_onecycle_matches_torch():
    values = lrs(schedule(name="onecycle", max_lr=1.0, min_lr=1e-4))
    total = SPE * EPOCHS
    ref = torch_lrs(lambda o: torch.optim.lr_scheduler.OneCycleLR(
        o, max_lr=1.0, total_steps=total, div_factor=1.0 / LR, final_div_factor=LR / 1e-4,
        cycle_momentum=False), per_epoch=False)
    assert values == pytest.approx(ref, rel=1e-6)
    assert max(values) == pytest.approx(1.0) and values[-1] == pytest.approx(1e-4)


def test_plateau_reduces_after_patience_epochs_without_improvement():
    s = schedule(name="plateau", patience=2, gamma=0.5)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, threshold=0)
    losses = [1.0, 0.9, 0.95, 0.93, 0.92, 0.91, 0.8, 0.85, 0.85, 0.85, 0.85]
    for epoch, loss in enumerate(losses, 1):
        s.epoch_end(epoch, loss)
        ref.step(loss)
        assert s.lr_at(epoch * SPE) == pytest.approx(opt.param_groups[0]["lr"]), epoch
    assert s.lr_at(len(losses) * SPE) == pytest.approx(LR / 4)  # reduced at epochs 5 and 10
    assert schedule(name="plateau", patience=0, min_lr=0.04).gamma == 0.1


def test_plateau_never_drops_below_min_lr():
    s = schedule(name="plateau", patience=0, min_lr=0.04)
    for epoch in range(1, 6):
        s.epoch_end(epoch, 1.0)
    assert s.lr_at(100) == 0.04


def test_warmup_rises_linearly_to_the_schedule():
    s = schedule(name="cosine", warmup_epochs=2)
    w = 2 * SPE
    values = lrs(s)
    assert values[:w] == pytest.approx([s.lr_at(w) * (k + 1) / w for k in range(w)])
    diffs = [b - a for a, b in itertools.pairwise(values[:w])]
    assert max(diffs) - min(diffs) < 1e-12 and diffs[0] > 0
    assert values[w] == LR  # the cosine starts after the warm-up
    assert values[-1] < 0.01
    step = schedule(name="step", step_size=1, gamma=0.5, warmup_epochs=1)
    assert step.lr_at(SPE - 1) == pytest.approx(LR * 0.5)  # warms up to the lr the schedule has then


@pytest.mark.parametrize("s, path", [
    ({"name": "cosine", "gamma": 0.5}, "/schedule/gamma"),
    ({"name": "step", "max_lr": 1.0}, "/schedule/max_lr"),
    ({"name": "cyclic", "max_lr": 0.05}, "/schedule/max_lr"),
    ({"name": "cosine", "min_lr": 0.5}, "/schedule/min_lr"),
    ({"name": "constant", "milestones": [3]}, "/schedule/milestones"),
    ({"name": "cosine", "warmup_epochs": 20}, "/schedule/warmup_epochs"),
])
def test_meaningless_schedule_settings_are_errors(s, path):
    with pytest.raises(SpecError) as exc:
        validate({"schedule": s, "optimizer": {"lr": LR}, "training": {"epochs": EPOCHS}})
    assert path in [e["path"] for e in exc.value.errors]
