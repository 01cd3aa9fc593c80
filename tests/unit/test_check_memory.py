"""The memory estimate refuses specs that would exhaust a worker, and passes the presets."""

import numpy as np
import pytest

from training.check import check, estimate_memory
from training.spec import Limits, SpecError, validate
from webapp.presets.presets import PRESETS

ISSUE_CONVS = {"model": {"layers": [{"type": "conv2d", "filters": 64, "kernel": 3, "padding": "same"},
                                    {"type": "conv2d", "filters": 64, "kernel": 3, "padding": "same"}]},
               "training": {"batch_size": 4096}}


def max_size_upload(tmp_path):
    """An upload whose stored description is the largest allowed image set: 20000×1×64×64.

    Only the metadata is read at validation, so a small array stands in for the pixels.
    """
    from training.data.uploads import save

    meta = {"task": "classification", "n_classes": 2, "classes": [0, 1], "input_shape": [1, 64, 64],
            "kind": "image", "n_samples": 20000, "format": "npz", "filename": "big.npz", "feature_names": None}
    save(tmp_path, "big", np.zeros((20, 1, 64, 64), np.float32), np.arange(20) % 2, meta)
    return "big"


def test_issue_case_two_64_filter_convs_on_a_max_upload_with_batch_4096_is_refused(tmp_path):
    upload = max_size_upload(tmp_path)
    doc = {**ISSUE_CONVS, "data": {"dataset": "upload", "upload_id": upload}}
    with pytest.raises(SpecError) as exc:
        check(doc, Limits(), tmp_path)
    errors = {e["path"]: e["message"] for e in exc.value.errors}
    assert set(errors) == {"/training/batch_size", "/model/layers/0"} or set(errors) == {
        "/training/batch_size", "/model/layers/1"}
    assert "2,048 MB" in errors["/training/batch_size"]


def test_the_same_network_passes_with_a_small_batch(tmp_path):
    upload = max_size_upload(tmp_path)
    doc = {**ISSUE_CONVS, "data": {"dataset": "upload", "upload_id": upload}, "training": {"batch_size": 32}}
    _spec, summary = check(doc, Limits(), tmp_path)
    assert summary["memory_mb"]["train"] < 2048


def test_memory_grows_with_the_batch_and_the_optimizer_state():
    base = {"data": {"dataset": "digits"}, "model": {"layers": [{"type": "conv2d", "filters": 16}]}}
    small = check({**base, "training": {"batch_size": 16}})[1]["memory_mb"]["train"]
    big = check({**base, "training": {"batch_size": 256}})[1]["memory_mb"]["train"]
    assert big > 4 * small
    spec, summary = check({"model": {"layers": [{"type": "dense", "units": 1000}] * 2}})
    adam = estimate_memory(spec, summary, 500)["params_mb"]
    sgd = estimate_memory(validate({**spec.model_dump(mode="json"), "optimizer": {"name": "sgd"}}), summary, 500)
    assert adam == pytest.approx(2 * sgd["params_mb"])  # weights+grads+2 moments vs weights+grads


def test_the_limit_comes_from_the_settings_value():
    doc = {"data": {"dataset": "digits"}, "training": {"batch_size": 512},
           "model": {"layers": [{"type": "conv2d", "filters": 64}]}}
    check(doc, Limits())
    with pytest.raises(SpecError) as exc:
        check(doc, Limits(max_memory_mb=10))
    assert "/training/batch_size" in {e["path"] for e in exc.value.errors}


def test_a_landscape_over_budget_names_the_landscape():
    doc = {"model": {"layers": [{"type": "dense", "units": 1000}, {"type": "dense", "units": 1000}]},
           "monitor": {"landscape": {"mode": "2d"}}}
    _spec, summary = check(doc)
    assert summary["memory_mb"]["landscape"] > summary["memory_mb"]["train"]
    with pytest.raises(SpecError) as exc:
        check(doc, Limits(max_memory_mb=int(summary["memory_mb"]["train"]) + 1))
    assert [e["path"] for e in exc.value.errors] == ["/monitor/landscape"]


@pytest.mark.parametrize("preset", PRESETS, ids=[p["slug"] for p in PRESETS])
def test_every_preset_fits_the_default_memory_limit(preset):
    _spec, summary = check(preset["spec"], Limits())
    assert max(summary["memory_mb"].values()) < Limits().max_memory_mb
