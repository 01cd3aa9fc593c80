"""Each dataset has defaults of its own; a spec that leaves them unset gets them."""

import pytest

from training.data import load
from training.loop import ListSink, train
from training.spec import dataset_defaults, dump, json_schema, validate
from webapp.presets.presets import PRESETS

QUIET = {"monitor": {"diagnostics": False, "boundary": False}}


def test_digits_defaults_to_the_whole_set_without_noise():
    spec = validate({"data": {"dataset": "digits"}})
    assert (spec.data.n_samples, spec.data.noise) == (1797, 0.0)
    bundle = load(spec)
    assert len(bundle.x_train) + len(bundle.x_val) + len(bundle.x_test) == 1797
    raw_values = {round(v, 4) for v in (bundle.x_train[:, 0, 3, 3] * 1).tolist()}
    assert len(raw_values) <= 17  # 17 grey levels (0..16) per pixel: no Gaussian noise added


def test_mnist1d_defaults_to_the_papers_4000_training_samples():
    spec = validate({"data": {"dataset": "mnist1d"}})
    bundle = load(spec)
    assert len(bundle.x_train) == 4000
    assert len(bundle.x_val) + len(bundle.x_test) == 1000
    assert spec.data.noise == 0.1


@pytest.mark.parametrize("name", ["circle", "xor", "spiral", "plane", "poly1d"])
def test_toy_sets_keep_500_points_and_noise_0_1(name):
    spec = validate({"data": {"dataset": name}})
    assert (spec.data.n_samples, spec.data.noise) == (500, 0.1)
    assert (spec.data.split.train, spec.data.split.val, spec.data.split.test) == (0.7, 0.15, 0.15)


def test_explicit_values_are_kept_and_survive_a_round_trip():
    doc = {"data": {"dataset": "digits", "n_samples": 500, "noise": 0.1, "split": {"train": 0.5, "val": 0.25,
                                                                                   "test": 0.25}}}
    spec = validate(doc)
    assert (spec.data.n_samples, spec.data.noise, spec.data.split.train) == (500, 0.1, 0.5)
    stored = dump(spec)  # what a run stores: the resolved values, so it rebuilds identically later
    assert stored["data"]["n_samples"] == 500 and validate(stored) == spec
    assert dump(validate({"data": {"dataset": "digits"}}))["data"]["n_samples"] == 1797


def test_schema_publishes_defaults_and_families():
    x = json_schema()["x-descent"]
    assert x["dataset_defaults"]["digits"] == dataset_defaults("digits")
    assert x["dataset_defaults"]["mnist1d"]["n_samples"] == 5000
    assert x["dataset_defaults"]["moons"]["noise"] == 0.1
    fam = x["dataset_families"]
    assert "moons" in fam["2d_classification"] and "plane" in fam["regression"]
    assert fam["images"] == ["digits"] and fam["upload"] == ["upload"]
    listed = [n for names in fam.values() for n in names]
    assert sorted(listed) == sorted(x["dataset_defaults"])  # every dataset in exactly one family


def test_cnn_preset_network_learns_digits_with_the_defaults():
    """The issue's case: 8 epochs of the small CNN reached 0.68 on 500 noisy digits."""
    cnn = next(p for p in PRESETS if p["slug"] == "augment-digits")["spec"]["model"]
    spec = validate({"seed": 0, "data": {"dataset": "digits"}, "model": cnn, **QUIET,
                     "optimizer": {"name": "adam", "lr": 0.003}, "training": {"epochs": 8, "batch_size": 32}})
    sink = ListSink()
    train(spec, sink)
    assert sink.of("epoch")[-1]["val_acc"] >= 0.9
