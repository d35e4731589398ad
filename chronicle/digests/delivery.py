"""Digest passes: plan the ledger rows of a period, then deliver each row exactly once.

A pass inserts one ledger row per confirmed subscriber for the period (a unique
constraint makes planning twice harmless). Rows are delivered in batches: a worker claims
a batch with one conditional UPDATE (rows still pending, or whose claim's lease expired;
rows another live worker holds are not taken), builds each digest from the subscriber's
high-water mark to the row's cut-off (rendering each distinct digest once), and sends the
batch over one SMTP connection. Each message is recorded the moment the server accepts
it, with one statement that marks the row sent, moves the subscriber's high-water mark and
remembers the developments it carried (on SQLite, one transaction of three statements).
Meanwhile the next message is already written and sent up to the "." that ends it (handover),
which goes out once the one before is recorded: the server's time and the database's overlap.

Batches keep exactly-once because the claim covers rows, not the batch: a killed worker
leaves behind rows already recorded as sent, one by one, which nobody touches again, and
rows still claimed, whose lease expires and which another worker (resume_digests) claims
and sends. A row's claim is checked again when it is recorded, so a worker whose lease ran
out while another took over records nothing.

The one window this cannot close: the SMTP server accepted the message and the worker
died before recording it. Without an idempotent submission protocol that is unavoidable;
the row is then resent after its lease expires, with the same content and the same
Message-ID (the ledger row's id), so receivers that drop duplicate Message-IDs show it
once. The window is kept to the single statement that follows the server's reply, and
no message of a batch is accepted by the server before the one before it is recorded.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial

from django import db
from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from chronicle import progress
from chronicle.database import prepared_cursor
from chronicle.eventstore import store

from . import emails, handover
from .content import DigestContent, Window, current_digest
from .models import Digest, DigestState, SentDevelopment, Subscriber, SubscriberState

logger = logging.getLogger(__name__)


def period_for(frequency: str, day: date) -> str:
    if frequency == "daily":
        return day.isoformat()
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def schedule_phrase(frequency: str) -> str:
    """When `frequency`'s passes run, for people: "every day at 06:00 UTC"."""
    schedule = settings.DIGEST_SCHEDULE
    if frequency == "daily":
        return f"every day at {schedule.daily_hour:02d}:{schedule.daily_minute:02d} UTC"
    at = f"{schedule.weekly_hour:02d}:{schedule.weekly_minute:02d}"
    return f"every {WEEKDAY_NAMES[schedule.weekday]} at {at} UTC"


# Beat sends a pass at its time; one not started this long after is taken as lost.
MISSED_AFTER = timedelta(minutes=10)


def last_scheduled(frequency: str, now: datetime) -> datetime:
    """When `frequency`'s pass was last due at or before `now` (settings.DIGEST_SCHEDULE, in UTC)."""
    schedule = settings.DIGEST_SCHEDULE
    if frequency == "daily":
        weekday, hour, minute = None, schedule.daily_hour, schedule.daily_minute
    else:
        weekday, hour, minute = schedule.weekday, schedule.weekly_hour, schedule.weekly_minute
    moment = now.astimezone(UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
    if weekday is not None:
        moment -= timedelta(days=(moment.weekday() - weekday) % 7)
    if moment > now:
        moment -= timedelta(days=1 if weekday is None else 7)
    return moment


def missed_passes(now: datetime | None = None) -> list[tuple[str, date]]:
    """The latest scheduled pass of each frequency if it never started, as (frequency, day).

    Beat's message for a pass is lost when the broker is down at that moment; the
    subscribers' high-water marks make the late pass carry everything, once.
    """
    now = now or timezone.now()
    missed = []
    for frequency in ("daily", "weekly"):
        due_at = last_scheduled(frequency, now)
        period = period_for(frequency, due_at.date())
        if (
            now - due_at >= MISSED_AFTER
            and not Digest.objects.filter(frequency=frequency, period=period).exists()
            and Subscriber.objects.filter(frequency=frequency, state=SubscriberState.CONFIRMED).exists()
        ):
            missed.append((frequency, due_at.date()))
    return missed


def plan(frequency: str, day: date | None = None) -> str:
    """Insert the period's ledger rows, cut off at the log's current end; return the period.

    A subscriber whose earlier digest is still unfinished gets no row: that digest is
    resumed, and the next period carries on from its cut-off.
    """
    period = period_for(frequency, day or timezone.now().date())
    cutoff = store.settled_position()
    subscribers = (
        Subscriber.objects.filter(frequency=frequency, state=SubscriberState.CONFIRMED)
        .exclude(digests__state__in=[DigestState.PENDING, DigestState.SENDING])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    last = 0
    while chunk := list(subscribers.filter(pk__gt=last)[:1000]):
        Digest.objects.bulk_create(
            [Digest(subscriber_id=pk, period=period, frequency=frequency, cutoff_position=cutoff) for pk in chunk],
            ignore_conflicts=True,
        )
        last = chunk[-1]
    return period


def due(*, period: str | None = None, batch_size: int | None = None) -> Iterator[list[str]]:
    """Ids of the rows to (re)deliver, in batches: for a period, its unclaimed rows and any
    whose worker's lease expired; without one, every row left behind for longer than a
    lease (a crashed worker, a lost task, a temporary failure waiting to be retried).

    Rows of subscribers with the same scope come together, so that a batch holds few
    distinct digests, each rendered once.
    """
    batch_size = batch_size or settings.DIGEST_BATCH_SIZE
    expired = timezone.now() - timedelta(seconds=settings.DIGEST_LEASE_SECONDS)
    stale = Q(claimed_at__lt=expired) | Q(claimed_at__isnull=True, created_at__lt=expired)
    rows = Digest.objects.filter(state__in=[DigestState.PENDING, DigestState.SENDING])
    if period is not None:
        rows = rows.filter(period=period)
        stale |= Q(state=DigestState.PENDING, claimed_at__isnull=True)
    order = ("subscriber__topics", "subscriber__countries", "subscriber__high_water", "id")
    ids = [str(digest_id) for digest_id in rows.filter(stale).order_by(*order).values_list("id", flat=True)]
    for start in range(0, len(ids), batch_size):
        yield ids[start : start + batch_size]


@dataclass
class Tally(progress.Tally):
    sent: int = 0
    nothing_new: int = 0
    skipped: int = 0
    failed: int = 0
    retry: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        summary = f"{self.sent} sent, {self.nothing_new} with nothing new, {self.skipped} skipped, {self.failed} failed"
        return summary + (f", {len(self.retry)} to retry" if self.retry else "")


class Renderings:
    """What the batches of a pass share: the public revisions up to each cut-off, loaded
    once with each development's part rendered once, and the distinct digests last rendered."""

    def __init__(self) -> None:
        self.windows: dict[int, Window] = {}
        self.mails = emails.DigestMails()

    def window(self, low: int, cutoff: int) -> Window:
        """The revisions in (low, cutoff] or a wider window with the same cut-off: a digest
        picks its own part from its subscriber's mark."""
        window = self.windows.get(cutoff)
        if window is None or window.low > low:
            window = self.windows[cutoff] = Window(min(low, cutoff), cutoff)
        return window


def deliver(digest_ids: list[str], *, connection=None, renderings: Renderings | None = None) -> Tally:
    """Deliver the given ledger rows that are still due; rows another worker holds are left alone.

    The rows are claimed together, each distinct digest among them is rendered once (or
    taken from `renderings`, shared with the pass's other batches), and they go out over
    one SMTP connection, each recorded the moment the server accepts it, while the next
    is on its way (see handover).
    """
    tally = Tally()
    rows = _claim(digest_ids)
    if not rows:
        return tally
    own_connection = connection is None
    connection = connection or get_connection()
    outbox = handover.outbox_for(connection)
    finished: set[uuid.UUID] = set()
    messages = _messages(rows, renderings or Renderings(), finished, tally)
    accepted: tuple[Digest, DigestContent] | None = None
    try:
        upcoming = next(messages, None)
        while upcoming is not None:
            row, content, write = upcoming
            outbox.prepare(write)
            if accepted is not None:
                # The message the server accepted is recorded now, while this one is on its way.
                _finish(*accepted, state=DigestState.SENT)
                tally.sent += 1
                accepted = None
            upcoming = next(messages, None)
            try:
                outbox.hand_over()
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as error:
                _refused(row, error, tally)
            except (smtplib.SMTPException, OSError) as error:
                # The server or the way to it failed for now: the rest of the batch waits too.
                outbox.abort()
                connection.close()
                waiting = [r for r in rows[rows.index(row) :] if r.id not in finished]
                _release(waiting, error)
                tally.retry += [str(r.id) for r in waiting]
                break
            else:
                accepted = (row, content)
        if accepted is not None:
            _finish(*accepted, state=DigestState.SENT)
            tally.sent += 1
    finally:
        outbox.close()
        if own_connection:
            connection.close()
    return tally


def _claim(digest_ids: list[str]) -> list[Digest]:
    """Claim the rows that are pending or whose claim expired, with their subscribers as
    they are now; a row claimed by a live worker is not ours."""
    now = timezone.now()
    expired = now - timedelta(seconds=settings.DIGEST_LEASE_SECONDS)
    claim = uuid.uuid4()
    Digest.objects.filter(id__in=digest_ids).filter(
        Q(state=DigestState.PENDING) | Q(state=DigestState.SENDING, claimed_at__lt=expired)
    ).update(state=DigestState.SENDING, claimed_at=now, claim=claim, attempts=F("attempts") + 1)
    rows = Digest.objects.filter(claim=claim, state=DigestState.SENDING).select_related("subscriber")
    return list(rows.order_by("cutoff_position", "id"))


def _messages(rows: list[Digest], renderings: Renderings, finished: set, tally: Tally) -> Iterator[tuple]:
    """(row, content, a function that writes its message) for each row with a digest to
    send; rows with nothing to send are recorded (and added to `finished`) on the way."""
    windows: dict[int, Window] = {}
    sent_before: dict[int, set] = {}
    for row in rows:
        window = windows.get(row.cutoff_position)
        if window is None:
            low = min(r.subscriber.high_water for r in rows if r.cutoff_position == row.cutoff_position)
            window = windows[row.cutoff_position] = renderings.window(low, row.cutoff_position)
            sent_before.update(window.sent_before(r.subscriber_id for r in rows))
        subscriber = row.subscriber
        if subscriber.state != SubscriberState.CONFIRMED:
            _finish(row, state=DigestState.SKIPPED)
            tally.skipped += 1
            finished.add(row.id)
            continue
        content = window.digest_for(subscriber, sent_before.get(row.subscriber_id, set()))
        if content.is_empty:
            _finish(row, content, state=DigestState.NOTHING_NEW)
            tally.nothing_new += 1
            finished.add(row.id)
            continue
        yield row, content, partial(renderings.mails.message, subscriber, content, message_id(row))


def _refused(row: Digest, error: smtplib.SMTPException, tally: Tally) -> None:
    if _is_permanent(error):
        _record_permanent_failure(row, error)
        tally.failed += 1
    else:
        _release([row], error)
        tally.retry.append(str(row.id))


def message_id(row: Digest) -> str:
    return f"<digest.{row.id}@{emails.site_domain()}>"


def _mine(row: Digest):
    """The row, as long as this worker's claim on it stands."""
    return Digest.objects.filter(id=row.id, state=DigestState.SENDING, claim=row.claim)


def _finish(row: Digest, content: DigestContent | None = None, *, state: str) -> None:
    """Record the row's outcome, and with the digest's content the subscriber's new mark and
    the developments they were sent, all at once; nothing if another worker took the row over."""
    fields = {"state": state, "finished_at": timezone.now(), "last_error": ""}
    if content is None:
        recorded = _mine(row).update(**fields)
    else:
        fields.update(
            from_position=content.from_position,
            content_hash=content.content_hash,
            new_count=len(content.new),
            change_count=len(content.changes),
        )
        record = _record_in_one_statement if db.connection.vendor == "postgresql" else _record_in_one_transaction
        recorded = record(row, fields, [item.development_id for item in content.new])
    if not recorded:
        logger.warning("Digest %s was reclaimed by another worker before it was recorded as %s.", row.id, state)


def _record_in_one_transaction(row: Digest, fields: dict, development_ids: list[uuid.UUID]) -> int:
    with transaction.atomic():
        if not _mine(row).update(**fields):
            return 0
        subscriber = Subscriber.objects.filter(pk=row.subscriber_id)
        if fields["state"] == DigestState.SENT:
            subscriber.update(
                high_water=Greatest(F("high_water"), row.cutoff_position),
                last_digest_at=fields["finished_at"],
                permanent_failures=0,
            )
        else:
            subscriber.update(high_water=Greatest(F("high_water"), row.cutoff_position))
        SentDevelopment.objects.bulk_create(
            [SentDevelopment(subscriber_id=row.subscriber_id, development_id=pk) for pk in development_ids],
            ignore_conflicts=True,
        )
        return 1


def _record_in_one_statement(row: Digest, fields: dict, development_ids: list[uuid.UUID]) -> int:
    """_record_in_one_transaction as one PostgreSQL statement: one round trip, one commit."""
    tables = {"digest": Digest, "subscriber": Subscriber, "sent": SentDevelopment}
    statement = RECORD_STATEMENT.format(**{name: model._meta.db_table for name, model in tables.items()})
    params = {
        **fields,
        "id": row.id,
        "claim": row.claim,
        "sending": DigestState.SENDING,
        "sent": fields["state"] == DigestState.SENT,
        # The array's text, as psycopg would write it element by element, in one go.
        "development_ids": "{" + ",".join(map(str, development_ids)) + "}",
    }
    with prepared_cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()[0]


RECORD_STATEMENT = """
WITH finished AS (
    UPDATE {digest} SET state = %(state)s, finished_at = %(finished_at)s, last_error = %(last_error)s,
        from_position = %(from_position)s, content_hash = %(content_hash)s,
        new_count = %(new_count)s, change_count = %(change_count)s
    WHERE id = %(id)s AND state = %(sending)s AND claim = %(claim)s
    RETURNING subscriber_id, cutoff_position
), marked AS (
    UPDATE {subscriber} AS subscriber
    SET high_water = GREATEST(subscriber.high_water, finished.cutoff_position),
        last_digest_at = CASE WHEN %(sent)s THEN %(finished_at)s ELSE subscriber.last_digest_at END,
        permanent_failures = CASE WHEN %(sent)s THEN 0 ELSE subscriber.permanent_failures END
    FROM finished WHERE subscriber.id = finished.subscriber_id
), remembered AS (
    INSERT INTO {sent} (subscriber_id, development_id)
    SELECT finished.subscriber_id, unnest(%(development_ids)s::uuid[]) FROM finished
    ON CONFLICT DO NOTHING
)
SELECT count(*) FROM finished
"""


def _is_permanent(error: smtplib.SMTPException) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in error.recipients.values())
    return 500 <= getattr(error, "smtp_code", 0) < 600


def _release(rows: list[Digest], error: Exception) -> None:
    Digest.objects.filter(id__in=[row.id for row in rows], state=DigestState.SENDING, claim=rows[0].claim).update(
        state=DigestState.PENDING, last_error=f"Temporary failure: {error}"[:2000]
    )


def _record_permanent_failure(row: Digest, error: Exception) -> None:
    """The server refused this address for good. Its mark stays put, so nothing is lost if
    it recovers; after a few refusals in a row the address is disabled."""
    with transaction.atomic():
        _mine(row).update(state=DigestState.FAILED, finished_at=timezone.now(), last_error=str(error)[:2000])
        Subscriber.objects.filter(pk=row.subscriber_id).update(permanent_failures=F("permanent_failures") + 1)
        Subscriber.objects.filter(
            pk=row.subscriber_id,
            state=SubscriberState.CONFIRMED,
            permanent_failures__gte=settings.DIGEST_MAX_PERMANENT_FAILURES,
        ).update(state=SubscriberState.DISABLED)


def run_pass(frequency: str, day: date | None = None, *, on_progress: Callable[[int, int], None] | None = None):
    """Plan the period and deliver every due row in this process; return (period, tally).

    `on_progress(done, total)` is called after each batch.
    """
    period = plan(frequency, day)
    total = Digest.objects.filter(period=period, state__in=[DigestState.PENDING, DigestState.SENDING]).count()
    tally = Tally()
    connection = get_connection()
    renderings = Renderings()
    try:
        for batch in due(period=period):
            tally.add(deliver(batch, connection=connection, renderings=renderings))
            if on_progress:
                on_progress(len(batch), total)
    finally:
        connection.close()
    return period, tally


def send_preview(subscriber: Subscriber, to: str) -> DigestContent:
    """Send `to` the digest `subscriber` would get now; the ledger and the mark stay as they are."""
    content = current_digest(subscriber, store.last_position())
    if not content.is_empty:
        emails.digest(subscriber, content, to=to).send()
    return content
