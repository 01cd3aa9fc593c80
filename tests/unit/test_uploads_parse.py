"""Uploads: good CSV/NPZ files parse, every bad file gets its own clear message, stored uploads load."""

import io

import numpy as np
import pytest
import torch

from training.data import check, describe, load
from training.data.uploads import UploadError, parse, read_meta, save
from training.spec import Limits, SpecError, validate

UNPICKLED = []


def _record():
    UNPICKLED.append(True)
    return 0


class Trap:
    """Unpickling this runs code: the reason uploads must never be unpickled."""

    def __reduce__(self):
        return (_record, ())


def csv_bytes(rows, header=None, sep=","):
    lines = ([sep.join(header)] if header else []) + [sep.join(str(v) for v in r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def npz_bytes(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def table(n=12, labels=(3, 7, 9)):
    rng = np.random.default_rng(0)
    return [[round(float(a), 3), round(float(b), 3), labels[i % len(labels)]]
            for i, (a, b) in enumerate(rng.normal(size=(n, 2)))]


def message(filename, content, limits=None):
    with pytest.raises(UploadError) as err:
        parse(filename, content, limits)
    assert str(err.value) == err.value.message
    return err.value.message


# ---------------------------------------------------------------- good files


def test_csv_with_header_is_classification_with_labels_remapped():
    x, y, meta = parse("points.csv", csv_bytes(table(), header=["a", "b", "label"]))
    assert x.shape == (12, 2) and x.dtype == np.float32
    assert y.dtype == np.int64 and sorted(set(y.tolist())) == [0, 1, 2]
    assert meta["classes"] == [3, 7, 9] and meta["task"] == "classification" and meta["n_classes"] == 3
    assert meta["feature_names"] == ["a", "b"] and meta["kind"] == "2d" and meta["format"] == "csv"
    assert np.allclose(x[0], table()[0][:2])


def test_csv_without_header_and_float_targets_is_regression():
    rows = [[i, i * 0.5, i * 1.25 + 0.1] for i in range(15)]
    x, y, meta = parse("r.csv", csv_bytes(rows))
    assert meta["task"] == "regression" and meta["n_classes"] == 0 and meta["feature_names"] is None
    assert y.dtype == np.float32 and np.allclose(y, [r[2] for r in rows])
    assert x.shape == (15, 2)


def test_many_integer_values_are_a_regression_target():
    rows = [[i, i * 2] for i in range(30)]  # 30 distinct integers > 20
    _, _, meta = parse("r.csv", csv_bytes(rows))
    assert meta["task"] == "regression" and meta["kind"] == "1d"


def test_csv_accepts_semicolons_tabs_and_a_byte_order_mark():
    for sep in (";", "\t"):
        x, _, _ = parse("t.csv", csv_bytes(table(), sep=sep))
        assert x.shape == (12, 2)
    x, _, meta = parse("bom.csv", b"\xef\xbb\xbf" + csv_bytes(table(), header=["a", "b", "y"]))
    assert meta["feature_names"] == ["a", "b"]


def test_npz_vectors_images_and_channels_last():
    y = np.arange(20) % 2
    x, yy, meta = parse("d.npz", npz_bytes(X=np.random.rand(20, 5), y=y))
    assert x.shape == (20, 5) and meta["kind"] == "vector" and np.array_equal(yy, y)
    x, _, meta = parse("d.npz", npz_bytes(x=np.random.rand(20, 6, 7), y=y.reshape(-1, 1)))
    assert x.shape == (20, 1, 6, 7) and meta["kind"] == "image" and meta["input_shape"] == [1, 6, 7]
    x, _, _ = parse("d.npz", npz_bytes(x=np.random.rand(20, 3, 8, 8), y=y))
    assert x.shape == (20, 3, 8, 8)
    x, _, _ = parse("d.npz", npz_bytes(x=np.random.rand(20, 8, 8, 3), y=y))
    assert x.shape == (20, 3, 8, 8)
    x, _, meta = parse("noext", npz_bytes(x=np.random.randint(0, 255, (20, 4, 4), dtype=np.uint8), y=y))
    assert x.dtype == np.float32 and meta["format"] == "npz"


# ---------------------------------------------------------------- bad files


def test_empty_files():
    assert message("a.csv", b"") == "the file is empty"
    assert message("a.csv", b"\n  \n") == "the file is empty"


def test_too_large():
    assert message("a.csv", b"1,2\n" * 100, Limits(max_upload_bytes=100)) == \
        "the file is 0.0 MB; at most 0.0 MB are allowed"
    big = Limits(max_upload_bytes=3 * 2**20)
    assert message("a.csv", b"1" * (4 * 2**20), big) == "the file is 4.0 MB; at most 3.0 MB are allowed"


def test_not_utf8():
    assert message("a.csv", b"1,2\n\xff\xfe,3\n") == \
        "the file is not UTF-8 text (byte 5 cannot be read); save it as a UTF-8 CSV file"


def test_ragged_rows():
    rows = table()
    content = csv_bytes(rows[:3]) + b"1,2\n" + csv_bytes(rows[3:])
    assert message("a.csv", content) == "row 4 has 2 columns; expected 3 like row 1"
    with_header = b"a,b,y\n" + csv_bytes(rows).replace(b"\n", b",5\n", 1)
    assert message("a.csv", with_header) == "row 2 has 4 columns; expected 3 like row 1"


def test_non_numeric_and_empty_cells():
    rows = table()
    rows[1][1] = "abc"
    assert message("a.csv", csv_bytes(rows, header=["a", "b", "y"])) == "row 3, column 2: 'abc' is not a number"
    rows = table()
    rows[2][0] = ""
    assert message("a.csv", csv_bytes(rows)) == "row 3, column 1 is empty"
    rows = table()
    rows[1][0] = "nan"
    assert message("a.csv", csv_bytes(rows)) == "row 2, column 1: 'nan' is not a finite number"


def test_sample_and_feature_counts():
    assert message("a.csv", csv_bytes(table(4))) == "at least 10 samples are needed; the file has 4"
    assert message("a.csv", csv_bytes(table(30)), Limits(max_samples=20)) == \
        "the file has more than 20 samples; at most 20 are allowed"
    wide = [[0.0] * 4097 + [i % 2] for i in range(10)]
    assert message("a.csv", csv_bytes(wide)) == "each sample has 4097 features; at most 4096 are allowed"
    assert message("a.csv", b"1\n2\n3\n") == "the file needs at least two columns: the features, then the label"
    y = np.arange(30) % 2
    assert message("a.npz", npz_bytes(x=np.zeros((30, 2)), y=y), Limits(max_samples=20)) == \
        "the file has 30 samples; at most 20 are allowed"


def test_a_single_label_value():
    rows = [[i, 1] for i in range(12)]
    assert message("a.csv", csv_bytes(rows)) == "every label is 1; at least two distinct values are needed"


def test_unsupported_file_type():
    assert message("book.xlsx", b"PK\x03\x04...") == "unsupported file type '.xlsx': upload a .csv or .npz file"


def test_pickled_object_arrays_are_refused_without_being_unpickled():
    trap = np.empty(20, dtype=object)
    trap[:] = [Trap() for _ in range(20)]
    content = npz_bytes(x=np.zeros((20, 2)), y=trap)
    UNPICKLED.clear()
    assert message("evil.npz", content) == ("array 'y' holds Python objects (pickled data), which are refused "
                                            "for safety; save plain numeric arrays")
    assert UNPICKLED == []


def test_npz_that_unpacks_too_large_is_refused_before_loading():
    buf = io.BytesIO()
    np.savez_compressed(buf, x=np.zeros((100, 4096)), y=np.arange(100) % 2)  # 3.1 MB of float64 in a few KB
    content = buf.getvalue()
    assert len(content) < 2**20 // 8
    assert message("a.npz", content, Limits(max_upload_bytes=2**20 // 8)) == \
        "the arrays take 3.1 MB unpacked; at most 2.0 MB are allowed (store images as uint8)"


def test_bad_npz_files():
    y = np.arange(20) % 2
    assert message("a.npz", b"not a zip at all") == "the file is not a valid NPZ archive (save it with numpy.savez)"
    assert message("a.npz", npz_bytes(a=np.zeros(3), b=y)) == \
        "the NPZ file must hold arrays named 'x' (or 'X') and 'y'; it holds 'a', 'b'"
    assert message("a.npz", npz_bytes(x=np.zeros((20, 2)), y=y[:19])) == "x has 20 samples but y has 19"
    assert message("a.npz", npz_bytes(x=np.zeros(20), y=y)) == \
        "x must have shape (N, D), (N, H, W) or (N, C, H, W); got (20,)"
    assert message("a.npz", npz_bytes(x=np.zeros((20, 2)), y=np.zeros((20, 3)))) == \
        "y must have shape (N,) or (N, 1); got (20, 3)"
    assert message("a.npz", npz_bytes(x=np.full((20, 2), "a"), y=y)) == "array 'x' has type <U1; numbers are expected"
    x = np.zeros((20, 2))
    x[3, 1] = np.inf
    assert message("a.npz", npz_bytes(x=x, y=y)) == "x contains NaN or infinite values (first in sample 3)"


# ---------------------------------------------------------------- storage and the upload dataset


def stored(tmp_path, upload_id, filename, content):
    x, y, meta = parse(filename, content)
    save(tmp_path, upload_id, x, y, meta)
    return x, y, meta


def test_saved_upload_loads_as_the_upload_dataset(tmp_path):
    x = np.random.default_rng(0).random((40, 1, 6, 6))
    y = np.arange(40) % 4 + 10
    stored(tmp_path, "img1", "d.npz", npz_bytes(x=x, y=y))
    spec = validate({"data": {"dataset": "upload", "upload_id": "img1", "normalize": "none"},
                     "augment": [{"type": "hflip"}]})
    b = load(spec, tmp_path)
    assert (b.task, b.n_classes, b.input_shape, b.kind) == ("classification", 4, (1, 6, 6), "image")
    assert len(b.x_train) + len(b.x_val) + len(b.x_test) == 40  # the whole file, whatever n_samples says
    assert describe(spec.data, tmp_path) == {"task": "classification", "n_classes": 4, "input_shape": (1, 6, 6),
                                             "kind": "image"}
    assert check(spec, tmp_path)["kind"] == "image"
    assert set(torch.cat([b.y_train, b.y_val, b.y_test]).tolist()) == {0, 1, 2, 3}


def test_a_two_column_csv_upload_is_drawn_like_the_playground(tmp_path):
    stored(tmp_path, "pts", "p.csv", csv_bytes(table(50)))
    b = load(validate({"data": {"dataset": "upload", "upload_id": "pts", "features": ["x1", "x2", "x1*x2"]}}),
             tmp_path)
    assert b.kind == "2d" and b.input_shape == (3,) and b.points is not None
    raw = torch.tensor([b.points["train"]["x"], b.points["train"]["y"]]).T
    assert torch.allclose(b.featurize(raw), b.x_train, atol=1e-5)


def test_check_rejects_what_the_uploaded_data_cannot_do(tmp_path):
    rows = [[i, i * 0.3, i * 1.5 + 0.25] for i in range(20)]
    stored(tmp_path, "reg", "r.csv", csv_bytes(rows))
    spec = validate({"data": {"dataset": "upload", "upload_id": "reg", "label_noise": 0.1,
                              "features": ["x1", "x2", "x1^2"]},
                     "augment": [{"type": "gaussian_noise"}, {"type": "rotate"}, {"type": "mixup"}]})
    with pytest.raises(SpecError) as err:
        check(spec, tmp_path)
    paths = [e["path"] for e in err.value.errors]
    assert paths == ["/data/label_noise", "/augment/1/type", "/augment/2/type"]  # crosses are fine on 2-D data
    stored(tmp_path, "vec", "v.npz", npz_bytes(x=np.zeros((20, 5)), y=np.arange(20) % 2))
    with pytest.raises(SpecError) as err:
        check(validate({"data": {"dataset": "upload", "upload_id": "vec", "features": ["x1", "x1^2"]}}), tmp_path)
    assert [e["path"] for e in err.value.errors] == ["/data/features"]


def test_missing_or_bad_upload_ids_are_spec_errors(tmp_path):
    def error(upload_id, root=tmp_path):
        spec = validate({"data": {"dataset": "upload", "upload_id": upload_id}})
        with pytest.raises(SpecError) as err:
            load(spec, root)
        assert err.value.errors[0]["path"] == "/data/upload_id"
        return err.value.errors[0]["message"]

    assert error("nope") == "upload 'nope' was not found; upload the file again"
    assert error("nope", root=None) == "uploads are not available here (no upload folder is configured)"
    with pytest.raises(SpecError) as err:  # the spec's pattern stops these first; the loader checks again
        read_meta(tmp_path, "../etc/passwd")
    assert err.value.errors == [{"path": "/data/upload_id", "message": "'../etc/passwd' is not a valid upload id"}]
    with pytest.raises(ValueError):
        save(tmp_path, "../x", np.zeros((10, 2)), np.zeros(10), {})


def test_save_writes_one_canonical_file_atomically(tmp_path):
    stored(tmp_path, "one", "p.csv", csv_bytes(table(20)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.npz"]
    with np.load(tmp_path / "one.npz", allow_pickle=False) as npz:
        assert set(npz.files) == {"x", "y", "meta"} and npz["x"].dtype == np.float32
