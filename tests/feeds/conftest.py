import pytest

from chronicle.developments.signals import public_events_committed
from chronicle.feeds.publishing import queue_affected_feeds


@pytest.fixture(autouse=True)
def feeds_root(settings, tmp_path):
    """Feed files under the test's own folder, regenerated eagerly unless a real worker runs."""
    from kombu import pools

    from config.celery_app import app
    from tests import services

    # Earlier tests in the session can leave two things behind: a test that clears every
    # receiver of the signal (connecting again with our dispatch_uid is a no-op otherwise),
    # and a producer pool that the celery_worker fixture closed but kombu still hands out
    # (Celery acquires a producer even for eager tasks).
    public_events_committed.connect(queue_affected_feeds, dispatch_uid="feeds.queue_affected_feeds")
    pools.reset()
    services.reset_connections(app)
    settings.FEEDS_ROOT = tmp_path / "feeds"
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield settings.FEEDS_ROOT
    app.conf.task_always_eager = saved
