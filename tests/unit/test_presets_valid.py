"""Every classroom preset is a valid spec, and together they cover the lessons."""

import json
import re

import pytest

from training.spec import validate
from webapp.presets.presets import PRESETS

SLUGS = [p["slug"] for p in PRESETS]


def test_presets_have_unique_url_safe_slugs():
    assert len(SLUGS) == len(set(SLUGS))
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", s) for s in SLUGS)


@pytest.mark.parametrize("preset", PRESETS, ids=SLUGS)
def test_preset_has_title_lesson_and_json_spec(preset):
    assert {"slug", "title", "lesson", "spec"} <= set(preset)  # + panel, watch, variants (webapp/lessons)
    assert preset["title"].strip() and len(preset["lesson"]) > 40
    assert json.loads(json.dumps(preset["spec"])) == preset["spec"]


@pytest.mark.parametrize("preset", PRESETS, ids=SLUGS)
def test_preset_passes_spec_validation(preset):
    validate(preset["spec"])


@pytest.mark.parametrize("preset", PRESETS, ids=SLUGS)
def test_preset_builds_a_network_of_the_right_shape(preset):
    # shapes and parameter limits need the model builder (training.check); skip if absent
    check = pytest.importorskip("training.check").check
    _spec, summary = check(preset["spec"])
    assert summary["params"] > 0


@pytest.mark.parametrize("preset", PRESETS, ids=SLUGS)
def test_preset_stays_small_enough_for_a_classroom(preset):
    spec = validate(preset["spec"])
    # a rough budget: samples seen in training, so each preset finishes in seconds on a CPU
    samples_seen = spec.data.n_samples * spec.data.split.train * spec.training.epochs
    assert samples_seen <= 40_000, samples_seen
    assert spec.data.n_samples <= 1797  # at most the whole digits set (its default since issue 9)


def test_presets_cover_the_lessons():
    specs = [validate(p["spec"]) for p in PRESETS]

    def some(pred):
        return any(pred(s) for s in specs)

    def layers(s):
        return s.model.layers

    assert some(lambda s: s.mode == "lr_finder")
    assert some(lambda s: s.monitor.landscape is not None and s.monitor.landscape.trajectory)
    assert some(lambda s: any(getattr(layer, "activation", None) == "sigmoid" for layer in layers(s)))
    assert some(lambda s: s.model.init.weights == "zeros")
    assert {"sgd", "nesterov", "adam"} <= {s.optimizer.name for s in specs}
    assert some(lambda s: s.schedule.warmup_epochs > 0)
    assert some(lambda s: s.regularization.l1 > 0) and some(lambda s: s.regularization.l2 > 0)
    assert some(lambda s: s.regularization.max_norm is not None)
    assert some(lambda s: s.regularization.early_stopping is not None)
    assert some(lambda s: any(layer.type == "dropout" for layer in layers(s)))
    assert some(lambda s: any(layer.type == "batchnorm" for layer in layers(s)))
    assert some(lambda s: s.data.dataset == "digits" and s.augment)
    assert some(lambda s: s.data.label_noise > 0) and some(lambda s: s.data.random_labels)
    assert some(lambda s: s.data.dataset == "poly1d")
