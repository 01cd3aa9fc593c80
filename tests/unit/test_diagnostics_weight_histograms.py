"""Weight histograms in the diagnostics event: fixed edges per layer, exact counts, near-zero share."""

import torch

from training.diagnostics import HIST_BINS, Diagnostics, hist_range
from training.loop import ListSink, train
from training.model import build_model
from training.spec import validate


def _net(spec_doc=None):
    spec = validate(spec_doc or {})
    torch.manual_seed(0)
    return build_model(spec, (2,), 2)


def test_histogram_counts_every_weight_over_a_range_fixed_at_start():
    net = _net()
    diag = Diagnostics(net)
    first = diag.weight_histograms()
    for unit, _, _ in diag.probes:
        h = first[unit.name]
        n = unit.weight_module.weight.numel()
        assert len(h["hist"]) == HIST_BINS
        assert sum(h["hist"]) + sum(h["hist_out"]) == n
        assert h["hist_out"] == [0, 0]  # the initial weights lie inside by construction
    # the weights grow: the edges stay where they were, the excess is counted outside
    with torch.no_grad():
        for unit, _, _ in diag.probes:
            unit.weight_module.weight.mul_(10)
    later = diag.weight_histograms()
    for unit, _, _ in diag.probes:
        assert later[unit.name]["hist_range"] == first[unit.name]["hist_range"]
        assert sum(later[unit.name]["hist_out"]) > 0


def test_near_zero_fraction_counts_weights_below_one_thousandth():
    net = _net()
    diag = Diagnostics(net)
    unit = diag.probes[0][0]
    w = unit.weight_module.weight
    with torch.no_grad():
        w.view(-1)[: w.numel() // 2] = 1e-4
    frac = diag.weight_histograms()[unit.name]["near_zero_frac"]
    expected = ((w.abs() < 1e-3).sum() / w.numel()).item()
    assert abs(frac - expected) < 1e-6 and frac >= 0.5


def test_hist_range_is_a_round_number_above_the_largest_weight():
    assert hist_range(torch.tensor([0.3, -0.62])) == 1.0  # 0.93 -> 1
    assert hist_range(torch.tensor([0.1])) == 0.2  # 0.15 -> 0.2
    assert hist_range(torch.zeros(4)) == 1.0


def _near_zero_after(doc: dict) -> float:
    sink = ListSink()
    train(validate(doc), sink)
    rows = sink.of("diagnostics")[-1]["layers"]
    sizes = [sum(r["hist"]) + sum(r["hist_out"]) for r in rows]
    return sum(r["near_zero_frac"] * n for r, n in zip(rows, sizes)) / sum(sizes)


def test_l1_lesson_leaves_several_times_more_near_zero_weights_than_l2_or_nothing():
    from webapp.lessons.catalog import LESSONS, annotate

    lesson = annotate([dict(x) for x in LESSONS if x["slug"] == "l1-vs-l2-weights"])[0]
    l1, l2, none = (_near_zero_after(v["spec"]) for v in lesson["variants"])
    assert l1 > 10 * max(l2, none, 1e-3), (l1, l2, none)
