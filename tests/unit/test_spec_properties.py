"""Hypothesis: any JSON value given to the spec validation is a Spec or a SpecError, nothing else.

Two kinds of input: any JSON value at all (deep nesting, huge integers, NaN and
Infinity as Python's json reads them, any unicode), and the default spec with one or
more fields replaced by such values (reaching far deeper into the models). Outcome
counts go to artifacts/hypothesis_counts.json and are printed with ``-s``.
"""

import json
import math
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from training.check import check
from training.spec import Spec, SpecError, dump, validate
from training.spec_messages import is_index, split_pointer

COUNTS: Counter = Counter()
ARTIFACT = Path(__file__).resolve().parents[2] / "artifacts" / "hypothesis_counts.json"


def bounded(n: int):
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))

scalars = (st.none() | st.booleans()
           | st.integers(min_value=-(2**70), max_value=2**70) | st.integers(min_value=-10, max_value=100)
           | st.sampled_from([10**7, 10**12, 2**62, 2**64, 10**400, -(10**400)])
           | st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([math.inf, -math.inf, math.nan, 1e308])
           | st.text(max_size=12) | st.sampled_from(["same", "valid", "relu", "dense", "adam", "1e", "", "NaN"]))
json_values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4)
                           | st.dictionaries(st.text(max_size=8), kids, max_size=4), max_leaves=24)


@st.composite
def deep(draw):
    """JSON nested 50 to 3,000 levels (built in one step: drawing each level would be slow)."""
    depth = draw(st.integers(min_value=50, max_value=3000))
    leaf, as_list = draw(scalars), draw(st.booleans())
    for _ in range(depth):
        leaf = [leaf] if as_list else {"layers": leaf}
    return leaf


DEFAULT = dump(validate({}))
LAYER_TYPES = ["dense", "conv2d", "maxpool2d", "avgpool2d", "flatten", "dropout", "batchnorm", "layernorm",
               "groupnorm", "activation", "residual"]
DATASETS = ["circle", "xor", "digits", "plane", "poly1d", "mnist1d", "upload", "spiral"]


def leaf_paths(node, parts=()):
    if isinstance(node, dict) and node:
        for k, v in node.items():
            yield from leaf_paths(v, parts + (k,))
    elif isinstance(node, list) and node:
        for i, v in enumerate(node):
            yield from leaf_paths(v, parts + (i,))
    yield parts


PATHS = [p for p in leaf_paths(DEFAULT) if p]
layer = st.fixed_dictionaries({"type": st.sampled_from(LAYER_TYPES)},
                              optional={k: json_values | st.integers(-3, 70) for k in
                                        ("units", "filters", "kernel", "stride", "padding", "groups", "p", "layers",
                                         "activation", "init", "fn")})


@st.composite
def mutated_specs(draw):
    doc = json.loads(json.dumps(DEFAULT))
    doc["data"]["dataset"] = draw(st.sampled_from(DATASETS))
    if draw(st.booleans()):
        doc["model"]["layers"] = draw(st.lists(layer, max_size=5))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        path = draw(st.sampled_from(PATHS))
        node = doc
        for key in path[:-1]:
            node = node[key] if (isinstance(node, dict) and key in node) or (
                isinstance(node, list) and isinstance(key, int) and key < len(node)) else None
            if not isinstance(node, (dict, list)):
                break
        else:
            last = path[-1]
            if isinstance(node, dict) or (isinstance(node, list) and isinstance(last, int) and last < len(node)):
                node[last] = draw(json_values | deep())
    if draw(st.booleans()):
        doc[draw(st.text(max_size=6))] = draw(json_values)
    return doc


small = st.integers(min_value=-1, max_value=9)
plausible_layer = st.one_of(
    st.fixed_dictionaries({"type": st.just("dense"), "units": st.integers(0, 64),
                           "activation": st.sampled_from(["relu", "tanh", "linear", "gelu"])}),
    st.fixed_dictionaries({"type": st.just("conv2d"), "filters": st.integers(1, 16), "kernel": st.integers(1, 9),
                           "stride": st.integers(1, 4), "padding": st.integers(0, 4) | st.sampled_from(["same", "valid"])}),
    st.fixed_dictionaries({"type": st.sampled_from(["maxpool2d", "avgpool2d"]), "kernel": st.integers(1, 5)}),
    st.fixed_dictionaries({"type": st.sampled_from(["flatten", "batchnorm", "layernorm"])}),
    st.fixed_dictionaries({"type": st.just("groupnorm"), "groups": st.integers(1, 8)}),
    st.fixed_dictionaries({"type": st.just("dropout"), "p": st.floats(0, 0.99)}),
    st.fixed_dictionaries({"type": st.just("residual"), "layers": st.lists(
        st.fixed_dictionaries({"type": st.just("dense"), "units": st.integers(1, 16)}), min_size=0, max_size=2)}),
)
plausible_specs = st.fixed_dictionaries({
    "data": st.fixed_dictionaries({"dataset": st.sampled_from([d for d in DATASETS if d != "upload"])}),
    "model": st.fixed_dictionaries({"layers": st.lists(plausible_layer, max_size=5)}),
    "optimizer": st.fixed_dictionaries({"name": st.sampled_from(["sgd", "adam", "rmsprop", "adadelta"]),
                                        "lr": st.floats(1e-4, 1.0)}),
    "training": st.fixed_dictionaries({"batch_size": st.integers(1, 4096), "epochs": st.integers(1, 50)}),
    "monitor": st.fixed_dictionaries({}, optional={"landscape": st.fixed_dictionaries(
        {"mode": st.sampled_from(["none", "1d", "2d"]), "eval_samples": st.integers(16, 4096)})}),
})


def outcome(doc, run=validate):
    """Spec or SpecError; any other exception fails the test. Checks the errors' shape."""
    try:
        result = run(doc)
    except SpecError as exc:
        assert exc.errors, "a SpecError lists at least one problem"
        for e in exc.errors:
            assert set(e) == {"path", "message"} and isinstance(e["path"], str) and isinstance(e["message"], str)
            assert e["message"] and "Value error" not in e["message"] and "Input should" not in e["message"]
            assert e["path"] == "" or e["path"].startswith("/")
            assert_points_into(doc, e["path"])
        json.dumps(exc.errors, allow_nan=False)  # the answer itself is valid JSON
        return "SpecError"
    spec = result[0] if isinstance(result, tuple) else result
    assert isinstance(spec, Spec)
    stored = json.loads(json.dumps(dump(spec), allow_nan=False))  # what is stored is finite, valid JSON
    assert validate(stored) == spec  # and the worker reads back the same spec
    return "Spec"


def assert_points_into(doc, path):
    """An error's path leads through the submitted document (its last key may be absent: a missing field)."""
    node = doc
    for part in split_pointer(path)[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and is_index(part) and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and not node and part in DEFAULT:  # a default the person left out
            return
        else:
            raise AssertionError(f"{path} does not point into the document")


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    if COUNTS:
        ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
        ARTIFACT.write_text(json.dumps(dict(sorted(COUNTS.items())), indent=1))
        print(f"\nhypothesis: {sum(COUNTS.values())} documents, outcomes {dict(sorted(COUNTS.items()))}")


@bounded(150)
@given(json_values | deep())
def test_any_json_value_gives_a_spec_or_a_spec_error(doc):
    COUNTS["any_json " + outcome(doc)] += 1


@bounded(100)
@given(st.dictionaries(st.sampled_from(list(DEFAULT) + ["extra"]), json_values | deep(), max_size=5))
def test_any_values_in_the_top_level_sections_give_a_spec_or_a_spec_error(doc):
    COUNTS["sections " + outcome(doc)] += 1


@bounded(150)
@given(mutated_specs())
def test_the_default_spec_with_fields_replaced_gives_a_spec_or_a_spec_error(doc):
    COUNTS["mutated " + outcome(doc)] += 1


@bounded(40)
@given(mutated_specs())
def test_the_whole_check_with_shapes_and_memory_gives_a_spec_or_a_spec_error(doc):
    COUNTS["mutated_check " + outcome(doc, run=check)] += 1


@bounded(80)
@given(plausible_specs)
def test_plausible_specs_through_shapes_and_memory_give_a_spec_or_a_spec_error(doc):
    COUNTS["plausible_check " + outcome(doc, run=check)] += 1
