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
