import json
import re
import smtplib
import uuid
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import sanitize_address
from django.core.management import call_command
from django.utils import timezone

from chronicle.developments import commands
from chronicle.developments.models import PublicRevision
from chronicle.digests import delivery, tokens
from chronicle.digests.models import Digest, DigestState, SentDevelopment, SubscriberState
from chronicle.feeds import rendering
from chronicle.feeds.catalog import Feed
from config.settings.environment import digest_schedule
from tests.digests.factories import confirmed_subscriber
from tests.factories import content_data, published_development

pytestmark = pytest.mark.django_db

DAY_1, DAY_2 = date(2030, 1, 1), date(2030, 1, 2)


def publish(curator, editor, slug, **overrides):
    overrides.setdefault("title", slug.replace("-", " ").capitalize())
    return published_development(curator, editor, slug=slug, **overrides)


def correct(development_id, curator, editor, note, **changes):
    commands.revise_development(development_id, content_data(**changes), actor=curator)
    commands.submit_development(development_id, actor=curator)
    return commands.publish_correction(development_id, note, actor=editor)


def digests_to(address):
    return [message for message in mail.outbox if message.to == [address]]


def titles_in(message):
    return {line[2:] for line in message.body.splitlines() if line.startswith("* ")}


def test_each_subscriber_gets_the_developments_in_their_scope(curator, editor):
    everything = confirmed_subscriber("all@example.org")
    fiveg = confirmed_subscriber("5g@example.org", topics=["5g"])
    russia = confirmed_subscriber("ru@example.org", countries=["RU"])
    fiveg_in_russia = confirmed_subscriber("5g-ru@example.org", topics=["5g"], countries=["RU"])
    publish(curator, editor, "belarus-5g", topics=["5g"], countries=["BY", "CN"])
    publish(curator, editor, "russia-5g", topics=["5g"], countries=["RU"])
    publish(curator, editor, "russia-postal", topics=["postal"], countries=["RU", "BY"])

    _, tally = delivery.run_pass("daily", DAY_1)

    assert tally.sent == 4
    assert titles_in(digests_to(everything.email)[0]) == {"Belarus 5g", "Russia 5g", "Russia postal"}
    assert titles_in(digests_to(fiveg.email)[0]) == {"Belarus 5g", "Russia 5g"}
    assert titles_in(digests_to(russia.email)[0]) == {"Russia 5g", "Russia postal"}
    assert titles_in(digests_to(fiveg_in_russia.email)[0]) == {"Russia 5g"}
    assert digests_to(fiveg.email)[0].subject == "Chronicle daily digest: 2 new developments"


def test_a_digest_covers_only_what_was_published_since_the_last_one(curator, editor):
    subscriber = confirmed_subscriber("reader@example.org")
    publish(curator, editor, "first-news")
    delivery.run_pass("daily", DAY_1)
    publish(curator, editor, "second-news")

    delivery.run_pass("daily", DAY_2)

    first, second = digests_to(subscriber.email)
    assert titles_in(first) == {"First news"}
    assert titles_in(second) == {"Second news"}
    subscriber.refresh_from_db()
    assert subscriber.high_water == Digest.objects.get(period="2030-01-02").cutoff_position


def test_nothing_new_means_no_email_and_the_mark_moves_on(curator, editor):
    fiveg = confirmed_subscriber("5g@example.org", topics=["5g"])
    publish(curator, editor, "postal-news", topics=["postal"])

    _, tally = delivery.run_pass("daily", DAY_1)

    assert (tally.sent, tally.nothing_new) == (0, 1)
    assert mail.outbox == []
    row = Digest.objects.get()
    assert row.state == DigestState.NOTHING_NEW
    fiveg.refresh_from_db()
    assert fiveg.high_water == row.cutoff_position


def test_corrections_updates_and_retractions_reach_those_who_were_sent_the_development(curator, editor):
    early = confirmed_subscriber("early@example.org")
    development_id = publish(curator, editor, "beltelecom-5g", title="Beltelecom tests 5G")
    other_id = publish(curator, editor, "ru-postal", title="Postal treaty")
    delivery.run_pass("daily", DAY_1)
    late = confirmed_subscriber("late@example.org")
    correct(development_id, curator, editor, "The test was in Minsk, not Brest.", title="Beltelecom tests 5G in Minsk")
    commands.retract_development(other_id, "Duplicate of another record.", actor=editor)
    publish(curator, editor, "new-one", title="A new development")

    delivery.run_pass("daily", DAY_2)

    digest = digests_to(early.email)[1]
    assert digest.subject == "Chronicle daily digest: 1 new development, 2 corrections or updates"
    body = digest.body
    new_part, corrections = body.split("CORRECTIONS AND UPDATES")
    assert titles_in(digest) >= {"A new development"} and "Beltelecom tests 5G" not in new_part
    assert "* Correction: Beltelecom tests 5G in Minsk\n  The test was in Minsk, not Brest." in corrections
    assert "* Retracted: Postal treaty\n  Duplicate of another record." in corrections
    # The same words as the feeds' entries, linking the revision in the development's history.
    feed_titles = [item["title"] for item in json.loads(rendering.render(Feed())["json"])["items"]]
    assert {"Correction: Beltelecom tests 5G in Minsk", "Retracted: Postal treaty"} <= set(feed_titles)
    correction = PublicRevision.objects.get(development_id=development_id, kind="corrected")
    history = f"{settings.SITE_URL}/developments/beltelecom-5g/#revision-{correction.version}"
    correction_text = "* Correction: Beltelecom tests 5G in Minsk\n  The test was in Minsk, not Brest."
    assert f"{correction_text}\n  {history}" in corrections
    html = digest.alternatives[0].content
    assert "Corrections and updates" in html and "The test was in Minsk, not Brest." in html
    assert f'href="{history}"' in html
    # Who never received the development gets no correction of it.
    assert "CORRECTIONS AND UPDATES" not in digests_to(late.email)[0].body
    assert SentDevelopment.objects.filter(subscriber=early).count() == 3


def test_a_development_corrected_before_its_first_digest_is_sent_as_corrected(curator, editor):
    subscriber = confirmed_subscriber("reader@example.org")
    development_id = publish(curator, editor, "fresh", title="First wording")
    correct(development_id, curator, editor, "Better wording.", title="Second wording")

    delivery.run_pass("daily", DAY_1)

    (digest,) = digests_to(subscriber.email)
    assert titles_in(digest) == {"Second wording"}
    assert "CORRECTIONS" not in digest.body


def test_text_is_escaped_in_html_and_left_as_written_in_plain_text(curator, editor):
    subscriber = confirmed_subscriber("reader@example.org")
    publish(curator, editor, "tricky", title='<script>alert("x")</script> & Co', summary="Fish & <b>chips</b>")

    delivery.run_pass("daily", DAY_1)

    (digest,) = digests_to(subscriber.email)
    html = digest.alternatives[0].content
    assert "<script>" not in html and "<b>chips" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in html
    assert "Fish &amp; &lt;b&gt;chips&lt;/b&gt;" in html
    assert '* <script>alert("x")</script> & Co' in digest.body
    assert "http://testserver" not in html


def test_dates_in_a_digest_are_written_for_people(curator, editor):
    subscriber = confirmed_subscriber("reader@example.org")
    publish(curator, editor, "workshop", date="2021-06-01/2021-06-04")
    publish(curator, editor, "inferred", date="2021-05?")

    delivery.run_pass("daily", DAY_1)

    (digest,) = digests_to(subscriber.email)
    for text in (digest.body, digest.alternatives[0].content):
        assert "1–4 June 2021 ·" in text and "May 2021 (uncertain) ·" in text
        assert "2021-05?" not in text


def test_digests_carry_absolute_links_one_click_unsubscribe_and_a_stable_message_id(curator, editor, settings):
    settings.SITE_URL = "https://chronicle.example.org"
    subscriber = confirmed_subscriber("reader@example.org")
    publish(curator, editor, "linked")

    delivery.run_pass("daily", DAY_1)

    (digest,) = digests_to(subscriber.email)
    headers = digest.message()
    row = Digest.objects.get()
    assert headers["Message-ID"] == f"<digest.{row.id}@chronicle.example.org>"
    assert headers["List-Unsubscribe"].startswith("<https://chronicle.example.org/unsubscribe/")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "https://chronicle.example.org/developments/linked/" in digest.body
    assert "https://chronicle.example.org/subscribe/manage/" in digest.body


def test_a_second_run_of_the_same_period_sends_nothing_again(curator, editor):
    confirmed_subscriber("reader@example.org")
    publish(curator, editor, "once")
    delivery.run_pass("daily", DAY_1)
    publish(curator, editor, "later")

    _, tally = delivery.run_pass("daily", DAY_1)

    assert tally.sent == 0 and len(mail.outbox) == 1
    assert Digest.objects.get().state == DigestState.SENT


def test_a_row_held_by_a_live_worker_is_left_alone_and_an_expired_claim_is_taken_over(curator, editor, settings):
    settings.DIGEST_LEASE_SECONDS = 600
    subscriber = confirmed_subscriber("reader@example.org")
    publish(curator, editor, "contested")
    period = delivery.plan("daily", DAY_1)
    row = Digest.objects.get()
    Digest.objects.filter(pk=row.pk).update(state=DigestState.SENDING, claimed_at=timezone.now())

    assert delivery.deliver([str(row.pk)]).sent == 0
    assert mail.outbox == []

    Digest.objects.filter(pk=row.pk).update(claimed_at=timezone.now() - timedelta(minutes=11))
    batches = list(delivery.due())
    assert batches == [[str(row.pk)]]
    assert delivery.deliver(batches[0]).sent == 1
    assert [m.to for m in mail.outbox] == [[subscriber.email]]
    assert Digest.objects.get(period=period).attempts == 1


def test_an_unsubscribe_after_planning_skips_the_digest(curator, editor):
    subscriber = confirmed_subscriber("leaver@example.org")
    publish(curator, editor, "news")
    delivery.plan("daily", DAY_1)
    subscriber.state = SubscriberState.UNSUBSCRIBED
    subscriber.save()

    _, tally = delivery.run_pass("daily", DAY_1)

    assert tally.skipped == 1 and mail.outbox == []


class FlakyBackend:
    """An SMTP connection that fails as the test says, per recipient."""

    failures: dict = {}

    def __init__(self, **kwargs):
        pass

    def open(self):
        return None

    def close(self):
        pass

    def send_messages(self, messages):
        for message in messages:
            error = self.failures.get(message.to[0], self.failures.get("*"))
            if error is not None:
                raise error
            mail.outbox.append(message)
        return len(messages)


@pytest.fixture
def flaky_smtp(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.failures = {}
    yield FlakyBackend.failures
    FlakyBackend.failures = {}


def test_temporary_failures_are_retried_and_permanent_ones_recorded(curator, editor, flaky_smtp, settings):
    settings.DIGEST_LEASE_SECONDS = 60
    busy = confirmed_subscriber("busy@example.org")
    gone = confirmed_subscriber("gone@example.org")
    fine = confirmed_subscriber("fine@example.org")
    publish(curator, editor, "news")
    flaky_smtp[busy.email] = smtplib.SMTPRecipientsRefused({busy.email: (451, b"Mailbox busy, try later")})
    flaky_smtp[gone.email] = smtplib.SMTPRecipientsRefused({gone.email: (550, b"No such user")})

    _, tally = delivery.run_pass("daily", DAY_1)

    assert (tally.sent, tally.failed, len(tally.retry)) == (1, 1, 1)
    assert [m.to for m in mail.outbox] == [[fine.email]]
    busy_row = Digest.objects.get(subscriber=busy)
    assert busy_row.state == DigestState.PENDING and "Mailbox busy" in busy_row.last_error
    gone_row = Digest.objects.get(subscriber=gone)
    assert gone_row.state == DigestState.FAILED and "No such user" in gone_row.last_error

    del flaky_smtp[busy.email]
    assert delivery.deliver(tally.retry).sent == 1
    assert Digest.objects.get(subscriber=busy).state == DigestState.SENT


def test_a_server_that_is_down_leaves_the_whole_batch_for_later(curator, editor, flaky_smtp):
    confirmed_subscriber("a@example.org")
    confirmed_subscriber("b@example.org")
    publish(curator, editor, "news")
    flaky_smtp["*"] = ConnectionRefusedError("Connection refused")

    _, tally = delivery.run_pass("daily", DAY_1)

    assert tally.sent == 0 and len(tally.retry) == 2
    assert set(Digest.objects.values_list("state", flat=True)) == {DigestState.PENDING}


def test_an_address_that_keeps_bouncing_is_disabled(curator, editor, flaky_smtp, settings):
    settings.DIGEST_MAX_PERMANENT_FAILURES = 3
    gone = confirmed_subscriber("gone@example.org")
    flaky_smtp[gone.email] = smtplib.SMTPRecipientsRefused({gone.email: (550, b"No such user")})
    for day in range(1, 5):
        publish(curator, editor, f"news-{day}")
        delivery.run_pass("daily", date(2030, 1, day))
        gone.refresh_from_db()
        assert gone.state == (SubscriberState.DISABLED if day >= 3 else SubscriberState.CONFIRMED)
    assert Digest.objects.filter(subscriber=gone).count() == 3


def test_send_digests_command_runs_a_pass_and_summarises(curator, editor, capsys):
    confirmed_subscriber("reader@example.org")
    confirmed_subscriber("weekly@example.org", frequency="weekly")
    publish(curator, editor, "news")

    call_command("send_digests", "--frequency", "daily", "--day", "2030-01-01")

    assert "Daily digests for 2030-01-01: 1 sent, 0 with nothing new, 0 skipped, 0 failed" in capsys.readouterr().out
    assert [m.to for m in mail.outbox] == [["reader@example.org"]]


def test_weekly_periods_are_iso_weeks():
    assert delivery.period_for("weekly", date(2030, 1, 1)) == "2030-W01"
    assert delivery.period_for("weekly", date(2029, 12, 30)) == "2029-W52"
    assert delivery.period_for("daily", date(2030, 1, 1)) == "2030-01-01"


def test_a_pass_whose_message_from_beat_was_lost_starts_late_and_only_once(curator, editor, eager_tasks, settings):
    from datetime import UTC, datetime

    import time_machine

    from chronicle.digests import tasks

    settings.DIGEST_SCHEDULE = digest_schedule("06:00", "mon 06:30")
    confirmed_subscriber("daily@example.org")
    confirmed_subscriber("weekly@example.org", frequency="weekly")
    publish(curator, editor, "published-while-the-broker-was-down")
    wednesday = datetime(2030, 1, 2, 6, 5, tzinfo=UTC)  # ISO week 2030-W01 began on Monday 2029-12-31

    with time_machine.travel(wednesday, tick=False):
        assert delivery.missed_passes() == [("weekly", date(2029, 12, 31))], "today's is not missed yet, 5 min on"
    with time_machine.travel(wednesday + timedelta(minutes=10), tick=False):
        assert tasks.start_missed_digest_passes() == ["2030-01-02", "2030-W01"]
        assert tasks.start_missed_digest_passes() == []
    assert sorted(m.to[0] for m in mail.outbox) == ["daily@example.org", "weekly@example.org"]
    assert all("Published while the broker was down" in titles_in(m) for m in mail.outbox)
    with time_machine.travel(datetime(2030, 1, 3, 5, 0, tzinfo=UTC), tick=False):
        assert delivery.missed_passes() == [], "before Thursday's time, Wednesday's pass is the latest and it ran"


def test_subscribers_who_get_the_same_digest_each_get_their_own_links(curator, editor):
    readers = [confirmed_subscriber(f"reader{n}@example.org", topics=["5g"]) for n in range(3)]
    publish(curator, editor, "shared-news", topics=["5g"])

    delivery.run_pass("daily", DAY_1)

    bodies = set()
    for reader in readers:
        (digest,) = digests_to(reader.email)
        html = digest.alternatives[0].content
        unsubscribe = digest.message()["List-Unsubscribe"].strip("<>")
        manage = next(line.split(": ", 1)[1] for line in digest.body.splitlines() if line.startswith("Change what"))
        assert f"Unsubscribe: {unsubscribe}\n" in digest.body
        assert f'href="{unsubscribe}"' in html and f'href="{manage}"' in html
        assert tokens.read(tokens.UNSUBSCRIBE, unsubscribe.rstrip("/").rsplit("/", 1)[1]) == reader
        assert tokens.read(tokens.MANAGE, manage.rstrip("/").rsplit("/", 1)[1]) == reader
        bodies.add(digest.body.replace(unsubscribe, "").replace(manage, ""))
    assert len(bodies) == 1


class ReclaimingBackend(FlakyBackend):
    """While a message is with the server, the sending worker's lease runs out and another
    worker claims the row."""

    def send_messages(self, messages):
        Digest.objects.update(claim=uuid.uuid4(), claimed_at=timezone.now())
        return super().send_messages(messages)


def test_a_worker_that_lost_its_claim_records_nothing(curator, editor, settings):
    settings.EMAIL_BACKEND = f"{__name__}.ReclaimingBackend"
    subscriber = confirmed_subscriber("reader@example.org")
    publish(curator, editor, "news")
    high_water = subscriber.high_water

    delivery.run_pass("daily", DAY_1)

    assert len(mail.outbox) == 1
    assert Digest.objects.get().state == DigestState.SENDING, "the worker holding the claim records it"
    subscriber.refresh_from_db()
    assert (subscriber.high_water, subscriber.last_digest_at) == (high_water, None)
    assert not SentDevelopment.objects.exists()


def as_django_writes_it(digest) -> bytes:
    """The bytes Django writes for the digest's own text and HTML, and those the digest was
    sent as, each with its Date and MIME boundary named the same."""
    standard = EmailMultiAlternatives(digest.subject, digest.body, to=digest.to, headers=digest.extra_headers)
    standard.attach_alternative(digest.alternatives[0].content, "text/html")
    written = []
    for message in (standard.message(), digest.message()):
        data = message.as_bytes(linesep="\r\n")
        data = data.replace(message.get_boundary().encode(), b"BOUNDARY")
        written.append(re.sub(rb"\r\nDate: [^\r]+\r\n", b"\r\nDate: DATE\r\n", data))
    return written


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        ("Ünïcode “title”", "Café – “quoted” & <b>bold</b>"),
        ("Ünïcode “title”", "A summary on one long line. " * 40),
        ("Plain ASCII title", "Plain ASCII summary\r\nover two lines."),
    ],
)
def test_a_digest_is_sent_as_the_bytes_django_writes_for_its_text(curator, editor, title, summary):
    addresses = ["a@example.org", "reader@bücher.example", "a-much-longer-address-for-a-header-line@mail.example.org"]
    readers = [confirmed_subscriber(address) for address in addresses]
    publish(curator, editor, "encoded", title=title, summary=summary)

    delivery.run_pass("daily", DAY_1)

    for reader in readers:
        (digest,) = digests_to(reader.email)
        standard, sent = as_django_writes_it(digest)
        assert sent == standard
        assert f"To: {sanitize_address(reader.email, 'utf-8')}\r\n".encode() in sent
        assert b"Content-Transfer-Encoding" in sent


def test_subscribers_with_the_same_scope_and_mark_get_corrections_only_of_what_they_were_sent(curator, editor):
    everything = confirmed_subscriber("everything@example.org")
    postal_first = confirmed_subscriber("postal-first@example.org", topics=["postal"])
    development_id = publish(curator, editor, "fiveg", title="5G test", topics=["5g"])
    delivery.run_pass("daily", DAY_1)
    postal_first.refresh_from_db()
    postal_first.topics = []
    postal_first.save()
    correct(development_id, curator, editor, "It was in Minsk.", title="5G test in Minsk", topics=["5g"])
    publish(curator, editor, "postal", title="Postal treaty", topics=["postal"])

    delivery.run_pass("daily", DAY_2)

    (_, for_everything), (for_postal_first,) = digests_to(everything.email), digests_to(postal_first.email)
    assert "* Correction: 5G test in Minsk" in for_everything.body
    assert "CORRECTIONS" not in for_postal_first.body
    assert titles_in(for_everything) >= {"Postal treaty"} and titles_in(for_postal_first) == {"Postal treaty"}


def test_each_batch_of_a_pass_gives_its_subscribers_their_own_digest(curator, editor, settings):
    settings.DIGEST_BATCH_SIZE = 1
    early = confirmed_subscriber("early@example.org")
    early_5g = confirmed_subscriber("early-5g@example.org", topics=["5g"])
    early_russia = confirmed_subscriber("early-ru@example.org", countries=["RU"])
    publish(curator, editor, "first", title="First", topics=["5g"], countries=["BY"])
    late = confirmed_subscriber("late@example.org")
    late_5g = confirmed_subscriber("late-5g@example.org", topics=["5g"])
    publish(curator, editor, "second", title="Second", topics=["5g"], countries=["RU"])
    publish(curator, editor, "third", title="Third", topics=["postal"], countries=["RU"])

    _, tally = delivery.run_pass("daily", DAY_1)

    assert tally.sent == 5
    expected = {
        early: {"First", "Second", "Third"},
        early_5g: {"First", "Second"},
        early_russia: {"Second", "Third"},
        late: {"Second", "Third"},
        late_5g: {"Second"},
    }
    for subscriber, titles in expected.items():
        (digest,) = digests_to(subscriber.email)
        assert titles_in(digest) == titles, subscriber.email
        unsubscribe = digest.message()["List-Unsubscribe"].strip("<>")
        assert tokens.read(tokens.UNSUBSCRIBE, unsubscribe.rstrip("/").rsplit("/", 1)[1]) == subscriber
