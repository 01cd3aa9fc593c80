"""Validation messages are sentences about the field as the builder shows it."""

import pytest

from training.spec import SpecError, parse, validate


def errors_of(doc):
    with pytest.raises(SpecError) as exc:
        validate(doc)
    return {e["path"]: e["message"] for e in exc.value.errors}


@pytest.mark.parametrize("doc,path,message", [
    ({"model": {"layers": [{"type": "dense", "units": 0}]}}, "/model/layers/0/units",
     "Layer 1 (dense): units must be at least 1"),
    ({"optimizer": {"lr": "1e"}}, "/optimizer/lr", 'Learning rate must be a number, got "1e"'),
    ({"optimizer": {"lr": 0}}, "/optimizer/lr", "Learning rate must be greater than 0"),
    ({"training": {"batch_size": 2.5}}, "/training/batch_size", "Batch size must be a whole number, got 2.5"),
    ({"monitor": {"boundary": "maybe"}}, "/monitor/boundary", 'Decision boundary must be true or false, got "maybe"'),
    ({"optimizer": {"name": "adamm"}}, "/optimizer/name", None),
    ({"model": {"layers": [{"type": "dense"}, {"type": "warp"}]}}, "/model/layers/1", None),
    ({"model": {"layers": [{"type": "residual", "layers": [{"type": "conv2d", "kernel": 99}]}]}},
     "/model/layers/0/layers/0/kernel", "Layer 1 (residual), layer 1 (conv2d): kernel must be at most 11"),
    ({"augment": [{"type": "mixup", "alpha": 0}]}, "/augment/0/alpha",
     "Augmentation 1 (mixup): alpha must be greater than 0"),
    ({"data": {"split": {"train": 0.5, "val": 0.1, "test": 0.1}}}, "/data/split",
     "Data split: train + val + test must add up to 1"),
    ({"regularization": {"max_norm": float("nan")}}, "/regularization/max_norm",
     "Max-norm constraint must be a finite number, got NaN"),
    ({"model": {"layers": [{"type": "conv2d", "padding": "full"}]}}, "/model/layers/0/padding",
     "Layer 1 (conv2d): padding must be a whole number or 'same' or 'valid', got \"full\""),
    ({"model": {"layers": [{"type": "conv2d", "padding": 10**7}]}}, "/model/layers/0/padding",
     "Layer 1 (conv2d): padding must be at most 10"),
    ({"optimizer": {"lerning_rate": 1}}, "/optimizer/lerning_rate", 'Optimizer has no field "lerning_rate"'),
    ({"model": {"layers": [{"type": "dense", "untis": 3}]}}, "/model/layers/0/untis",
     'Layer 1 (dense) has no field "untis"'),
    ({"name": "x" * 201}, "/name", "Name must be at most 200 characters long"),
])
def test_messages_name_the_field_as_the_user_sees_it(doc, path, message):
    errors = errors_of(doc)
    assert path in errors, errors
    text = errors[path]
    if message is not None:
        assert text == message
    assert text[0].isupper()
    assert "Value error" not in text and "Input should" not in text and "tagged-union" not in text


def test_unknown_names_list_the_choices():
    text = errors_of({"optimizer": {"name": "adamm"}})["/optimizer/name"]
    assert "'adam'" in text and "'sgd'" in text and '"adamm"' in text
    text = errors_of({"model": {"layers": [{"type": "warp"}]}})["/model/layers/0"]
    assert text.startswith('Layer 1: has an unknown type "warp"') and "conv2d" in text


def test_limit_errors_come_with_field_errors_in_one_round():
    parsed = parse({"optimizer": {"lr": "x"}, "training": {"epochs": 10**5}, "data": {"n_samples": 10**6}})
    assert {e["path"] for e in parsed.errors} == {"/optimizer/lr", "/training/epochs", "/data/n_samples"}


def test_a_rule_that_could_read_a_repaired_default_stays_silent():
    # the dataset name is wrong: whether conv layers fit it cannot be known, so nothing is said
    parsed = parse({"data": {"dataset": "digitz"}, "augment": [{"type": "hflip"}]})
    assert [e["path"] for e in parsed.errors] == ["/data/dataset"]
    # a wrong lr is repaired to its default; the schedule rule that reads lr must not fire on it
    parsed = parse({"optimizer": {"lr": "x"}, "schedule": {"name": "cosine", "min_lr": 0.05}})
    assert [e["path"] for e in parsed.errors] == ["/optimizer/lr"]


def test_cross_field_rules_report_beside_unrelated_field_errors():
    parsed = parse({"model": {"layers": [{"type": "dense", "units": -1}]},
                    "schedule": {"name": "multistep", "milestones": [5, 3]}})
    assert {e["path"] for e in parsed.errors} == {"/model/layers/0/units", "/schedule/milestones"}


def test_deep_and_huge_input_is_refused_before_pydantic():
    doc: list = []
    for _ in range(10_000):
        doc = [doc]
    errors = errors_of({"name": doc})
    assert list(errors.values()) == ["The spec is nested more than 64 levels deep here"]
    assert errors_of({"seed": 10**5000})["/seed"].startswith("Seed is far too large (a number of about 5")


def test_every_integer_field_of_the_spec_has_an_upper_bound():
    """Shape arithmetic and loops stay bounded (issue 8: a padding of 10**12 made validation spin)."""
    from training.spec import Spec

    schema = Spec.model_json_schema()
    unbounded = []

    def walk(node, where):
        for sub in node.get("anyOf", []):
            walk(sub, where)
        if node.get("type") == "integer" and "const" not in node and not {"maximum", "exclusiveMaximum"} & set(node):
            unbounded.append(where)
        if node.get("type") == "array":
            walk(node.get("items", {}), where + "[]")

    for name, model in [*schema["$defs"].items(), ("Spec", schema)]:
        for prop, node in model.get("properties", {}).items():
            walk(node, f"{name}.{prop}")
    assert not unbounded, f"give these an upper bound (le=...): {unbounded}"


def test_rules_written_elsewhere_name_their_field_and_say_it_once():
    from training.check import check

    with pytest.raises(SpecError) as exc:
        check({"data": {"dataset": "plane"}, "loss": "cross_entropy", "augment": [{"type": "hflip"}]})
    errors = exc.value.errors
    assert sorted(e["path"] for e in errors) == ["/augment/0/type", "/loss"]  # the data check agreed: no repeat
    by_path = {e["path"]: e["message"] for e in errors}
    assert by_path["/loss"].startswith("Loss: cross_entropy needs a classification")
    assert by_path["/augment/0/type"].startswith("Augmentation 1 (hflip): hflip needs")
