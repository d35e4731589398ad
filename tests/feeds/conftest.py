import pytest


@pytest.fixture(autouse=True)
def feeds_root(settings, tmp_path):
    """Feed files under the test's own folder, regenerated eagerly unless a real worker runs."""
    from config.celery_app import app

    settings.FEEDS_ROOT = tmp_path / "feeds"
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield settings.FEEDS_ROOT
    app.conf.task_always_eager = saved
