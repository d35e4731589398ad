"""A real SMTP server (aiosmtpd) and a real Celery worker on Redis, killed mid-pass."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chronicle.digests import delivery, tasks
from chronicle.digests.models import FINISHED_STATES, Digest, DigestState
from tests import services
from tests.digests.factories import confirmed_subscriber
from tests.factories import published_development


def all_finished(period: str, count: int) -> bool:
    return Digest.objects.filter(period=period, state__in=FINISHED_STATES).count() == count


def leases_expired(period: str, lease: timedelta) -> bool:
    """Whether every unfinished row of `period` was claimed (or, unclaimed, created) over `lease` ago."""
    unfinished = Digest.objects.filter(period=period).exclude(state__in=FINISHED_STATES)
    return all(
        timezone.now() - (claimed_at or created_at) > lease
        for claimed_at, created_at in unfinished.values_list("claimed_at", "created_at")
    )


@pytest.mark.smtp
@pytest.mark.celery
def test_a_worker_killed_mid_pass_neither_repeats_nor_skips_a_digest(celery_worker, smtp_server, curator, editor):
    handler, port = smtp_server
    subscribers = [confirmed_subscriber(f"reader{n}@example.org") for n in range(4)]
    subscribers += [confirmed_subscriber(f"5g{n}@example.org", topics=["5g"]) for n in range(2)]
    celery_worker.env.update(
        {"EMAIL_URL": f"smtp://127.0.0.1:{port}", "DIGEST_LEASE_SECONDS": "2", "DIGEST_BATCH_SIZE": "2"}
    )
    celery_worker.start()

    published_development(curator, editor, slug="first-5g-news", topics=["5g"])
    tasks.start_digest_pass.delay("daily", "2030-01-01")
    services.wait_for(lambda: all_finished("2030-01-01", 6), 30, celery_worker.output)
    assert len(handler.accepted) == 6

    published_development(curator, editor, slug="second-5g-news", topics=["5g"])
    handler.stall_at = handler.recipients_seen + 3
    tasks.start_digest_pass.delay("daily", "2030-01-02")
    assert handler.stalled.wait(30), celery_worker.output()
    celery_worker.kill()
    handler.release.set()
    states = list(Digest.objects.filter(period="2030-01-02").values_list("state", flat=True))
    assert states.count(DigestState.SENT) == 2 and DigestState.SENDING in states

    celery_worker.start()
    # Beat sends resume_digests periodically; here once the dead worker's claims are past
    # their 2 s lease.
    services.wait_for(lambda: leases_expired("2030-01-02", timedelta(seconds=2)), 30, celery_worker.output)
    tasks.resume_digests.delay()
    services.wait_for(lambda: all_finished("2030-01-02", 6), 30, celery_worker.output)
    assert all_finished("2030-01-02", 6), celery_worker.output()

    assert set(Digest.objects.values_list("state", flat=True)) == {DigestState.SENT}
    expected = sorted((row.subscriber.email, delivery.message_id(row)) for row in Digest.objects.all())
    assert sorted(handler.accepted) == expected
    assert {email for email, _ in expected} == {subscriber.email for subscriber in subscribers}
    assert len(expected) == 12
    # Each digest carries its own day's publication: none is lost with the killed worker's
    # claims, and none is sent again the next day.
    periods = {delivery.message_id(row): row.period for row in Digest.objects.all()}
    for message in handler.messages:
        text = plain_text(message)
        first, second = "/developments/first-5g-news/" in text, "/developments/second-5g-news/" in text
        assert (first, second) == ((True, False) if periods[message["Message-ID"]] == "2030-01-01" else (False, True))


def plain_text(message) -> str:
    return "".join(
        part.get_payload(decode=True).decode() for part in message.walk() if part.get_content_type() == "text/plain"
    )
