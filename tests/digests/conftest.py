import pytest

from config.celery_app import app


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in the test process (unit tests; integration tests use `celery_worker`)."""
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved
