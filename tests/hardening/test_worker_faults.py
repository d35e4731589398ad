"""A Celery worker killed (SIGKILL) in the middle of regenerating a feed."""

import os
import time

import feedparser
import pytest

from chronicle.feeds import publishing, tasks
from tests import services
from tests.factories import published_development

pytestmark = pytest.mark.celery


@pytest.fixture(autouse=True)
def feeds_root(settings, tmp_path):
    settings.FEEDS_ROOT = tmp_path / "feeds"
    return settings.FEEDS_ROOT


def test_a_worker_killed_mid_write_leaves_the_previous_feed_and_a_new_worker_catches_up(
    celery_worker, curator, editor, feeds_root, client, tmp_path
):
    feed = feeds_root / "all.atom"
    before = published_development(curator, editor, slug="before-the-crash")
    publishing.publish_all()
    previous = feed.read_bytes()
    assert f"urn:uuid:{before}".encode() in previous

    paused = tmp_path / "paused"
    celery_worker.app = "tests.hardening.slow_writes"
    celery_worker.env.update({"CHRONICLE_TEST_SLOW_FILE": "all.atom", "CHRONICLE_TEST_PAUSED": str(paused)})
    celery_worker.start()
    during = published_development(curator, editor, slug="during-the-crash", countries=["RU"], topics=["ai"])
    services.wait_for(paused.exists, 30, celery_worker.output)

    # The new content is on disk, complete, under a temporary name nobody serves.
    (leftover,) = feeds_root.glob(".all.atom.*.tmp")
    assert f"urn:uuid:{during}".encode() in leftover.read_bytes()
    assert client.get("/feeds/all.atom").content == previous
    celery_worker.kill()

    assert feed.read_bytes() == previous
    parsed = feedparser.parse(previous)
    assert not parsed.bozo and [entry.id for entry in parsed.entries] == [f"urn:uuid:{before}"]
    response = client.get("/feeds/all.atom")
    assert response.status_code == 200 and response.content == previous
    assert client.get(f"/feeds/{leftover.name}").status_code == 404

    # Once the leftover is older than any write in progress, the next write of the feed removes it.
    old = time.time() - publishing.STALE_TEMPORARY_SECONDS - 60
    os.utime(leftover, (old, old))
    celery_worker.app = "config"
    celery_worker.start()
    tasks.publish_stale_feeds.delay()  # what beat sends every minute
    services.wait_for(lambda: f"urn:uuid:{during}".encode() in feed.read_bytes(), 30, celery_worker.output)
    parsed = feedparser.parse(feed.read_bytes())
    assert not parsed.bozo and {entry.id for entry in parsed.entries} == {f"urn:uuid:{before}", f"urn:uuid:{during}"}
    assert not leftover.exists()
    # The worker goes on to the pass's other feeds; once it is through, no temporary file is left.
    services.wait_for(lambda: not list(feeds_root.rglob(".*.tmp")), 30, lambda: str(list(feeds_root.rglob(".*.tmp"))))
