"""User uploads: parse a CSV or NPZ file, check it, store it, and serve it as a dataset.

The HTTP endpoint calls :func:`parse` and then :func:`save`; the ``upload`` dataset reads
``<upload_root>/<upload_id>.npz`` back. Every bad file raises :class:`UploadError` with a
message meant for the person who uploaded it. NPZ files are read with
``allow_pickle=False``: an uploaded pickle could run arbitrary code.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from training.data.datasets import RawData, register
from training.spec import Limits, SpecError

MIN_SAMPLES = 10
MAX_FEATURES = 4096
MAX_CLASSES = 20  # integer labels with at most this many values are classes, else targets
ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")


class UploadError(ValueError):
    """A file that cannot be used; ``message`` is shown to the user as is."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


# ---------------------------------------------------------------- parsing


def parse(filename: str, content: bytes, limits: Limits | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """Check an uploaded file and return ``(x, y, meta)`` in canonical form.

    ``x`` is float32 of shape (N, D) or (N, C, H, W); ``y`` is int64 class ids 0..K-1
    (classification: integer labels with at most 20 values) or float32 targets.
    """
    limits = limits or Limits()
    if len(content) == 0:
        raise UploadError("the file is empty")
    if len(content) > limits.max_upload_bytes:
        raise UploadError(f"the file is {_mb(len(content))}; at most {_mb(limits.max_upload_bytes)} are allowed")
    suffix = Path(filename or "").suffix.lower()
    if suffix == ".npz" or (not suffix and content[:4] == b"PK\x03\x04"):
        x, y, names = _parse_npz(content, limits)
        fmt = "npz"
    elif suffix in CSV_SUFFIXES or not suffix:
        x, y, names = _parse_csv(content, limits)
        fmt = "csv"
    else:
        raise UploadError(f"unsupported file type {suffix!r}: upload a .csv or .npz file")
    meta = _finish(x, y, limits)
    meta.update(format=fmt, filename=Path(filename or "upload").name[:200], feature_names=names)
    x = x.astype(np.float32)
    y = meta.pop("_y")
    return x, y, meta


def _check_counts(n: int, n_features: int, limits: Limits) -> None:
    if n < MIN_SAMPLES:
        raise UploadError(f"at least {MIN_SAMPLES} samples are needed; the file has {n}")
    if n > limits.max_samples:
        raise UploadError(f"the file has {n} samples; at most {limits.max_samples} are allowed")
    if n_features > MAX_FEATURES:
        raise UploadError(f"each sample has {n_features} features; at most {MAX_FEATURES} are allowed")


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _parse_csv(content: bytes, limits: Limits) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadError(f"the file is not UTF-8 text (byte {exc.start + 1} cannot be read); "
                          "save it as a UTF-8 CSV file") from None
    if "\x00" in text:
        raise UploadError("the file is binary, not CSV text")
    first = next((line for line in text.splitlines() if line.strip()), None)
    if first is None:
        raise UploadError("the file is empty")
    delimiter = next((d for d in (",", ";", "\t") if d in first), ",")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[list[str]] = []
    lines: list[int] = []
    header: list[str] | None = None
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # blank lines are skipped (but still counted in row numbers)
            if header is None and not rows and not all(_is_number(c) for c in cells):
                header = [c.strip() for c in cells]  # a first row holding any non-number is a header
                header_line = reader.line_num
                continue
            rows.append(cells)
            lines.append(reader.line_num)
            if len(rows) > limits.max_samples:
                raise UploadError(f"the file has more than {limits.max_samples} samples; "
                                  f"at most {limits.max_samples} are allowed")
    except csv.Error as exc:
        raise UploadError(f"row {reader.line_num}: the CSV cannot be read ({exc})") from None
    n_cols = len(header) if header is not None else len(rows[0]) if rows else 0
    ref_line = header_line if header is not None else lines[0] if lines else 1
    if n_cols < 2:
        raise UploadError("the file needs at least two columns: the features, then the label")
    _check_counts(len(rows), n_cols - 1, limits)
    for cells, line in zip(rows, lines):
        if len(cells) != n_cols:
            raise UploadError(f"row {line} has {len(cells)} columns; expected {n_cols} like row {ref_line}")
    try:
        data = np.array(rows, dtype=np.float64)
    except ValueError:
        data = None
    if data is None:  # find the first bad cell for the message
        for cells, line in zip(rows, lines):
            for j, cell in enumerate(cells):
                if not cell.strip():
                    raise UploadError(f"row {line}, column {j + 1} is empty")
                if not _is_number(cell):
                    raise UploadError(f"row {line}, column {j + 1}: {cell.strip()!r} is not a number")
        raise UploadError("the file holds cells that are not numbers")  # unreachable in practice
    bad = np.argwhere(~np.isfinite(data))
    if len(bad):
        i, j = bad[0]
        raise UploadError(f"row {lines[i]}, column {j + 1}: {rows[i][j].strip()!r} is not a finite number")
    names = header[:-1] if header is not None else None
    return data[:, :-1], data[:, -1], names


UNPACK_FACTOR = 16  # an NPZ may unpack to this many times the upload limit (a zip bomb guard)


def _npy_header(zf: zipfile.ZipFile, member: str, key: str) -> tuple[tuple, np.dtype]:
    """Shape and dtype of one array, read without loading (and without unpickling) it."""
    fmt = np.lib.format
    try:
        with zf.open(member) as f:
            version = fmt.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = fmt.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, _, dtype = fmt.read_array_header_2_0(f)
            else:
                raise UploadError(f"array {key!r} uses an unsupported .npy format version {version}")
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        if isinstance(exc, UploadError):
            raise
        raise UploadError(f"array {key!r} cannot be read: the NPZ file is damaged") from None
    if dtype.hasobject:
        raise UploadError(f"array {key!r} holds Python objects (pickled data), which are refused for safety; "
                          "save plain numeric arrays")
    if dtype.kind not in "biuf":
        raise UploadError(f"array {key!r} has type {dtype}; numbers are expected")
    return shape, dtype


def _parse_npz(content: bytes, limits: Limits) -> tuple[np.ndarray, np.ndarray, None]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise UploadError("the file is not a valid NPZ archive (save it with numpy.savez)") from None
    members = {n[:-4]: n for n in zf.namelist() if n.endswith(".npy")}
    xkey = next((k for k in ("x", "X") if k in members), None)
    ykey = next((k for k in ("y", "Y") if k in members), None)
    if xkey is None or ykey is None:
        held = ", ".join(repr(k) for k in sorted(members)) or "no arrays"
        raise UploadError(f"the NPZ file must hold arrays named 'x' (or 'X') and 'y'; it holds {held}")
    xshape, xdtype = _npy_header(zf, members[xkey], xkey)
    yshape, ydtype = _npy_header(zf, members[ykey], ykey)
    unpacked = int(np.prod(xshape)) * xdtype.itemsize + int(np.prod(yshape)) * ydtype.itemsize
    if unpacked > UNPACK_FACTOR * limits.max_upload_bytes:
        raise UploadError(f"the arrays take {_mb(unpacked)} unpacked; at most "
                          f"{_mb(UNPACK_FACTOR * limits.max_upload_bytes)} are allowed (store images as uint8)")
    if len(xshape) not in (2, 3, 4):
        raise UploadError(f"x must have shape (N, D), (N, H, W) or (N, C, H, W); got {tuple(xshape)}")
    if len(yshape) not in (1, 2) or (len(yshape) == 2 and yshape[1] != 1):
        raise UploadError(f"y must have shape (N,) or (N, 1); got {tuple(yshape)}")
    if xshape[0] != yshape[0]:
        raise UploadError(f"x has {xshape[0]} samples but y has {yshape[0]}")
    _check_counts(xshape[0], int(np.prod(xshape[1:])), limits)
    try:
        with np.load(io.BytesIO(content), allow_pickle=False) as npz:
            x, y = npz[xkey], npz[ykey]
    except ValueError as exc:  # allow_pickle=False refuses object arrays here too
        raise UploadError(f"the NPZ file cannot be read safely: {exc}") from None
    except (OSError, zipfile.BadZipFile, EOFError):
        raise UploadError("the NPZ file is damaged") from None
    if x.ndim == 3:
        x = x[:, None]  # (N, H, W) -> one channel
    elif x.ndim == 4 and x.shape[-1] in (1, 3, 4) and x.shape[1] not in (1, 3, 4):
        x = x.transpose(0, 3, 1, 2)  # channels last (N, H, W, C) -> (N, C, H, W)
    for key, arr in ((xkey, x), (ykey, y)):
        bad = ~np.isfinite(arr.reshape(len(arr), -1)).all(1) if arr.dtype.kind == "f" else np.zeros(0, bool)
        if bad.any():
            raise UploadError(f"{key} contains NaN or infinite values (first in sample {int(bad.argmax())})")
    return x.astype(np.float64) if x.ndim == 2 else x, y.reshape(-1).astype(np.float64), None


def _finish(x: np.ndarray, y: np.ndarray, limits: Limits) -> dict:
    """Decide the task, remap class labels to 0..K-1 and describe the data."""
    values = np.unique(y)
    if len(values) < 2:
        raise UploadError(f"every label is {values[0]:g}; at least two distinct values are needed")
    if len(values) <= MAX_CLASSES and np.all(values == np.round(values)):
        task, n_classes = "classification", len(values)
        y_out = np.searchsorted(values, y).astype(np.int64)
        classes = [int(v) for v in values]
    else:
        task, n_classes, classes = "regression", 0, None
        y_out = y.astype(np.float32)
    shape = tuple(int(s) for s in x.shape[1:])
    if len(shape) == 3:
        kind = "image"
    elif shape == (2,):
        kind = "2d"  # drawn like the playground sets, with a decision boundary
    elif shape == (1,) and task == "regression":
        kind = "1d"  # drawn as a fitted curve
    else:
        kind = "vector"
    return {"task": task, "n_classes": n_classes, "classes": classes, "input_shape": list(shape),
            "kind": kind, "n_samples": len(y), "_y": y_out}


# ---------------------------------------------------------------- storage


def path_for(upload_root: Path, upload_id: str) -> Path:
    if not isinstance(upload_id, str) or not ID_RE.match(upload_id):
        raise ValueError(f"not a valid upload id: {upload_id!r}")
    return Path(upload_root) / f"{upload_id}.npz"


def save(upload_root: Path, upload_id: str, x: np.ndarray, y: np.ndarray, meta: dict) -> Path:
    """Write ``<upload_root>/<upload_id>.npz`` atomically (a reader never sees half a file)."""
    path = path_for(upload_root, upload_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, x=np.asarray(x, np.float32), y=np.asarray(y), meta=np.array(json.dumps(meta)))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _stored(upload_root: Path | None, upload_id: str | None) -> Path:
    """The stored file of an upload, or a SpecError pointing at data.upload_id."""
    def fail(message: str) -> SpecError:
        return SpecError([{"path": "/data/upload_id", "message": message}])

    if not upload_id:
        raise fail("an upload id is required for the 'upload' dataset")
    if upload_root is None:
        raise fail("uploads are not available here (no upload folder is configured)")
    try:
        path = path_for(upload_root, upload_id)
    except ValueError:
        raise fail(f"{upload_id!r} is not a valid upload id") from None
    if not path.is_file():
        raise fail(f"upload {upload_id!r} was not found; upload the file again")
    return path


def read_meta(upload_root: Path | None, upload_id: str | None) -> dict:
    """The stored description of an upload, read without loading its arrays."""
    with np.load(_stored(upload_root, upload_id), allow_pickle=False) as npz:
        return json.loads(str(npz["meta"]))


def read(upload_root: Path | None, upload_id: str | None) -> tuple[np.ndarray, np.ndarray, dict]:
    with np.load(_stored(upload_root, upload_id), allow_pickle=False) as npz:
        meta = json.loads(str(npz["meta"]))
        return npz["x"], npz["y"], meta


@register("upload")
def upload(d, rng: np.random.Generator, upload_root: Path | None = None) -> RawData:
    """The whole uploaded file (``n_samples`` and ``noise`` do not apply to it)."""
    x, y, meta = read(upload_root, d.upload_id)
    y = y.astype(np.int64) if meta["task"] == "classification" else y.astype(np.float32)
    return RawData(x.astype(np.float32), y, meta["task"], int(meta["n_classes"]), meta["kind"],
                   feature_names=meta.get("feature_names"))
