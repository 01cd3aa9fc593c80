"""Schemathesis against GET /api/openapi.json, in process (Django's WSGI app, no server).

Every operation of the document gets a bounded number of generated requests (valid and
invalid bodies, parameters and methods); each response must not be a 5xx and must match
the document (status code, content type, body schema). The requests and their status
codes are counted into artifacts/schemathesis_counts.json and printed (``-s``).
"""

import json
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from webapp.openapi import document

MAX_EXAMPLES = {"positive": 25, "negative": 15}  # per operation
# Django's CSRF check accepts the cookie's secret itself in the header: generated
# state-changing requests get past it and reach the views (without it they would all
# stop at a 403, which tests nothing).
TOKEN = "schemathesisschemathesisschemat1"
HEADERS = {"X-CSRFToken": TOKEN}
COOKIES = {"csrftoken": TOKEN}
COUNTS: Counter = Counter()
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ARTIFACT = Path(__file__).resolve().parents[2] / "artifacts" / "schemathesis_counts.json"


# The document is built from the same registry the view serves (webapp.openapi); the
# requests go to Django's WSGI application in this process.
SCHEMA = schemathesis.openapi.from_dict(document())
SCHEMA.app = get_wsgi_application()
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
# Negative cases need something that can break: a body or a query parameter (any string
# is a valid path parameter).
CASES = [(o, m) for o in OPERATIONS for m in MODES
         if m.is_positive or len(o.body) or any(p.location == "query" for p in o.iter_parameters())]


@pytest.fixture
def keep_the_test_connection():
    """Django's WSGI handler closes the database connection when a request finishes
    (``close_old_connections``); inside a test's transaction on PostgreSQL that closes the
    transaction's connection under the test ("the connection is closed"). Django's own
    test client disconnects the handler around its requests (and connects it again after
    each, so this fixture comes after ``existing``); the WSGI app called here gets the
    same treatment."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    if not COUNTS:
        return
    by_status = Counter()
    for (_op, status), n in COUNTS.items():
        by_status[status] += n
    summary = {"requests": sum(COUNTS.values()), "by_status": dict(sorted(by_status.items())),
               "server_errors": sum(n for s, n in by_status.items() if s >= 500),
               "by_operation": {f"{op} -> {s}": n for (op, s), n in sorted(COUNTS.items())}}
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(summary, indent=1))
    print(f"\nschemathesis: {summary['requests']} requests, status codes {summary['by_status']}")


@pytest.fixture
def existing(client_a):
    """Path parameters of real objects, so that positive cases reach past the 404 (made by another session)."""
    r = client_a.post_json("/api/runs", {"spec": {"data": {"dataset": "xor"}, "training": {"epochs": 2}}})
    assert r.status_code == 201, r.content
    out = {"/api/runs/": {"public_id": r.json()["id"]}}
    r = client_a.post_json("/api/rooms", {"name": "fuzzed"})
    if r.status_code == 201:
        out["/api/rooms/"] = {"code": r.json()["code"]}
    lessons = client_a.get("/api/sweeps/lessons")
    if lessons.status_code == 200 and isinstance(lessons.json(), (list, dict)):
        items = lessons.json() if isinstance(lessons.json(), list) else lessons.json().get("lessons", [])
        slug = items[0].get("slug") if items and isinstance(items[0], dict) else None
        r = client_a.post_json("/api/sweeps", {"lesson": slug}) if slug else None
        if r is not None and r.status_code == 201 and "id" in r.json():
            out["/api/sweeps/"] = {"public_id": r.json()["id"]}
    return out


@pytest.mark.parametrize("operation,mode", CASES, ids=[f"{o.method.upper()} {o.path} {m.value}" for o, m in CASES])
def test_no_server_error_and_every_response_matches_the_document(existing, keep_the_test_connection, operation, mode):
    fixed = {}
    for prefix, params in existing.items():
        if mode.is_positive and operation.path.startswith(prefix + "{"):
            fixed = {"path_parameters": params}

    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    @settings(max_examples=MAX_EXAMPLES[mode.value], deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def requests(case):
        response = case.call_and_validate(headers=HEADERS, cookies=COOKIES, checks=CHECKS)
        COUNTS[(f"{operation.method.upper()} {operation.path}", response.status_code)] += 1

    requests()
