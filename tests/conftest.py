import pytest


@pytest.fixture(scope="session")
def live_app():
    """The whole application (embedded Redis, a Celery worker, daphne) for this session."""
    from tests.live import LiveApp

    app = LiveApp().start()
    yield app
    app.stop()
