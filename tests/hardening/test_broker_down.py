"""Redis (the broker) stops: Chronicle keeps serving and publishing, and catches up once it is back.

Each test runs its own redis-server on a free port (tests/hardening/private_redis.py); the
machine's shared Redis is never stopped.
"""

import socket
import threading
import time

import feedparser
import pytest

from chronicle.developments import commands
from chronicle.developments.models import DevelopmentRecord, PublicDevelopment
from chronicle.digests import tasks as digest_tasks
from chronicle.digests.models import Subscriber, SubscriberState
from chronicle.feeds import publishing
from chronicle.feeds import tasks as feed_tasks
from tests import services
from tests.admin.conftest import LIST_URL, step_url
from tests.digests.factories import confirmed_subscriber
from tests.factories import content_data, published_development
from tests.hardening.private_redis import private_redis

# Far above the ~0.5 s a refused connection costs: only a hang fails this.
QUICK = 5


@pytest.fixture(autouse=True)
def feeds_root(settings, tmp_path):
    settings.FEEDS_ROOT = tmp_path / "feeds"
    return settings.FEEDS_ROOT


@pytest.fixture
def broker(transactional_db, settings):
    """A private Redis as the broker of this process (app.conf, as conftest's celery_worker does)."""
    from config.celery_app import app

    with private_redis() as redis_server:
        saved = app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options
        app.conf.broker_url, app.conf.task_always_eager = redis_server.url, False
        # What config/settings gives a Redis broker (this run may be on the filesystem default).
        app.conf.broker_transport_options = settings.REDIS_BROKER_TRANSPORT_OPTIONS
        services.reset_connections(app)
        try:
            yield redis_server
        finally:
            app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options = saved
            services.reset_connections(app)


@pytest.fixture
def worker(broker, smtp_server, tmp_path):
    _, port = smtp_server
    env = services.worker_environment({"CELERY_BROKER_URL": broker.url, "EMAIL_URL": f"smtp://127.0.0.1:{port}"})
    celery_worker = services.CeleryWorker(tmp_path / "worker.log", env)
    yield celery_worker
    celery_worker.stop()


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def in_review(curator, slug: str, **overrides):
    development_id = commands.draft_development(content_data(**overrides), actor=curator, slug=slug).development_id
    commands.submit_development(development_id, actor=curator)
    return development_id


def publish_in_admin(client, development_id):
    version = DevelopmentRecord.objects.get(pk=development_id).version
    return client.post(step_url(development_id, "publish"), {"version": version}, follow=True)


def feed_ids(feeds_root, path: str) -> set[str]:
    file = feeds_root / f"{path}.atom"
    if not file.exists():
        return set()
    parsed = feedparser.parse(file.read_bytes())
    assert not parsed.bozo, parsed.bozo_exception
    return {entry.id for entry in parsed.entries}


def text_of(message) -> str:
    return "".join(
        part.get_payload(decode=True).decode() for part in message.walk() if part.get_content_type() == "text/plain"
    )


@pytest.mark.redis
@pytest.mark.celery
@pytest.mark.smtp
def test_with_redis_stopped_everything_answers_and_feeds_and_emails_catch_up_once_it_is_back(
    broker, worker, smtp_server, client, curator, editor, feeds_root
):
    handler, _ = smtp_server
    worker.start()
    before = published_development(curator, editor, slug="before-the-outage")
    services.wait_for(lambda: f"urn:uuid:{before}" in feed_ids(feeds_root, "all"), 30, worker.output)
    feed_before = (feeds_root / "all.atom").read_bytes()
    reader = confirmed_subscriber("reader@example.org")
    during_id = in_review(curator, "during-the-outage", countries=["RU"], topics=["ai"])
    after_id = in_review(curator, "after-the-outage")

    broker.stop()
    client.force_login(editor)
    response, elapsed = timed(lambda: client.get(LIST_URL))
    assert response.status_code == 200 and elapsed < QUICK
    response, elapsed = timed(lambda: publish_in_admin(client, during_id))
    assert response.status_code == 200 and elapsed < QUICK
    assert "Published." in response.content.decode()
    assert PublicDevelopment.objects.get(pk=during_id).status == "published"
    client.logout()

    for url in ("/api/v1/developments/", f"/api/v1/developments/{during_id}/", "/", "/developments/during-the-outage/"):
        response, elapsed = timed(lambda url=url: client.get(url))
        assert response.status_code == 200 and elapsed < QUICK, url
    response = client.get("/feeds/all.atom")
    assert response.status_code == 200 and response.content == feed_before
    response, elapsed = timed(
        lambda: client.post("/subscribe/", {"email": "new@example.org", "frequency": "daily", "topics": ["ai"]})
    )
    assert response.status_code == 200 and elapsed < QUICK
    assert "new@example.org" in response.content.decode()
    assert Subscriber.objects.get(email="new@example.org").state == SubscriberState.PENDING
    assert client.get("/readyz").status_code == 503

    broker.start()
    # The worker reconnects by itself (broker_connection_retry); it is not restarted.
    services.wait_for(lambda: worker.output().count("Connected to redis://") >= 2, 30, worker.output)
    # What beat sends every minute; the publication made during the outage reaches its feeds.
    feed_tasks.publish_stale_feeds.delay()
    digest_tasks.send_unsent_confirmations.delay()
    for path in ("all", "countries/ru", "topics/ai"):
        services.wait_for(lambda path=path: f"urn:uuid:{during_id}" in feed_ids(feeds_root, path), 30, worker.output)
    services.wait_for(lambda: any(rcpt == "new@example.org" for rcpt, _ in handler.accepted), 30, worker.output)
    (confirmation,) = [message for message in handler.messages if message["To"] == "new@example.org"]
    assert "/subscribe/confirm/" in text_of(confirmation)

    # Publishing queues its regeneration at once again, from this process's renewed connection.
    client.force_login(editor)
    assert "Published." in publish_in_admin(client, after_id).content.decode()
    services.wait_for(lambda: f"urn:uuid:{after_id}" in feed_ids(feeds_root, "all"), 30, worker.output)

    # The next digest pass carries what was published during the outage.
    digest_tasks.start_digest_pass.delay("daily", "2030-01-01")
    services.wait_for(lambda: any(rcpt == reader.email for rcpt, _ in handler.accepted), 30, worker.output)
    (digest,) = [message for message in handler.messages if message["To"] == reader.email]
    assert "/developments/during-the-outage/" in text_of(digest)
    assert [rcpt for rcpt, _ in handler.accepted].count("new@example.org") == 1


class SilentBroker:
    """Accepts TCP connections and never answers, like a hung Redis or one behind a firewall
    that drops packets; closes after `lifetime` seconds so nothing hangs forever."""

    def __init__(self, lifetime: float = 30) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}/0"
        self.timer = threading.Timer(lifetime, self.close)
        self.timer.start()

    def close(self) -> None:
        self.timer.cancel()
        self.listener.close()


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_never_answers_delays_a_publication_by_seconds_not_forever(curator, editor, settings):
    from config.celery_app import app

    silent = SilentBroker()
    saved = app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options
    app.conf.broker_url, app.conf.task_always_eager = silent.url, False
    # What config/settings gives a Redis broker (the test run itself may be on the filesystem default).
    app.conf.broker_transport_options = settings.REDIS_BROKER_TRANSPORT_OPTIONS
    services.reset_connections(app)
    try:
        development_id, elapsed = timed(lambda: published_development(curator, editor, slug="hung-broker"))
    finally:
        silent.close()
        app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options = saved
        services.reset_connections(app)
    assert elapsed < 15
    assert PublicDevelopment.objects.filter(id=development_id).exists()
    assert publishing.publish_stale() >= 1
