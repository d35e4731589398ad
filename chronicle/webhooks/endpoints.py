"""What owners and operators do with endpoints: register, pause and resume, replay, delete.

The API, `manage.py add_webhook` and the admin call these; none changes an endpoint itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from chronicle import published
from chronicle.domain.content import is_country
from chronicle.domain.vocabulary import TOPICS

from . import signing, targets, tasks
from .models import Endpoint, Status


class InvalidEndpoint(ValueError):
    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{name}: {' '.join(problems)}" for name, problems in fields.items()))
        self.fields = fields


def register(
    url: str,
    *,
    owner=None,
    secret: str | None = None,
    countries: Iterable[str] = (),
    topics: Iterable[str] = (),
    description: str = "",
) -> tuple[Endpoint, str]:
    """Create an endpoint that receives public events from now on; return it and its secret.

    Without `secret`, a new one is made. Raise InvalidEndpoint naming each bad field.
    """
    problems: dict[str, list[str]] = {}
    try:
        targets.check(url)
    except targets.UnsafeTarget as unsafe:
        problems["url"] = [str(unsafe)]
    countries = sorted({code.upper() for code in countries})
    if bad := [code for code in countries if not is_country(code)]:
        problems["countries"] = [f"Not ISO 3166-1 alpha-2 country codes: {', '.join(bad)}."]
    topics = sorted(set(topics))
    if bad := [slug for slug in topics if slug not in TOPICS]:
        problems["topics"] = [f"Not topic slugs: {', '.join(bad)} (see /api/v1/topics/)."]
    if secret is None:
        secret = signing.new_secret()
    else:
        try:
            signing.key(secret)
        except signing.BadSecret as bad_secret:
            problems["secret"] = [str(bad_secret)]
    if problems:
        raise InvalidEndpoint(problems)
    endpoint = Endpoint.objects.create(
        url=url,
        owner=owner,
        secret=secret,
        countries=countries,
        topics=topics,
        description=description,
        position=published.latest_position(),
    )
    return endpoint, secret


def set_paused(endpoint: Endpoint, paused: bool) -> Endpoint:
    """Pause an endpoint, or resume it (a disabled one too: its failures are forgotten).

    A paused endpoint keeps its place: on resuming it gets what was published meanwhile.
    """
    if paused:
        Endpoint.objects.filter(pk=endpoint.pk).exclude(status=Status.DISABLED).update(status=Status.PAUSED)
    else:
        Endpoint.objects.filter(pk=endpoint.pk).update(
            status=Status.ACTIVE, disabled_reason="", attempts=0, next_attempt_at=None, failing_since=None
        )
        tasks.queue_endpoint(endpoint.pk)
    endpoint.refresh_from_db()
    return endpoint


def replay(endpoint: Endpoint, after: int) -> Endpoint:
    """Deliver again every public event after position `after` (from 0: all of them)."""
    if after < 0:
        raise InvalidEndpoint({"after": ["A position is 0 or more."]})
    Endpoint.objects.filter(pk=endpoint.pk).update(position=after, attempts=0, next_attempt_at=None, failing_since=None)
    tasks.queue_endpoint(endpoint.pk)
    endpoint.refresh_from_db()
    return endpoint


def delete(endpoint: Endpoint) -> None:
    endpoint.delete()
