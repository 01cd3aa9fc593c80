"""Hostile input gets a clear 4xx JSON answer naming the field, never a 500 or an HTML page.

The cases are the ones of issue 8 ("36 responses with status 500 out of 1,844 hostile
requests"): deep JSON, non-finite floats, huge integers, static path traversal, and
errors around the views (unknown URL, wrong method, CSRF, an exception).
"""

import asyncio
import json
import logging

import pytest
from django.test import Client

from webapp.runs.models import Run

SPEC_ENDPOINTS = ("/api/spec/validate", "/api/runs")


def nested(depth: int, leaf="[]") -> str:
    return "[" * depth + leaf + "]" * depth


@pytest.fixture
def run_id(client_a):
    r = client_a.post_json("/api/runs", {"spec": {"data": {"dataset": "xor"}, "training": {"epochs": 2}}})
    assert r.status_code == 201, r.content
    return r.json()["id"]


def assert_json_error(r, status: int):
    assert r.status_code == status, r.content[:300]
    assert r["Content-Type"].startswith("application/json"), r["Content-Type"]
    errors = r.json()["errors"]
    assert errors and all(set(e) == {"path", "message"} and e["message"] for e in errors)
    return errors


# ---------------------------------------------------------------- deep JSON


@pytest.mark.parametrize("where", ["spec", "name", "model", "deep_field"])
@pytest.mark.parametrize("endpoint", SPEC_ENDPOINTS)
def test_json_nested_thousands_deep_is_a_400_not_a_recursion_error(client_a, endpoint, where):
    deep = nested(5000)
    raw = {"spec": f'{{"spec": {deep}}}', "name": f'{{"spec": {{"name": {deep}}}}}',
           "model": f'{{"spec": {{"model": {{"layers": {deep}}}}}}}',
           "deep_field": f'{{"spec": {{"data": {{"features": {deep}}}}}, "x": 1}}'}[where]
    errors = assert_json_error(client_a.post_json(endpoint, raw=raw), 400)
    assert "nested more than 64 levels" in errors[0]["message"]
    assert not Run.objects.exists()


def test_fork_with_deep_json_is_a_400(client_a, run_id):
    r = client_a.post_json(f"/api/runs/{run_id}/fork", raw=f'{{"spec": {nested(3000)}}}')
    assert "nested" in assert_json_error(r, 400)[0]["message"]


def test_brackets_inside_strings_do_not_count_as_nesting(client_a):
    name = "[" * 500 + "{" * 500
    r = client_a.post_json("/api/spec/validate", {"spec": {"name": name[:200]}})
    assert r.status_code == 200, r.content


def test_nesting_just_under_the_limit_reaches_validation(client_a):
    # 62 levels inside the spec: parsed, then refused as an unknown field (not as too deep)
    r = client_a.post_json("/api/spec/validate", raw='{"spec": {"extra": ' + nested(60) + "}}")
    errors = assert_json_error(r, 400)
    assert errors == [{"path": "/extra", "message": 'The spec has no field "extra"'}]


# ---------------------------------------------------------------- non-finite floats


FLOAT_FIELDS = [
    ("regularization", "max_norm"), ("regularization", "grad_clip_norm"), ("lr_finder", "diverge_factor"),
    ("optimizer", "lr"), ("schedule", "warmup_epochs"),
]
INIT_FIELDS = ["gain", "std", "value"]


@pytest.mark.parametrize("literal", ["Infinity", "-Infinity", "NaN", "1e400", "-1e400"])
@pytest.mark.parametrize("section,field", FLOAT_FIELDS)
def test_non_finite_floats_are_refused_with_the_fields_path(client_a, section, field, literal):
    raw = f'{{"spec": {{"{section}": {{"{field}": {literal}}}}}}}'
    for endpoint in SPEC_ENDPOINTS:
        errors = assert_json_error(client_a.post_json(endpoint, raw=raw), 400)
        assert errors[0]["path"] == f"/{section}/{field}"
    assert not Run.objects.exists()  # nothing reached the database


@pytest.mark.parametrize("literal", ["Infinity", "NaN", "1e400"])
@pytest.mark.parametrize("field", INIT_FIELDS)
def test_non_finite_init_values_are_refused_globally_and_per_layer(client_a, field, literal):
    raw = f'{{"spec": {{"model": {{"init": {{"{field}": {literal}}}}}}}}}'
    errors = assert_json_error(client_a.post_json("/api/runs", raw=raw), 400)
    assert errors[0]["path"] == f"/model/init/{field}"
    assert "finite" in errors[0]["message"]
    raw = f'{{"spec": {{"model": {{"layers": [{{"type": "dense", "init": {{"{field}": {literal}}}}}]}}}}}}'
    errors = assert_json_error(client_a.post_json("/api/runs", raw=raw), 400)
    assert errors[0]["path"] == f"/model/layers/0/init/{field}"
    assert errors[0]["message"].startswith("Layer 1 (dense): initialization")


def test_non_finite_numbers_outside_the_spec_are_refused_too(client_a, run_id):
    r = client_a.post_json(f"/api/runs/{run_id}/fork", raw='{"note": NaN}')
    assert assert_json_error(r, 400)[0]["path"] == "/note"


# ---------------------------------------------------------------- huge integers


@pytest.mark.parametrize("padding", [10**7, 10**12, 2**62, 10**40])
def test_huge_conv_padding_is_a_fast_400_on_the_field(client_a, padding):
    # before a residual block: the projection search used to loop over the padded size
    spec = {"data": {"dataset": "digits"},
            "model": {"layers": [{"type": "conv2d", "filters": 4, "padding": padding},
                                 {"type": "residual", "layers": [{"type": "conv2d", "filters": 4}]}]}}
    for endpoint in SPEC_ENDPOINTS:
        errors = assert_json_error(client_a.post_json(endpoint, {"spec": spec}), 400)
        assert [e["path"] for e in errors] == ["/model/layers/0/padding"]


@pytest.mark.parametrize("path,value", [
    (("seed",), 2**64), (("training", "epochs"), 10**30), (("training", "batch_size"), 2**62),
    (("data", "n_samples"), 10**100), (("monitor", "landscape", "seed"), -(2**70)),
    (("schedule", "milestones"), [1, 10**20]), (("monitor", "landscape", "resolution"), 10**9),
    (("model", "layers"), [{"type": "dense", "units": 10**18}]), (("optimizer", "lr"), 10**400),
])
def test_every_integer_is_bounded(client_a, path, value):
    spec: dict = {}
    node = spec
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    for endpoint in SPEC_ENDPOINTS:
        errors = assert_json_error(client_a.post_json(endpoint, {"spec": spec}), 400)
        assert errors[0]["path"].startswith("/" + "/".join(path)), errors


# ---------------------------------------------------------------- static files


TRAVERSALS = ["/static/../webapp/settings.py", "/static/%2e%2e/webapp/settings.py",
              "/static/..%2f..%2fwebapp/settings.py", "/static/vendor/../../../../etc/passwd",
              "/static//etc/passwd", "/static/%2e%2e%2f%2e%2e%2fmanage.py"]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_static_paths_cannot_escape_through_the_test_client(db, path):
    r = Client().get(path)
    assert r.status_code == 404
    assert b"SECRET_KEY" not in r.content


@pytest.mark.parametrize("path", TRAVERSALS)
def test_static_paths_cannot_escape_through_the_asgi_app(db, path):
    from channels.testing import HttpCommunicator

    from webapp.asgi import application

    async def get(p):
        return await HttpCommunicator(application, "GET", p, headers=[(b"host", b"localhost")]).get_response(timeout=20)

    r = asyncio.run(get(path))
    assert r["status"] == 404, r["body"][:200]
    assert b"SECRET_KEY" not in r["body"] and b"import" not in r["body"]
    assert asyncio.run(get("/api/presets"))["status"] == 200  # the same app does serve


# ---------------------------------------------------------------- errors around the views


def test_unknown_api_url_is_a_json_404(client_a):
    for path in ("/api/nope", "/api/runs/abc/nope", "/api/", "/api/spec/validate/extra"):
        errors = assert_json_error(client_a.get(path), 404)
        assert path in errors[0]["message"]


def test_pages_keep_html_404(db):
    r = Client().get("/no-such-page")
    assert r.status_code == 404 and not r["Content-Type"].startswith("application/json")


def test_wrong_method_is_a_json_405_with_allow(client_a, run_id):
    for method, path in (("put", "/api/runs"), ("get", "/api/spec/validate"), ("patch", f"/api/runs/{run_id}"),
                         ("delete", "/api/presets")):
        r = getattr(client_a, method)(path, **client_a._csrf())
        errors = assert_json_error(r, 405)
        assert method.upper() in errors[0]["message"] and r["Allow"]


def test_missing_csrf_token_is_a_json_403(db):
    c = Client(enforce_csrf_checks=True)
    r = c.post("/api/spec/validate", data="{}", content_type="application/json")
    assert "CSRF" in assert_json_error(r, 403)[0]["message"]


def test_an_unexpected_exception_is_a_logged_json_500(client_a, monkeypatch, caplog):
    from webapp.runs import services

    def boom(doc):
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "check_spec", boom)
    client_a.raise_request_exception = False
    with caplog.at_level(logging.ERROR):
        r = client_a.post_json("/api/spec/validate", {"spec": {}})
    assert assert_json_error(r, 500) == [{"path": "", "message": "internal error"}]
    assert any("a bug" in (rec.exc_text or "") or (rec.exc_info and "a bug" in str(rec.exc_info[1]))
               for rec in caplog.records)


def test_a_body_over_djangos_limit_is_a_json_413(client_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    r = client_a.post_json("/api/spec/validate", {"spec": {"name": "x" * 5000}})
    assert_json_error(r, 413)


def test_not_json_is_a_400_and_wrong_type_a_415(client_a):
    assert_json_error(client_a.post_json("/api/spec/validate", raw="{'spec': {}}"), 400)
    r = client_a.post("/api/spec/validate", data="spec=1", content_type="text/plain", **client_a._csrf())
    assert_json_error(r, 415)


def test_all_field_and_limit_errors_come_in_one_round(client_a):
    spec = {"model": {"layers": [{"type": "dense", "units": 0}]}, "optimizer": {"lr": "1e"},
            "training": {"epochs": 10**6}, "monitor": {"landscape": {"resolution": 999}}}
    errors = assert_json_error(client_a.post_json("/api/spec/validate", {"spec": spec}), 400)
    assert {e["path"]: e["message"] for e in errors} == {
        "/model/layers/0/units": "Layer 1 (dense): units must be at least 1",
        "/optimizer/lr": 'Learning rate must be a number, got "1e"',
        "/training/epochs": "Epochs must be at most 2000 (the server's limit)",
        "/monitor/landscape/resolution": "Landscape resolution must be at most 51 (the server's limit)",
    }
    assert not any("Value error" in e["message"] or "Input should" in e["message"] for e in errors)


def test_memory_over_the_limit_is_refused_with_the_batch_size(client_a, settings):
    settings.LIMITS = {**settings.LIMITS, "max_memory_mb": 50}
    spec = {"data": {"dataset": "digits"}, "training": {"batch_size": 4096},
            "model": {"layers": [{"type": "conv2d", "filters": 64}, {"type": "conv2d", "filters": 64}]}}
    errors = assert_json_error(client_a.post_json("/api/runs", {"spec": spec}), 400)
    paths = [e["path"] for e in errors]
    assert "/training/batch_size" in paths and "/model/layers/1" in paths
    assert "50 MB" in json.dumps(errors)
    assert not Run.objects.exists()


@pytest.mark.parametrize("raw,path", [
    ('{"spec": {"name": "a\\u0000b"}}', "/name"),  # PostgreSQL cannot store NUL in text or jsonb
    ('{"spec": {"name": "a\\ud800b"}}', "/name"),  # a lone surrogate is not UTF-8
    ('{"spec": {"data": {"dataset": "\\udfff"}}}', "/data/dataset"),
    ('{"spec": {"optimizer": {"l\\u0000r": 1}}}', "/optimizer"),
])
def test_text_the_database_cannot_store_is_a_400(client_a, raw, path):
    errors = assert_json_error(client_a.post_json("/api/runs", raw=raw), 400)
    assert errors[0]["path"] == path
    assert not Run.objects.exists()


def test_unstorable_text_outside_the_spec_is_refused_too(client_a, run_id):
    r = client_a.post_json(f"/api/runs/{run_id}/fork", raw='{"note": ["ok", "a\\u0000"]}')
    assert assert_json_error(r, 400)[0]["path"] == "/note/1"
