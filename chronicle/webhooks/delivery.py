"""Deliver public events to webhook endpoints (Standard Webhooks), at least once, in order.

Once a public event commits, `tasks.queue_deliveries` queues one delivery pass if an endpoint
is active (read in the event's own transaction); a burst of publications coalesces into one.
A pass (`deliver_due`, the body of the Celery task and of `manage.py deliver_webhooks`) finds
the endpoints with events to deliver and serves each in its own thread: it claims the
endpoint with a conditional UPDATE, sends the events after the endpoint's cursor one by one
in position order, and moves the cursor after each success, so a worker killed mid-batch
leaves the event it was sending to be sent again, with the same `webhook-id`, once the
claim's lease runs out.

A network error, a timeout, a 5xx or a 429 is retried with exponential backoff; the
endpoint waits meanwhile (order matters more than speed). Any other answer outside 2xx is
recorded and not retried. An endpoint failing for WEBHOOKS_DISABLE_AFTER_SECONDS is
disabled and its owner told by email. Publishing only queues the pass, so a slow or dead
endpoint delays nothing but itself: each attempt has a time limit, endpoints are served
in parallel, and the pass runs on its own Celery queue if WEBHOOKS_QUEUE says so.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from chronicle import progress, published
from chronicle.developments.models import PublicRevision
from chronicle.digests.emails import message
from chronicle.eventstore import store
from chronicle.eventstore.models import Event

from . import signing, targets
from .models import Delivery, Dispatch, Endpoint, Outcome, Status

logger = logging.getLogger(__name__)

PASS = "deliveries"  # noqa: S105 (the name of the Dispatch row)
BATCH = 200
USER_AGENT = "Chronicle-Webhooks/1.0 (+https://www.standardwebhooks.com/)"


@dataclass
class Tally(progress.Tally):
    endpoints: int = 0
    delivered: int = 0
    failed: int = 0
    refused: int = 0

    def __str__(self) -> str:
        return (
            f"{self.delivered} delivered, {self.failed} failed (to be retried), {self.refused} refused, "
            f"to {self.endpoints} endpoints"
        )


@dataclass(frozen=True)
class PendingEvent:
    position: int
    event_id: uuid.UUID
    type: str
    development_id: uuid.UUID
    slug: str
    kind: str
    note: str
    recorded_at: datetime
    countries: frozenset[str]
    topics: frozenset[str]

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.event_id.hex}"


# -- queueing ----------------------------------------------------------------------------


# -- a pass ------------------------------------------------------------------------------


def deliver_due(on_progress=None) -> Tally:
    """Deliver what is due to every endpoint, endpoints in parallel; return the tally."""
    # Take the flag down before looking: an event committed from now on queues another pass.
    Dispatch.objects.filter(name=PASS).update(queued=False)
    due = list(_due(Endpoint.objects.all(), timezone.now()).values_list("id", flat=True))
    tally = Tally()
    if settings.WEBHOOKS_CONCURRENCY == 1:
        results = map(deliver_to, due)
    else:
        pool = ThreadPoolExecutor(max_workers=settings.WEBHOOKS_CONCURRENCY, thread_name_prefix="webhooks")
        results = pool.map(_deliver_in_thread, due)
    for result in results:
        tally.add(result)
        if on_progress:
            on_progress(1)
    if settings.WEBHOOKS_CONCURRENCY != 1:
        pool.shutdown()
    return tally


def _deliver_in_thread(endpoint_id: uuid.UUID) -> Tally:
    try:
        return deliver_to(endpoint_id)
    finally:
        connection.close()  # each thread has its own connection


def _due(endpoints, now: datetime):
    return endpoints.filter(
        Q(status=Status.ACTIVE),
        Q(position__lt=published.latest_position()),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
    )


def deliver_to(endpoint_id: uuid.UUID) -> Tally:
    """Deliver the endpoint's due events, if no one else is; return what happened."""
    tally = Tally(endpoints=1)
    deadline = time.monotonic() + settings.WEBHOOKS_PASS_SECONDS
    # After letting go, look again: an event that committed while we held the claim found
    # the endpoint busy and left it to us.
    while time.monotonic() < deadline and (token := _claim(endpoint_id)) is not None:
        try:
            _deliver_claimed(endpoint_id, token, tally, deadline)
        finally:
            Endpoint.objects.filter(pk=endpoint_id, claim=token).update(claim=None, claimed_until=None)
    return tally


def _claim(endpoint_id: uuid.UUID) -> uuid.UUID | None:
    now = timezone.now()
    token = uuid.uuid4()
    won = _due(Endpoint.objects.filter(pk=endpoint_id), now).update(
        claim=token, claimed_until=now + timedelta(seconds=settings.WEBHOOKS_LEASE_SECONDS)
    )
    return token if won else None


def _deliver_claimed(endpoint_id: uuid.UUID, token: uuid.UUID, tally: Tally, deadline: float) -> None:
    endpoint = Endpoint.objects.get(pk=endpoint_id)
    while time.monotonic() < deadline:
        events = pending_events(endpoint.position)
        if not events:
            return
        for event in events:
            if time.monotonic() >= deadline:
                return
            if matches(endpoint, event):
                delivery = attempt(endpoint, event)
                if delivery.outcome == Outcome.FAILED:
                    tally.failed += 1
                    _back_off(endpoint, token, delivery)
                    return
                if delivery.outcome == Outcome.DELIVERED:
                    tally.delivered += 1
                else:
                    tally.refused += 1
            if not _advance(endpoint, token, event.position):
                return  # the claim was lost (lease ran out) or the owner replayed meanwhile


def pending_events(after: int, limit: int = BATCH) -> list[PendingEvent]:
    """The public events after `after`, in position order."""
    events = Event.objects.filter(position=OuterRef("position"))
    rows = (
        PublicRevision.objects.filter(position__gt=after, position__lte=store.visible_position())
        .annotate(event_id=Subquery(events.values("event_id")[:1]), type=Subquery(events.values("type")[:1]))
        .order_by("position")
        .values_list(
            "position", "event_id", "type", "development_id", "development__slug", "kind", "note", "recorded_at",
            "content__countries", "content__topics",
        )[:limit]
    )  # fmt: skip
    return [PendingEvent(*row[:8], countries=frozenset(row[8] or ()), topics=frozenset(row[9] or ())) for row in rows]


def matches(endpoint: Endpoint, event: PendingEvent) -> bool:
    return (not endpoint.countries or bool(event.countries & set(endpoint.countries))) and (
        not endpoint.topics or bool(event.topics & set(endpoint.topics))
    )


def payload(event: PendingEvent) -> dict:
    """A thin notification: what happened and where to read it."""
    api = published.api_development_url(event.development_id)
    return {
        "type": event.type,
        "timestamp": _time(event.recorded_at),
        "data": {
            "position": event.position,
            "event_id": str(event.event_id),
            "development_id": str(event.development_id),
            "slug": event.slug,
            "kind": event.kind,
            "note": event.note,
            "links": {
                "development": api,
                "history": f"{api}history/",
                "page": published.development_url(event.slug),
                "events": f"{settings.SITE_URL}/api/v1/events/?after={event.position - 1}",
            },
        },
    }


def attempt(endpoint: Endpoint, event: PendingEvent) -> Delivery:
    """POST the event to the endpoint once; record and return the attempt."""
    body = json.dumps(payload(event), separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": event.webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.signature(endpoint.secret, event.webhook_id, timestamp, body),
    }
    started = time.monotonic()
    status_code, error = None, ""
    try:
        targets.check(endpoint.url)
        request = urllib.request.Request(endpoint.url, data=body, headers=headers, method="POST")  # noqa: S310
        with _OPENER.open(request, timeout=settings.WEBHOOKS_TIMEOUT_SECONDS) as response:
            status_code = response.status
            response.read(1024)
    except urllib.error.HTTPError as answer:
        status_code = answer.code
        error = _excerpt(answer)
    except targets.UnsafeTarget as unsafe:
        error = str(unsafe)
    except (OSError, ValueError) as failure:  # refused, reset, timed out, unresolvable, bad answer
        error = f"{type(failure).__name__}: {failure}"
    if status_code is not None and 200 <= status_code < 300:
        outcome = Outcome.DELIVERED
    elif status_code is None or status_code == 429 or status_code >= 500:
        outcome = Outcome.FAILED
    else:
        outcome = Outcome.REFUSED
    return Delivery.objects.create(
        endpoint=endpoint,
        position=event.position,
        webhook_id=event.webhook_id,
        event_type=event.type,
        attempt=endpoint.attempts + 1,
        attempted_at=timezone.now(),
        outcome=outcome,
        status_code=status_code,
        error=error[:2000],
        duration_ms=int((time.monotonic() - started) * 1000),
    )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not an instruction: following it could lead anywhere."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _excerpt(answer: urllib.error.HTTPError) -> str:
    try:
        text = answer.read(300).decode("utf-8", "replace")
    except OSError:
        text = ""
    return f"HTTP {answer.code}: {text}".strip()


def _advance(endpoint: Endpoint, token: uuid.UUID, position: int) -> bool:
    """Move the cursor past `position` and renew the lease, if the claim and cursor are still ours."""
    now = timezone.now()
    moved = Endpoint.objects.filter(pk=endpoint.pk, claim=token, position=endpoint.position).update(
        position=position,
        attempts=0,
        next_attempt_at=None,
        failing_since=None,
        claimed_until=now + timedelta(seconds=settings.WEBHOOKS_LEASE_SECONDS),
    )
    if moved:
        endpoint.position, endpoint.attempts, endpoint.failing_since = position, 0, None
    return bool(moved)


def backoff_seconds(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failure in a row: doubling, up to a cap."""
    return min(settings.WEBHOOKS_RETRY_MAX_SECONDS, settings.WEBHOOKS_RETRY_BASE_SECONDS * 2 ** (attempts - 1))


def _back_off(endpoint: Endpoint, token: uuid.UUID, delivery: Delivery) -> None:
    now = delivery.attempted_at
    attempts = endpoint.attempts + 1
    failing_since = endpoint.failing_since or now
    mine = Endpoint.objects.filter(pk=endpoint.pk, claim=token, position=endpoint.position)
    if now - failing_since >= timedelta(seconds=settings.WEBHOOKS_DISABLE_AFTER_SECONDS):
        reason = (
            f"Disabled on {now:%Y-%m-%d %H:%M} UTC: every attempt since {failing_since:%Y-%m-%d %H:%M} UTC failed; "
            f"the last: {delivery.error or f'HTTP {delivery.status_code}'}"
        )
        if mine.update(status=Status.DISABLED, disabled_reason=reason, attempts=attempts, next_attempt_at=None):
            endpoint.refresh_from_db()
            _tell_owner(endpoint)
        return
    mine.update(
        attempts=attempts,
        failing_since=failing_since,
        next_attempt_at=now + timedelta(seconds=backoff_seconds(attempts)),
    )


def _tell_owner(endpoint: Endpoint) -> None:
    owner = endpoint.owner
    if owner is None or not owner.email:
        logger.warning("Webhook endpoint %s was disabled; it has no owner to tell", endpoint.pk)
        return
    try:
        message("webhook-disabled", owner.email, {"endpoint": endpoint, "owner": owner}).send()
    except Exception:
        logger.exception("Could not tell %s that webhook endpoint %s was disabled", owner.email, endpoint.pk)


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
