import pytest
from django.core.cache import cache

from tests.api.conftest import JsonClient


@pytest.fixture(autouse=True)
def _fresh_counters(request):
    """Rate-limit counters live in the (process-memory) cache: none leak between tests."""
    if "db" not in request.fixturenames and "client_a" not in request.fixturenames:
        yield
        return
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client_a(db):
    return JsonClient()


@pytest.fixture
def client_b(db):
    return JsonClient()
