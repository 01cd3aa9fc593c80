"""The `modular` dataset: every equation a ∘ b mod p, one-hot operands, chosen training fraction."""

import numpy as np
import pytest
import torch

from training.data import describe, load
from training.data.modular import table
from training.spec import SpecError, validate


def _spec(**data):
    return validate({"data": {"dataset": "modular", "normalize": "none", **data}})


def test_table_holds_every_pair_once_with_its_sum_mod_p():
    a, b, c = table(7, "add")
    assert len(a) == 49 and len({(x, y) for x, y in zip(a, b)}) == 49
    assert all(ci == (ai + bi) % 7 for ai, bi, ci in zip(a, b, c))


def test_subtraction_wraps_around():
    a, b, c = table(5, "sub")
    i = int(np.flatnonzero((a == 1) & (b == 3))[0])
    assert c[i] == (1 - 3) % 5 == 3


def test_inputs_are_two_one_hot_operands_and_labels_the_result():
    bundle = load(_spec(modulus=11, operation="add", split={"train": 0.5, "val": 0.5, "test": 0.0}))
    x = torch.cat([bundle.x_train, bundle.x_val, bundle.x_test])
    y = torch.cat([bundle.y_train, bundle.y_val, bundle.y_test])
    assert x.shape == (121, 22) and bundle.n_classes == 11
    assert torch.all(x[:, :11].sum(1) == 1) and torch.all(x[:, 11:].sum(1) == 1)
    a, b = x[:, :11].argmax(1), x[:, 11:].argmax(1)
    assert torch.equal((a + b) % 11, y)


def test_training_fraction_is_the_split_and_splits_are_disjoint():
    bundle = load(_spec(modulus=13, split={"train": 0.3, "val": 0.7, "test": 0.0}))
    assert len(bundle.x_train) == round(0.3 * 169) and len(bundle.x_train) + len(bundle.x_val) + len(bundle.x_test) == 169
    train_rows = {tuple(r.tolist()) for r in bundle.x_train}
    assert not any(tuple(r.tolist()) in train_rows for r in bundle.x_val)


def test_describe_knows_classes_and_input_size_without_generating():
    info = describe(_spec(modulus=23).data)
    assert info["n_classes"] == 23 and tuple(info["input_shape"]) == (46,)


@pytest.mark.parametrize("field,value", [("modulus", 1), ("modulus", 500), ("operation", "mul")])
def test_bad_modulus_or_operation_is_rejected_at_its_path(field, value):
    with pytest.raises(SpecError) as exc:
        validate({"data": {"dataset": "modular", field: value}})
    assert any(e["path"] == f"/data/{field}" for e in exc.value.errors)
