import json

import pytest

from training.spec import Limits, SpecError, dump, json_schema, validate


def errors_of(doc, limits=None):
    with pytest.raises(SpecError) as exc:
        validate(doc, limits)
    return exc.value.errors


def test_empty_spec_is_valid_with_every_default():
    spec = dump(validate({}))
    assert spec["version"] == 1 and spec["mode"] == "train"
    assert spec["data"]["dataset"] == "circle"
    assert spec["optimizer"]["name"] == "adam"
    assert [layer["type"] for layer in spec["model"]["layers"]] == ["dense", "dense"]
    assert validate(spec) == validate({})  # a dumped spec validates to itself


def test_every_error_is_listed_with_a_json_pointer():
    errs = errors_of({"model": {"layers": [{"type": "dense", "units": 0}, {"type": "nope"}]},
                      "optimizer": {"lr": 0}, "data": {"split": {"train": 0.5}}})
    paths = [e["path"] for e in errs]
    assert paths == ["/data/split", "/model/layers/0/units", "/model/layers/1", "/optimizer/lr"]
    assert all(e["message"] for e in errs)


def test_unknown_fields_are_errors_not_silently_ignored():
    assert errors_of({"optimizer": {"name": "sgd", "lerning_rate": 1}}) == [
        {"path": "/optimizer/lerning_rate", "message": 'Optimizer has no field "lerning_rate"'}]


def test_nested_residual_and_augment_paths_skip_the_union_tag():
    errs = errors_of({"model": {"layers": [{"type": "residual", "layers": [{"type": "dense", "units": -3}]}]},
                      "augment": [{"type": "mixup", "alpha": 0}]})
    assert [e["path"] for e in errs] == ["/augment/0/alpha", "/model/layers/0/layers/0/units"]


def test_limits_come_from_the_caller():
    small = Limits(max_epochs=10, max_samples=100)
    errs = errors_of({"training": {"epochs": 11}, "data": {"n_samples": 101}}, small)
    assert {e["path"] for e in errs} == {"/training/epochs", "/data/n_samples"}
    validate({"training": {"epochs": 11}})  # the default limits allow it


@pytest.mark.parametrize("doc,path", [
    ({"data": {"dataset": "plane"}, "loss": "cross_entropy"}, "/loss"),
    ({"data": {"dataset": "circle"}, "augment": [{"type": "hflip"}]}, "/augment/0/type"),
    ({"data": {"dataset": "upload"}}, "/data/upload_id"),
    ({"data": {"upload_id": "../../etc/passwd"}}, "/data/upload_id"),
    ({"schedule": {"name": "multistep", "milestones": [5, 3]}}, "/schedule/milestones"),
    ({"regularization": {"early_stopping": {"metric": "val_loss"}}, "data": {"split": {"train": 1.0, "val": 0,
                                                                                      "test": 0}}}, None),
    ({"optimizer": {"betas": [0.9, 1.5]}}, "/optimizer"),
    ({"version": 2}, "/version"),
])
def test_invalid_combinations_name_the_field(doc, path):
    errs = errors_of(doc)
    if path is not None:
        assert path in [e["path"] for e in errs], errs


def test_json_schema_is_serializable_and_lists_the_vocabulary():
    text = json.dumps(json_schema())
    for word in ("kaiming_normal", "nesterov", "onecycle", "cutmix", "groupnorm", "mnist1d", "huber", "gelu"):
        assert word in text
