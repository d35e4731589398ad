"""Append to and read from the event log.

Appends are serialised with a transaction-level advisory lock on PostgreSQL (SQLite
serialises writers itself). A writer takes positions only while it holds the lock and
keeps it until it commits, so a reader of `position > cursor` can never see a position
become visible after a higher one: the log has no holes behind a reader (the invariant
"a consumer of `position > cursor` never skips an event"). The lock is taken at the last
moment, so only the insert and the commit are serialised.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from chronicle.domain.errors import VersionConflict
from chronicle.domain.upcasting import SCHEMA_VERSION, upcast

from . import tasks
from .models import Event

# Arbitrary constant naming "the event log" among advisory locks ("CHRN").
APPEND_LOCK_KEY = 0x4348524E


@dataclass(frozen=True)
class NewEvent:
    type: str
    data: dict[str, Any]
    schema_version: int = SCHEMA_VERSION
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class RecordedEvent:
    """An event as the current code reads it: its data upcast to the current schema version
    (the row in the log keeps the shape it was written in)."""

    position: int
    event_id: uuid.UUID
    stream_id: uuid.UUID
    version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime

    @classmethod
    def from_row(cls, row: Event) -> RecordedEvent:
        return cls.from_stored(
            row.position,
            row.event_id,
            row.stream_id,
            row.version,
            row.type,
            row.schema_version,
            row.data,
            row.metadata,
            row.recorded_at,
        )

    @classmethod
    def from_stored(
        cls,
        position: int,
        event_id: uuid.UUID,
        stream_id: uuid.UUID,
        version: int,
        type: str,
        schema_version: int,
        data: dict[str, Any],
        metadata: dict[str, Any],
        recorded_at: datetime,
    ) -> RecordedEvent:
        return cls(
            position=position,
            event_id=event_id,
            stream_id=stream_id,
            version=version,
            type=type,
            schema_version=SCHEMA_VERSION,
            data=upcast(type, schema_version, data),
            metadata=metadata,
            recorded_at=recorded_at,
        )


def append(
    stream_id: uuid.UUID,
    expected_version: int,
    events: Sequence[NewEvent],
    metadata: dict[str, Any],
) -> list[RecordedEvent]:
    """Append `events` after version `expected_version` of the stream, or raise VersionConflict.

    Runs in the caller's transaction (or its own), so the caller's read-model updates
    commit or roll back with the events. The unique (stream, version) constraint detects a
    stale expected version; the caller compares with what it loaded first, which gives
    the friendlier message in the common case.
    """
    if not events:
        return []
    rows = [
        Event(
            event_id=event.event_id,
            stream_id=stream_id,
            version=expected_version + offset,
            type=event.type,
            schema_version=event.schema_version,
            data=event.data,
            metadata=metadata,
        )
        for offset, event in enumerate(events, start=1)
    ]
    # No savepoint: a conflict aborts the caller's whole transaction, which is what we want.
    with transaction.atomic(savepoint=False):
        _lock_log()
        recorded_at = timezone.now()  # under the lock, so record time follows position
        for row in rows:
            row.recorded_at = recorded_at
        try:
            Event.objects.bulk_create(rows)
        except IntegrityError as error:
            # Version expected_version + 1 exists: someone appended since the caller read the stream.
            raise VersionConflict(
                f"This development changed while you were working on it (you had version {expected_version}).",
                expected=expected_version,
                actual=None,
            ) from error
    # Sealing follows the log after commit; the append never waits for it.
    transaction.on_commit(tasks.request_sealing)
    return [RecordedEvent.from_row(row) for row in rows]


def _lock_log() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [APPEND_LOCK_KEY])


def read_stream(stream_id: uuid.UUID, *, recorded_until: datetime | None = None) -> list[RecordedEvent]:
    """The stream's events in version order; with `recorded_until`, only those recorded by then."""
    rows = Event.objects.filter(stream_id=stream_id)
    if recorded_until is not None:
        rows = rows.filter(recorded_at__lte=recorded_until)
    return [RecordedEvent.from_row(row) for row in rows.order_by("version")]


def read_after(position: int, *, limit: int = 1000, types: Iterable[str] | None = None) -> list[RecordedEvent]:
    """Up to `limit` events with a position above `position`, in position order. Never skips."""
    rows = Event.objects.filter(position__gt=position)
    if types is not None:
        rows = rows.filter(type__in=list(types))
    return [RecordedEvent.from_row(row) for row in rows.order_by("position")[:limit]]


def last_position() -> int:
    return Event.objects.order_by("-position").values_list("position", flat=True).first() or 0


_COLUMNS = ("position", "event_id", "stream_id", "version", "type", "schema_version", "data", "metadata", "recorded_at")


def iter_streams(*, up_to_position: int, chunk_size: int = 5000) -> Iterator[list[RecordedEvent]]:
    """Each stream's events (in version order), one stream at a time, streamed from the
    database with a server-side cursor, so memory does not grow with the log."""
    rows = (
        Event.objects.filter(position__lte=up_to_position)
        .order_by("stream_id", "version")
        .values_list(*_COLUMNS)
        .iterator(chunk_size=chunk_size)
    )
    stream: list[RecordedEvent] = []
    for row in rows:
        event = RecordedEvent.from_stored(*row)
        if stream and event.stream_id != stream[0].stream_id:
            yield stream
            stream = []
        stream.append(event)
    if stream:
        yield stream
