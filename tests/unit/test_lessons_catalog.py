"""The lessons of issue 7: each one, with its seed, shows what its text promises.

Every lesson here is run through the engine as served (GET /api/presets), variants
included, and the test checks the contrast the card asks the student to watch.
"""

import pytest

from training.loop import ListSink, train
from training.spec import validate
from webapp.lessons.catalog import LESSONS, PANEL_IDS
from webapp.presets.presets import PRESETS

BY_SLUG = {p["slug"]: p for p in PRESETS}
MINE = ["underfit-overfit-width", "imbalanced-classes", "gradient-clipping", "label-smoothing", "adam-warmup"]


def _run(spec: dict) -> tuple[str, dict, ListSink]:
    doc = {**spec, "monitor": {**spec.get("monitor", {}), "diagnostics": False, "boundary": False, "neurons": False}}
    sink = ListSink()
    status = train(validate(doc), sink)
    summary = sink.of("summary")[0] if sink.of("summary") else {}
    return str(getattr(status, "status", status)), summary, sink


def _variant(slug: str, i: int) -> dict:
    return BY_SLUG[slug]["variants"][i]["spec"]


def test_the_five_lessons_are_served_with_panel_watch_and_variants():
    assert set(MINE) <= {lesson["slug"] for lesson in LESSONS}
    for slug in MINE:
        p = BY_SLUG[slug]
        assert p["panel"] in PANEL_IDS and len(p["watch"]) > 20
        assert len(p["variants"]) == 2 and p["spec"]["lesson"] == slug
        for v in p["variants"]:
            assert v["spec"]["lesson"] == slug
            validate(v["spec"])


def test_every_preset_names_a_real_panel_and_keeps_its_slug():
    for p in PRESETS:
        assert p["panel"] in PANEL_IDS, p["slug"]
        assert p["watch"]
        if isinstance(p.get("spec"), dict):
            assert p["spec"]["lesson"] == p["slug"]
            validate(p["spec"])


def test_contrasting_presets_offer_run_both():
    names = [v["spec"]["lesson"] for v in BY_SLUG["vanishing-gradients-sigmoid"]["variants"]]
    assert names == ["vanishing-gradients-sigmoid", "relu-he-init"]
    assert len(BY_SLUG["sgd-plain"]["variants"]) == 3
    without = BY_SLUG["batchnorm"]["variants"][1]["spec"]
    assert not any(layer["type"] == "batchnorm" for layer in without["model"]["layers"])


@pytest.mark.slow
def test_imbalanced_classes_hide_the_minority():
    _, imb, _ = _run(_variant("imbalanced-classes", 0))
    _, bal, _ = _run(_variant("imbalanced-classes", 1))
    major, minor = imb["per_class_acc"]
    assert major - minor > 0.3  # about 0.97 vs 0.5 with seed 0
    assert abs(bal["per_class_acc"][0] - bal["per_class_acc"][1]) < 0.15


@pytest.mark.slow
def test_gradient_clipping_tames_the_exploding_net():
    clipped, summary, _ = _run(_variant("gradient-clipping", 0))
    assert clipped == "succeeded" and summary["val_acc"] > 0.9
    unclipped, _, sink = _run(_variant("gradient-clipping", 1))
    assert unclipped == "diverged"
    assert "nan" in sink.of("status")[-1]["message"].lower() or "inf" in sink.of("status")[-1]["message"].lower()


@pytest.mark.slow
def test_label_smoothing_makes_the_net_less_sure_not_less_right():
    _, smooth, _ = _run(_variant("label-smoothing", 0))
    _, hard, _ = _run(_variant("label-smoothing", 1))
    # training loss on hard labels: a floor with smoothing, near zero without
    assert smooth["train_loss"] > 3 * hard["train_loss"]
    assert abs(smooth["test_acc"] - hard["test_acc"]) <= 0.05


@pytest.mark.slow
def test_warmup_helps_adam_at_a_high_lr():
    _, warm, warm_sink = _run(_variant("adam-warmup", 0))
    _, cold, _ = _run(_variant("adam-warmup", 1))
    assert warm["val_acc"] > cold["val_acc"] + 0.05
    lrs = [e["lr"] for e in warm_sink.of("step")]
    assert lrs[0] < lrs[-1] / 10  # the ramp is really there


@pytest.mark.slow
def test_width_underfits_when_narrow_and_overfits_when_wide():
    _, narrow, _ = _run(_variant("underfit-overfit-width", 0))
    _, wide, _ = _run(_variant("underfit-overfit-width", 1))
    assert narrow["train_acc"] < 0.8  # cannot even fit the training points
    assert wide["train_acc"] > 0.9 and wide["val_loss"] > 3 * wide["train_loss"]  # fits them, not the rest
