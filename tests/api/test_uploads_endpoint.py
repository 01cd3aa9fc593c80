import io

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def upload_root(settings, tmp_path):
    settings.UPLOAD_ROOT = tmp_path / "uploads"
    return settings.UPLOAD_ROOT


def post_file(client, name: str, content: bytes):
    f = io.BytesIO(content)
    f.name = name
    return client.post("/api/uploads", {"file": f}, HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)


def csv_dataset(n=60):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3))
    y = (x[:, 0] > 0).astype(int)
    return "a,b,c,label\n" + "\n".join(f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{c}" for r, c in zip(x, y))


def test_csv_upload_is_parsed_and_trainable(client_a, upload_root):
    r = post_file(client_a, "points.csv", csv_dataset().encode())
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["id"] and (upload_root / f"{body['id']}.npz").exists()
    spec = {"data": {"dataset": "upload", "upload_id": body["id"]}}
    v = client_a.post_json("/api/spec/validate", {"spec": spec})
    assert v.status_code == 200, v.content
    assert v.json()["summary"]["input_shape"] == [3]
    assert v.json()["summary"]["task"] == "classification"


def test_npz_upload(client_a):
    buf = io.BytesIO()
    np.savez(buf, x=np.random.rand(40, 1, 8, 8).astype(np.float32), y=np.arange(40) % 4)
    r = post_file(client_a, "imgs.npz", buf.getvalue())
    assert r.status_code == 201, r.content


@pytest.mark.parametrize("name,content", [
    ("empty.csv", b""),
    ("ragged.csv", b"1,2,3\n4,5\n" * 10),
    ("words.csv", b"1,2,0\n1,abc,1\n" * 10),
    ("bad.npz", b"this is not a zip file"),
    ("data.txt", b"1,2,3\n"),
])
def test_bad_files_get_a_400_naming_the_problem(client_a, name, content):
    r = post_file(client_a, name, content)
    assert r.status_code == 400, r.content
    err = r.json()["errors"][0]
    assert err["path"] == "file" and len(err["message"]) > 10


def test_missing_file_field(client_a):
    r = client_a.post("/api/uploads", {}, HTTP_X_CSRFTOKEN=client_a.cookies["csrftoken"].value)
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "file"


def test_too_large_file_is_refused(client_a, settings):
    settings.LIMITS = {**settings.LIMITS, "max_upload_bytes": 1000}
    r = post_file(client_a, "big.csv", csv_dataset(200).encode())
    assert r.status_code == 413


def test_unknown_upload_id_is_a_400(client_a):
    r = client_a.post_json("/api/spec/validate", {"spec": {"data": {"dataset": "upload", "upload_id": "unope"}}})
    assert r.status_code == 400 and r.json()["errors"][0]["path"].startswith("/data")
