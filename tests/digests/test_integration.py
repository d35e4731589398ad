"""A real SMTP server (aiosmtpd), and a real Celery worker on Redis killed mid-pass."""

from datetime import date, timedelta
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime

import pytest
from django.db import DatabaseError
from django.utils import timezone

from chronicle.digests import delivery, tasks, tokens
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


@pytest.fixture
def smtp_delivery(smtp_server, settings):
    """Digests go to the SMTP server through Django's SMTP backend: yields its RecordingHandler."""
    handler, port = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    return handler


@pytest.mark.smtp
@pytest.mark.django_db
def test_recipients_of_the_same_digest_each_receive_their_own_message(smtp_delivery, curator, editor):
    handler = smtp_delivery
    readers = [confirmed_subscriber(f"reader{n}@example.org", topics=["5g"]) for n in range(3)]
    published_development(curator, editor, slug="shared-5g-news", title="Shared “5G” news", topics=["5g"])

    _, tally = delivery.run_pass("daily", date(2030, 1, 1))

    assert tally.sent == 3
    received = [message_from_bytes(message.as_bytes(), policy=policy.default) for message in handler.messages]
    by_address = {message["To"]: message for message in received}
    assert set(by_address) == {reader.email for reader in readers}
    rows = {row.subscriber_id: row for row in Digest.objects.all()}
    own_links, shared_text = set(), set()
    for reader in readers:
        message = by_address[reader.email]
        assert message["Message-ID"] == delivery.message_id(rows[reader.pk])
        assert message["Subject"] == "Chronicle daily digest: 1 new development"
        assert abs(parsedate_to_datetime(message["Date"]) - timezone.now()) < timedelta(minutes=5)
        unsubscribe = message["List-Unsubscribe"].strip().strip("<>")
        assert tokens.read(tokens.UNSUBSCRIBE, unsubscribe.rstrip("/").rsplit("/", 1)[1]) == reader
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        manage = next(line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("Change what"))
        assert tokens.read(tokens.MANAGE, manage.rstrip("/").rsplit("/", 1)[1]) == reader
        assert f"Unsubscribe: {unsubscribe}\n" in text
        assert f'href="{unsubscribe}"' in html and f'href="{manage}"' in html
        assert "Shared “5G” news" in text and "Shared “5G” news" in html
        own_links |= {unsubscribe, manage}
        shared_text.add(
            (text.replace(unsubscribe, "").replace(manage, ""), html.replace(unsubscribe, "").replace(manage, ""))
        )
    assert len({message["Message-ID"] for message in received}) == 3
    assert len(own_links) == 6, "each recipient has links of their own"
    assert len(shared_text) == 1, "and otherwise the same digest"


def record_events(handler, monkeypatch) -> list[tuple[str, str]]:
    """("accepted", Message-ID) as the server accepts each message, ("recorded", Message-ID)
    as the worker records one as sent, in the order they happen."""
    events = []
    accept = handler.handle_DATA

    async def handle_DATA(server, session, envelope):
        reply = await accept(server, session, envelope)
        events.append(("accepted", handler.accepted[-1][1]))
        return reply

    record = delivery._finish

    def finish(row, content=None, *, state):
        record(row, content, state=state)
        events.append(("recorded", delivery.message_id(row)))

    monkeypatch.setattr(handler, "handle_DATA", handle_DATA)
    monkeypatch.setattr(delivery, "_finish", finish)
    return events


@pytest.mark.smtp
@pytest.mark.django_db
def test_no_message_is_accepted_before_the_one_before_it_is_recorded(smtp_delivery, curator, editor, monkeypatch):
    readers = [confirmed_subscriber(f"reader{n}@example.org") for n in range(4)]
    published_development(curator, editor, slug="news")
    events = record_events(smtp_delivery, monkeypatch)

    _, tally = delivery.run_pass("daily", date(2030, 1, 1))

    assert tally.sent == len(readers)
    message_ids = [message_id for event, message_id in events if event == "accepted"]
    assert len(set(message_ids)) == len(readers)
    assert events == [(event, message_id) for message_id in message_ids for event in ("accepted", "recorded")]


@pytest.mark.smtp
@pytest.mark.django_db
def test_a_message_whose_predecessor_cannot_be_recorded_is_never_accepted(smtp_delivery, curator, editor, monkeypatch):
    for n in range(3):
        confirmed_subscriber(f"reader{n}@example.org")
    published_development(curator, editor, slug="news")
    events = record_events(smtp_delivery, monkeypatch)
    record = delivery._finish

    def database_gone(row, content=None, *, state):
        if events:
            raise DatabaseError("the database went away")
        record(row, content, state=state)

    monkeypatch.setattr(delivery, "_finish", database_gone)

    with pytest.raises(DatabaseError):
        delivery.run_pass("daily", date(2030, 1, 1))

    assert [event for event, _ in events] == ["accepted"], "the second message was left without its end"
    assert len(smtp_delivery.accepted) == 1
    assert set(Digest.objects.values_list("state", flat=True)) == {DigestState.SENDING}


@pytest.mark.smtp
@pytest.mark.django_db
def test_refused_recipients_over_smtp_are_failed_or_retried_and_the_others_sent(
    smtp_delivery, curator, editor, monkeypatch
):
    handler = smtp_delivery
    refusals = {"busy@example.org": "451 Mailbox busy, try later", "gone@example.org": "550 No such user"}
    for address in ["first@example.org", *refusals, "last@example.org"]:
        confirmed_subscriber(address)
    published_development(curator, editor, slug="news")
    accept = handler.handle_RCPT

    async def handle_RCPT(server, session, envelope, address, rcpt_options):
        if address in refusals:
            return refusals[address]
        return await accept(server, session, envelope, address, rcpt_options)

    monkeypatch.setattr(handler, "handle_RCPT", handle_RCPT)

    _, tally = delivery.run_pass("daily", date(2030, 1, 1))

    assert (tally.sent, tally.failed, len(tally.retry)) == (2, 1, 1)
    assert sorted(address for address, _ in handler.accepted) == ["first@example.org", "last@example.org"]
    states = dict(Digest.objects.values_list("subscriber__email", "state"))
    assert states == {
        "first@example.org": DigestState.SENT,
        "busy@example.org": DigestState.PENDING,
        "gone@example.org": DigestState.FAILED,
        "last@example.org": DigestState.SENT,
    }
