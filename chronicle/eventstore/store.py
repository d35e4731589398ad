"""Append to and read from the event log.

Writers append concurrently and commit together; readers of `position > cursor` still never
see a position become visible after a higher one was read: the log has no holes behind a reader.

On PostgreSQL each event records the id of the transaction that wrote it
(`transaction_id`). An append takes its positions inside a short critical section (a
session advisory lock held for the INSERT only, not until commit), and a transaction that
has not written before gets its id there too, so ids grow with positions. A reader then
sees only events of transactions older than the oldest one of this database still in
flight (`visibility.py`): when it sees position P, every writer that took a lower position has
finished. A transaction that had already written before its append has an older id; such
an append waits, under an exclusive `IN_FLIGHT` lock, until the appends in flight commit,
and holds later ones off until it commits itself.

The cost: an event becomes visible to position readers once every transaction older than
its own has finished, including long ones unrelated to the log. `settled_position` waits
for that. Readers always see their own transaction's events. SQLite has one writer at a
time, so its log has no holes to begin with.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import orjson
import psycopg
from django.db import IntegrityError, connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from psycopg.types.datetime import TimestamptzLoader

from chronicle.database import prepared_cursor
from chronicle.domain.errors import VersionConflict
from chronicle.domain.upcasting import SCHEMA_VERSION, upcast
from chronicle.libpq import Statement

from .models import Event
from .visibility import VISIBLE, visible

# Arbitrary constants naming advisory locks ("CHRN", "CHRI"): positions are taken under
# APPEND_LOCK; IN_FLIGHT is held shared by every append until its commit.
APPEND_LOCK_KEY = 0x4348524E
IN_FLIGHT_LOCK_KEY = 0x43485249
STREAM_VERSION_CONSTRAINT = "event_stream_version_unique"


@dataclass(frozen=True)
class NewEvent:
    type: str
    data: dict[str, Any]
    schema_version: int = SCHEMA_VERSION
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class StreamAppend:
    """New events for one stream, after version `expected_version`."""

    stream_id: uuid.UUID
    expected_version: int
    events: Sequence[NewEvent]
    metadata: dict[str, Any]


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
    return append_streams([StreamAppend(stream_id, expected_version, events, metadata)])


def append_streams(appends: Sequence[StreamAppend]) -> list[RecordedEvent]:
    """Append to many streams in one statement (an import's batch); all or none."""
    appends = [item for item in appends if item.events]
    if not appends:
        return []
    with transaction.atomic(savepoint=False):
        recorded = _append_postgresql(appends) if connection.vendor == "postgresql" else _append_orm(appends)
    return recorded


def _conflict(item: StreamAppend) -> VersionConflict:
    # Version expected_version + 1 exists: someone appended since the caller read the stream.
    return VersionConflict(
        f"This development changed while you were working on it (you had version {item.expected_version}).",
        expected=item.expected_version,
        actual=None,
    )


def _append_orm(appends: Sequence[StreamAppend]) -> list[RecordedEvent]:
    fields = ("event_id", "stream_id", "version", "type", "schema_version", "data", "metadata", "recorded_at")
    rows = [
        Event(**{name: getattr(event, name) for name in fields}) for event in _recorded(appends, {}, timezone.now())
    ]
    try:
        Event.objects.bulk_create(rows)
    except IntegrityError as error:
        raise _conflict(appends[0]) from error
    return [RecordedEvent.from_row(row) for row in rows]


# Entering the critical section: a shared IN_FLIGHT lock for a transaction without an id
# yet, an exclusive one otherwise (see above); then the append lock.
_TAKE_LOCKS = f"""
    SELECT CASE WHEN pg_current_xact_id_if_assigned() IS NULL
                THEN pg_advisory_xact_lock_shared({IN_FLIGHT_LOCK_KEY})
                ELSE pg_advisory_xact_lock({IN_FLIGHT_LOCK_KEY}) END,
           pg_advisory_lock({APPEND_LOCK_KEY})
"""

# The append, kept in the database (migration 0005) so that it is one prepared call: take the
# locks, insert (which gives a new transaction its id, inside the critical section), release
# the append lock once every row is in, whatever happens. An event whose (stream, version) is
# taken is skipped by the INSERT, so that the lock is released first; the function then fails
# with the unique violation the constraint would have raised, naming the stale stream. It fails
# the same way when a stream is behind the version the append expected (a caller that knew a
# later state than the log has, e.g. after a restore), so no stream gets a hole.
APPEND_FUNCTION = f"""
CREATE OR REPLACE FUNCTION eventstore_append(
    recorded_at timestamptz, events jsonb, OUT positions bigint[], OUT event_ids uuid[]
) LANGUAGE plpgsql AS $$
DECLARE
    stale uuid;
BEGIN
    PERFORM FROM ({_TAKE_LOCKS}) AS locked;
    BEGIN
        WITH inserted AS (
            INSERT INTO eventstore_event
                (event_id, stream_id, version, type, schema_version, data, metadata, recorded_at)
            SELECT e.event_id, e.stream_id, e.version, e.type, e.schema_version, e.data, e.metadata,
                   eventstore_append.recorded_at
            FROM ROWS FROM (jsonb_to_recordset(events) AS (
                event_id uuid, stream_id uuid, version int, type text, schema_version int, data jsonb,
                metadata jsonb
            )) WITH ORDINALITY AS e(event_id, stream_id, version, type, schema_version, data, metadata, n)
            ORDER BY e.n
            ON CONFLICT ON CONSTRAINT {STREAM_VERSION_CONSTRAINT} DO NOTHING
            RETURNING eventstore_event.position, eventstore_event.event_id
        )
        SELECT array_agg(i.position), array_agg(i.event_id) INTO positions, event_ids FROM inserted AS i;
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        PERFORM pg_advisory_unlock({APPEND_LOCK_KEY});
        RAISE;
    END;
    PERFORM pg_advisory_unlock({APPEND_LOCK_KEY});
    IF coalesce(cardinality(event_ids), 0) < jsonb_array_length(events) THEN
        SELECT e.stream_id INTO stale
        FROM jsonb_to_recordset(events) AS e(event_id uuid, stream_id uuid)
        WHERE e.event_id <> ALL(coalesce(event_ids, '{{}}')) LIMIT 1;
        RAISE unique_violation USING CONSTRAINT = '{STREAM_VERSION_CONSTRAINT}',
            MESSAGE = 'an event of this version is already in the stream', DETAIL = stale;
    END IF;
    -- A stream's versions have no holes: the version before each new event's is in the stream.
    SELECT e.stream_id INTO stale
    FROM jsonb_to_recordset(events) AS e(stream_id uuid, version int)
    WHERE e.version > 1 AND NOT EXISTS (
        SELECT FROM eventstore_event AS x WHERE x.stream_id = e.stream_id AND x.version = e.version - 1
    )
    LIMIT 1;
    IF stale IS NOT NULL THEN
        RAISE unique_violation USING CONSTRAINT = '{STREAM_VERSION_CONSTRAINT}',
            MESSAGE = 'the stream is not at the version this append expected', DETAIL = stale;
    END IF;
END $$
"""  # noqa: S608 (constants only)
DROP_APPEND_FUNCTION = "DROP FUNCTION IF EXISTS eventstore_append(timestamptz, jsonb)"
_APPEND = "SELECT positions, event_ids FROM eventstore_append(%s, %s::jsonb)"


def _append_postgresql(appends: Sequence[StreamAppend]) -> list[RecordedEvent]:
    # Writers are not serialised, so record times of different streams may cross positions by
    # a moment; within a stream they follow versions (a command holds its development).
    recorded_at = timezone.now()
    try:
        with prepared_cursor() as cursor:
            cursor.execute(_APPEND, [recorded_at, _rows_document(appends)])
            positions, event_ids = cursor.fetchone()
    except IntegrityError as error:
        if not is_stale_append(error):
            raise
        stale = uuid.UUID(error.__cause__.diag.message_detail)
        raise _conflict(next(item for item in appends if item.stream_id == stale)) from error
    except BaseException:
        # The function releases the append lock whatever fails in it; a connection lost or
        # interrupted midway is closed all the same, so no other writer waits on it.
        connection.close()
        raise
    return _recorded(appends, dict(zip(event_ids, positions, strict=True)), recorded_at)


def _rows_document(appends: Sequence[StreamAppend]) -> str:
    # The rows travel as one JSON document: cheaper to build than an array per column.
    return orjson.dumps(
        [
            {
                "event_id": event.event_id,
                "stream_id": item.stream_id,
                "version": item.expected_version + offset,
                "type": event.type,
                "schema_version": event.schema_version,
                "data": event.data,
                "metadata": item.metadata,
            }
            for item in appends
            for offset, event in enumerate(item.events, start=1)
        ]
    ).decode()


def _recorded(
    appends: Sequence[StreamAppend], position_of: dict, recorded_at: datetime, *, pending: bool = False
) -> list[RecordedEvent]:
    return [
        RecordedEvent(
            position=-(item.expected_version + offset) if pending else position_of.get(event.event_id, 0),
            event_id=event.event_id,
            stream_id=item.stream_id,
            version=item.expected_version + offset,
            type=event.type,
            schema_version=event.schema_version,
            data=event.data,
            metadata=item.metadata,
            recorded_at=recorded_at,
        )
        for item in appends
        for offset, event in enumerate(item.events, start=1)
    ]


@dataclass(frozen=True)
class PendingAppend:
    """An append to be sent in a command's transaction (`libpq.commit_together`), whose
    answer comes with the commit. A stale expected version fails the transaction there with
    the error that `is_stale_append` recognises; the append takes its positions as
    `append_streams` does."""

    appends: Sequence[StreamAppend]
    recorded_at: datetime = field(default_factory=timezone.now)

    @property
    def statement(self) -> Statement:
        return Statement(_APPEND, [self.recorded_at.isoformat(), _rows_document(self.appends)])

    @cached_property
    def events(self) -> list[RecordedEvent]:
        """The events as they will be recorded, except for their positions, not known yet:
        each holds its pending position, minus its version, which a read-model statement
        later in the same transaction turns into the real one with `resolve_position`."""
        return _recorded(self.appends, {}, self.recorded_at, pending=True)

    def recorded(self, rows: list[tuple]) -> list[RecordedEvent]:
        """The events with their positions, from the statement's answer."""
        ((positions, event_ids),) = rows
        return _recorded(self.appends, dict(zip(event_ids, positions, strict=True)), self.recorded_at)


def resolve_position(position: str, stream_id: str) -> str:
    """SQL for a read-model column that holds a position, from SQL for its value and for the
    development's stream id: a pending position (see `PendingAppend`) becomes the position the
    append gave that version of the stream; a real one stays as it is."""
    return (
        f"CASE WHEN {position} < 0 THEN (SELECT e.position FROM eventstore_event AS e"  # noqa: S608 (SQL from the caller's constants)
        f" WHERE e.stream_id = {stream_id} AND e.version = -{position}) ELSE {position} END"
    )


def is_stale_append(error: BaseException) -> bool:
    """Whether a failed transaction failed because an append's expected version was stale."""
    cause = error if isinstance(error, psycopg.Error) else error.__cause__
    return isinstance(cause, psycopg.errors.UniqueViolation) and cause.diag.constraint_name == STREAM_VERSION_CONSTRAINT


# For a large batch: take the locks and as many positions as there are events; the rows
# follow by COPY, and the append lock is released once they are in.
_RESERVE = f"""
WITH locked AS MATERIALIZED ({_TAKE_LOCKS})
SELECT nextval(pg_get_serial_sequence('eventstore_event', 'position'))
FROM locked, generate_series(1, %s)
"""  # noqa: S608 (constants only)
_COPY = (
    "COPY eventstore_event (position, event_id, stream_id, version, type, schema_version, data, metadata, recorded_at)"
    " FROM STDIN"
)


def append_copied(appends: Sequence[StreamAppend]) -> list[RecordedEvent]:
    """`append_streams` for a large batch (an import's): the rows travel by COPY, which costs
    the database and the client far less per row than an INSERT's parameters. Same locks,
    same guarantees; on SQLite, the same as `append_streams`."""
    appends = [item for item in appends if item.events]
    if connection.vendor != "postgresql" or not appends:
        return append_streams(appends)
    count = sum(len(item.events) for item in appends)
    recorded_at = timezone.now()
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        try:
            cursor.execute(_RESERVE, [count])
            positions = sorted(position for (position,) in cursor.fetchall())
            event_ids = (event.event_id for item in appends for event in item.events)
            recorded = _recorded(appends, dict(zip(event_ids, positions, strict=True)), recorded_at)
            metadata = {id(item.metadata): orjson.dumps(item.metadata).decode() for item in appends}
            with cursor.cursor.copy(_COPY) as copy:
                for e in recorded:
                    row = (
                        e.position,
                        e.event_id,
                        e.stream_id,
                        e.version,
                        e.type,
                        e.schema_version,
                        orjson.dumps(e.data).decode(),
                    )
                    copy.write_row((*row, metadata[id(e.metadata)], recorded_at))
            cursor.execute("SELECT pg_advisory_unlock(%s)", [APPEND_LOCK_KEY])
        except (IntegrityError, psycopg.IntegrityError) as error:  # COPY goes past Django's error wrapping
            connection.close()  # the append lock is held, and an aborted transaction cannot release it
            # A (stream, version) that exists: someone appended since the batch was read.
            raise _conflict(appends[0]) from error
        except BaseException:
            connection.close()
            raise
    return recorded


def read_stream(stream_id: uuid.UUID, *, recorded_until: datetime | None = None) -> list[RecordedEvent]:
    """The stream's events in version order; with `recorded_until`, only those recorded by then."""
    rows = Event.objects.filter(stream_id=stream_id)
    if recorded_until is not None:
        rows = rows.filter(recorded_at__lte=recorded_until)
    return [RecordedEvent.from_stored(*row) for row in rows.order_by("version").values_list(*_COLUMNS)]


def read_after(position: int, *, limit: int = 1000, types: Iterable[str] | None = None) -> list[RecordedEvent]:
    """Up to `limit` events with a position above `position`, in position order. Never skips."""
    rows = visible(Event.objects.filter(position__gt=position))
    if types is not None:
        rows = rows.filter(type__in=list(types))
    return [RecordedEvent.from_stored(*row) for row in rows.order_by("position").values_list(*_COLUMNS)[:limit]]


def last_position() -> int:
    """The highest position a reader can see with nothing below it still to come."""
    return visible(Event.objects.order_by("-position")).values_list("position", flat=True).first() or 0


def visible_position() -> RawSQL:
    """`last_position()` as an expression, for filtering read models keyed by position
    (`position__lte=store.visible_position()`) in the same query."""
    if connection.vendor == "postgresql":
        sql = f"SELECT position FROM eventstore_event WHERE {VISIBLE} ORDER BY position DESC LIMIT 1"  # noqa: S608
    else:
        sql = "SELECT position FROM eventstore_event ORDER BY position DESC LIMIT 1"
    return RawSQL(f"COALESCE(({sql}), 0)", [])  # noqa: S611 (constant SQL)


def committed_position() -> int:
    """The highest position committed (or written by this transaction): past holes that
    a reader may still see filled, so only for a caller that holds appends off."""
    return Event.objects.order_by("-position").values_list("position", flat=True).first() or 0


def settled_position(*, timeout: float = 10.0) -> int:
    """The log's end as committed now, once readers can see up to it (the cut-off of a
    digest pass): waits while transactions older than its last writer are in flight."""
    committed = committed_position()
    deadline = time.monotonic() + timeout
    while (visible := last_position()) < committed and time.monotonic() < deadline:
        time.sleep(0.05)
    return visible


_COLUMNS = ("position", "event_id", "stream_id", "version", "type", "schema_version", "data", "metadata", "recorded_at")


def iter_streams(*, up_to_position: int, chunk_size: int = 5000) -> Iterator[list[RecordedEvent]]:
    """Each stream's events (in version order), one stream at a time, streamed from the
    database with a server-side cursor, so memory does not grow with the log."""
    if connection.vendor == "postgresql":
        rows: Iterator[tuple] = _scan_by_stream(up_to_position, chunk_size)
    else:
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


def _scan_by_stream(up_to_position: int, chunk_size: int) -> Iterator[tuple]:
    # Plain rows from a named cursor, in the order of the (stream, version) index: the ORM's
    # per-row conversions cost more than the scan itself.
    with connection.chunked_cursor() as cursor:
        # psycopg's own loader (compiled) instead of Django's: both give aware datetimes.
        cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
        cursor.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM eventstore_event"  # noqa: S608 (constant columns)
            " WHERE position <= %s ORDER BY stream_id, version",
            [up_to_position],
        )
        while chunk := cursor.fetchmany(chunk_size):
            for position, event_id, stream_id, version, type_, schema_version, data, metadata, at in chunk:
                # Django's connection reads jsonb as text.
                yield (
                    position,
                    event_id,
                    stream_id,
                    version,
                    type_,
                    schema_version,
                    orjson.loads(data),
                    orjson.loads(metadata),
                    at,
                )
