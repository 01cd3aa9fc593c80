"""The sweep lessons, each run through the engine with its seed: what the lesson text claims happens."""

import pytest

from tests.unit.lesson_sweeps import expand_sweep, final, run
from webapp.sweeps.lessons import SWEEP_LESSONS

# slow: whole sweeps through the engine (seconds each on an idle core, minutes on a busy shared one)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
LESSONS = {lesson["slug"]: lesson for lesson in SWEEP_LESSONS}


def _results(slug):
    lesson = LESSONS[slug]
    metric = lesson["sweep"]["metric"]
    return [(values, final(run(doc), metric)) for values, _r, doc in expand_sweep(lesson)]


def test_lr_by_orders_of_magnitude_draws_a_u_in_validation_loss():
    results = _results("lr-orders-of-magnitude")
    lrs = [v["/optimizer/lr"] for v, _ in results]
    losses = [loss for _, loss in results]
    assert len(lrs) == 9 and all(b / a == pytest.approx(lrs[1] / lrs[0], rel=1e-6) for a, b in zip(lrs, lrs[1:]))
    best = min(range(9), key=losses.__getitem__)
    assert 0 < best < 8  # the minimum lies inside the range
    assert losses[0] > 3 * losses[best] and losses[-1] > 3 * losses[best]  # both arms of the U rise
    # the left arm falls monotonically towards the minimum: too small a step is just slow
    assert all(a > b for a, b in zip(losses[:best], losses[1:best + 1]))


def test_random_search_finds_a_better_learning_rate_than_the_grid():
    grid = _results("search-grid-lr-wd")
    rand = _results("search-random-lr-wd")
    # in the grid, weight decay changes nothing: runs that share a learning rate score the same
    by_lr = {}
    for v, acc in grid:
        by_lr.setdefault(v["/optimizer/lr"], []).append(acc)
    assert len(by_lr) == 3 and all(max(a) - min(a) <= 0.02 for a in by_lr.values())
    # random search tried nine learning rates instead of three, and found a better one
    assert len({v["/optimizer/lr"] for v, _ in rand}) == 9
    assert max(acc for _, acc in rand) > max(acc for _, acc in grid) + 0.03


def _curve(doc):
    epochs = run(doc)["epochs"]
    return [e["train_acc"] for e in epochs], [e["val_acc"] for e in epochs]


def test_grokking_validation_jumps_long_after_training_accuracy_hit_100_percent():
    lesson = LESSONS["grokking-weight-decay"]
    docs = {v["/optimizer/weight_decay"]: doc for v, _r, doc in expand_sweep(lesson)}
    train, val = _curve(docs[1.0])
    memorized = next(i for i, a in enumerate(train) if a >= 0.999)
    generalized = next(i for i, a in enumerate(val) if a >= 0.9)
    assert val[memorized] < 0.2  # memorized the table, knows nothing about the rest
    assert generalized > 4 * memorized  # ... and only much later finds the rule
    assert val[-1] > 0.9
    # without weight decay the memorized solution is never left
    train0, val0 = _curve(docs[0.0])
    assert max(train0) >= 0.999 and max(val0) < 0.2


def test_every_lesson_says_what_it_sweeps():
    for lesson in SWEEP_LESSONS:
        assert lesson["kind"] == "sweep" and len(lesson["lesson"]) > 200
        assert lesson["unlocked"] == [a["path"] for a in lesson["sweep"]["axes"]]
        assert 2 <= len(expand_sweep(lesson)) <= 64  # DESCENT_MAX_SWEEP_RUNS


def test_five_seeds_flip_the_single_seed_comparison():
    lesson = LESSONS["repeats-matter"]
    scores = {"sgd": [], "momentum": []}
    for values, _r, doc in expand_sweep(lesson):
        scores[values["/optimizer/name"]].append(final(run(doc), "val_acc"))
    assert [len(v) for v in scores.values()] == [5, 5]
    assert scores["sgd"][0] > scores["momentum"][0]  # the lesson's first seed alone: plain SGD wins
    mean = {k: sum(v) / 5 for k, v in scores.items()}
    assert mean["momentum"] > mean["sgd"]  # over five seeds: momentum does


def test_double_descent_test_loss_peaks_at_the_interpolation_threshold():
    lesson = LESSONS["double-descent-width"]
    rows = []
    for values, _r, doc in expand_sweep(lesson):
        s = run(doc)["summary"]
        rows.append((values["/model/layers/0/units"], s["train_acc"], s["test_loss"], 1 - s["test_acc"]))
    widths = [w for w, *_ in rows]
    threshold = next(i for i, (_w, train_acc, *_rest) in enumerate(rows) if train_acc >= 0.99)
    peak = max(range(len(rows)), key=lambda i: rows[i][2])
    assert 0 < threshold < len(rows) - 1, rows  # narrow nets cannot fit the noisy labels, wide ones can
    assert abs(peak - threshold) <= 1, (widths[peak], widths[threshold], rows)
    assert rows[0][2] < 0.5 * rows[peak][2]  # first descent ... the peak ...
    assert rows[-1][2] < 0.7 * rows[peak][2]  # ... and the second descent
    assert rows[peak][3] > rows[-1][3]  # test error too is worse at the threshold than far past it
