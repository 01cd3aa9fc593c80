import json

import pytest
from django.test import Client


class JsonClient(Client):
    """Django's test client speaking JSON, with CSRF checks on like a real browser."""

    def __init__(self):
        super().__init__(enforce_csrf_checks=True)
        self.get("/")  # the page sets the csrftoken cookie

    def _csrf(self) -> dict:
        return {"HTTP_X_CSRFTOKEN": self.cookies["csrftoken"].value}

    def post_json(self, path: str, body=None, raw: str | None = None):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.post(path, data=data, content_type="application/json", **self._csrf())

    def delete_json(self, path: str):
        return self.delete(path, **self._csrf())


@pytest.fixture
def client_a(db):
    return JsonClient()


@pytest.fixture
def client_b(db):
    return JsonClient()


@pytest.fixture
def fresh_cache():
    """Rate-limit counters start at zero (tests that join rooms or create many runs)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def teacher(db):
    return JsonClient()
