"""The sweep lessons, each run through the engine with its seed: what the lesson text claims happens."""

import pytest

from tests.unit.lesson_sweeps import expand_sweep, final, run
from webapp.sweeps.lessons import SWEEP_LESSONS

pytestmark = pytest.mark.slow
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
