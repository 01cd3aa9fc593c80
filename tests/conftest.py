import pytest
import torch

# One intra-op thread, like the worker (webapp.runs.tasks): the test networks are tiny,
# and on a busy 2-core machine OpenMP's barriers make extra threads many times slower.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def live_app():
    """The whole application (embedded Redis, a Celery worker, daphne) for this session."""
    from tests.live import LiveApp

    app = LiveApp().start()
    yield app
    app.stop()


def pytest_report_header(config):
    """Which database this session's in-process tests use (scripts/test-postgres sets DATABASE_URL)."""
    import os

    url = os.environ.get("DATABASE_URL", "")
    live = os.environ.get("DESCENT_LIVE_DATABASE_URL", "")
    engine = "postgresql" if url.startswith("postgres") else "sqlite"
    return f"database: {engine}" + (f"; live app: {live.split('@')[-1]}" if live else "")


@pytest.fixture
def db_vendor(db):
    """'postgresql' or 'sqlite': for the few assertions that differ between the two."""
    from django.db import connection

    return connection.vendor
