import logging
import time

import pytest
from django.core.management import call_command

from chronicle.developments.models import PublicDevelopment
from chronicle.domain.vocabulary import TOPICS
from chronicle.feeds import publishing, tasks
from chronicle.feeds.models import FeedState
from tests.factories import published_development
from tests.feeds.helpers import revise_and_publish

pytestmark = pytest.mark.django_db(transaction=True)


def feed_text(feeds_root, path, extension="atom"):
    file = feeds_root / f"{path}.{extension}"
    return file.read_text() if file.exists() else ""


def test_a_publication_regenerates_exactly_its_feeds(curator, editor, feeds_root):
    development_id = published_development(curator, editor)
    urn = f"urn:uuid:{development_id}"
    written = sorted(str(path.relative_to(feeds_root)) for path in feeds_root.rglob("*.*"))
    assert written == sorted(
        f"{path}.{extension}"
        for path in ("all", "countries/by", "countries/cn", "topics/5g")
        for extension in ("atom", "json", "rss")
    )
    assert all(urn in feed_text(feeds_root, path, "json") for path in ("all", "countries/by", "topics/5g"))


def test_a_correction_that_drops_a_country_regenerates_that_countrys_feed(curator, editor, feeds_root):
    development_id = published_development(curator, editor)
    assert f"urn:uuid:{development_id}" in feed_text(feeds_root, "countries/cn")
    revise_and_publish(development_id, curator, editor, note="China was not involved.", countries=["BY"])
    assert f"urn:uuid:{development_id}" not in feed_text(feeds_root, "countries/cn")
    assert "<title>Correction: " in feed_text(feeds_root, "countries/by")
    assert "China was not involved." in feed_text(feeds_root, "all")


def test_a_burst_of_publications_queues_one_regeneration_per_feed(curator, editor, monkeypatch, feeds_root):
    sent = []
    monkeypatch.setattr(tasks.regenerate_feed, "apply_async", lambda args, **options: sent.append(args[0]))
    for number in range(5):
        published_development(curator, editor, slug=f"burst-{number}")
    assert sorted(sent) == ["all", "countries/by", "countries/cn", "topics/5g"]

    publishing.regenerate("all")  # what the worker does with the queued task
    assert feed_text(feeds_root, "all").count("<entry>") == 5
    published_development(curator, editor, slug="after-the-burst", countries=["RU"], topics=["ai"])
    assert sorted(sent[4:]) == ["all", "countries/ru", "topics/ai"]


def test_with_the_broker_down_publishing_succeeds_and_the_periodic_pass_catches_up(curator, editor, feeds_root, caplog):
    from config.celery_app import app
    from tests import services

    publishing.publish_all()  # feeds are up to date before the outage
    saved = app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options
    app.conf.broker_url, app.conf.task_always_eager = "redis://127.0.0.1:9/0", False  # nothing listens there
    # What config/settings gives a Redis broker: give up quickly when it is down.
    app.conf.broker_transport_options = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
    services.reset_connections(app)
    try:
        with caplog.at_level(logging.ERROR, logger="chronicle.feeds"):
            started = time.monotonic()
            development_id = published_development(curator, editor, slug="during-the-outage")
            elapsed = time.monotonic() - started
    finally:
        app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options = saved
        services.reset_connections(app)
    assert elapsed < 5
    assert PublicDevelopment.objects.filter(id=development_id).exists()
    assert "periodic pass will catch up" in caplog.text
    assert not FeedState.objects.filter(queued=True).exists()
    assert f"urn:uuid:{development_id}" not in feed_text(feeds_root, "all")

    assert publishing.publish_stale() == 4
    for path in ("all", "countries/by", "countries/cn", "topics/5g"):
        assert f"urn:uuid:{development_id}" in feed_text(feeds_root, path)
    assert publishing.publish_stale() == 0


def test_publish_feeds_writes_every_feed_and_reports(curator, editor, feeds_root, capsys):
    published_development(curator, editor)
    for path in feeds_root.rglob("*.*"):
        path.unlink()
    call_command("publish_feeds")
    feeds = 1 + len(TOPICS) + 2  # all, every topic, and the development's two countries
    assert f"Published {feeds} feeds ({feeds} changed)" in capsys.readouterr().out
    assert len(list(feeds_root.rglob("*.atom"))) == 1 + len(TOPICS) + 2
    call_command("publish_feeds")
    assert "(0 changed)" in capsys.readouterr().out
