"""Read models as a pure function of one development's events.

`project(events)` turns a stream into the rows of every read model. The same function
serves the inline update after each command and `rebuild_projections`, so a rebuild is
identical to what commands maintained (every read model can be dropped and rebuilt from
the log with an identical result).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any
from uuid import UUID

import orjson
from django.db import OperationalError, connection, models, transaction
from psycopg.errors import LockNotAvailable

from chronicle import libpq
from chronicle.database import prepared_cursor
from chronicle.domain import development as domain
from chronicle.domain import edtf, search
from chronicle.domain.content import content_from_stored
from chronicle.domain.events import Drafted, Event, RevisionKind, event_from_stored
from chronicle.eventstore import store
from chronicle.eventstore.store import RecordedEvent
from chronicle.libpq import Statement

from .models import (
    DevelopmentRecord,
    PublicActor,
    PublicCountry,
    PublicDevelopment,
    PublicRelation,
    PublicRevision,
    PublicStatus,
    PublicTopic,
)


def to_domain(event: RecordedEvent) -> Event:
    return event_from_stored(event.type, event.data, actor=event.metadata["actor"]["id"])


@dataclass
class Projection:
    """One development's read-model rows, as plain dicts keyed by field attname.

    The properties give unsaved model instances for callers that want objects (`as_of`);
    the rebuild writes the dicts directly, which is several times faster.
    """

    record_row: dict[str, Any]
    public_row: dict[str, Any] | None = None
    country_rows: list[dict[str, Any]] = field(default_factory=list)
    topic_rows: list[dict[str, Any]] = field(default_factory=list)
    actor_rows: list[dict[str, Any]] = field(default_factory=list)
    relation_rows: list[dict[str, Any]] = field(default_factory=list)
    revision_rows: list[dict[str, Any]] = field(default_factory=list)
    # Where the development stands after these rows: what `load` would give once they are written.
    after: Start | None = None

    @property
    def public(self) -> PublicDevelopment | None:
        return PublicDevelopment(**self.public_row) if self.public_row else None

    @property
    def revisions(self) -> list[PublicRevision]:
        return [PublicRevision(**row) for row in self.revision_rows]


def fold(events: Iterable[RecordedEvent]) -> domain.Development | None:
    return domain.fold(to_domain(event) for event in events)


@dataclass(frozen=True)
class Start:
    """Where a development's projection stands before new events: what the read models say
    of it. Commands start here instead of replaying the stream."""

    state: domain.Development
    working_data: dict[str, Any]
    public_data: dict[str, Any] | None
    created_at: datetime
    created_by: str
    first_published_at: datetime | None


def load(development_id: UUID) -> Start | None:
    """The development as its read models hold it now; None if there is none. Nothing is
    locked: a command's append states the version it started from, which fails it if
    another command appended first."""
    if connection.vendor != "postgresql":
        return _load_with_orm([development_id]).get(development_id)
    return _started(libpq.fetch(Statement(_LOAD_ONE, [str(development_id)]))).get(development_id)


def load_many(development_ids: Sequence[UUID]) -> dict[UUID, Start]:
    """`load` for many developments at once (an import's batch), locked against other
    batches until this transaction ends: two round trips."""
    if connection.vendor != "postgresql":
        return _load_with_orm(development_ids)
    # Advisory locks, not SELECT … FOR UPDATE: locking a row gives the transaction an id
    # before its append, which would make the append wait for every other (store.py).
    # In key order, so two batches never wait for each other in a circle.
    keys = sorted(_lock_keys(development_id) for development_id in development_ids)
    with prepared_cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(a, b)) FROM unnest(%s::int[], %s::int[]) AS k(a, b)",
            [[a for a, _ in keys], [b for _, b in keys]],
        )
        cursor.execute(_LOAD_MANY, [list(development_ids)])
        return _started(cursor.fetchall())


def _started(rows: Sequence[tuple]) -> dict[UUID, Start]:
    starts = {}
    for found in rows:
        row = dict(zip(("id", *_START_FIELDS, "first_published_at"), found, strict=True))
        for name in ("content", "published_content", "revision_authors"):  # Django reads jsonb as text
            row[name] = orjson.loads(row[name]) if row[name] is not None else None
        starts[row["id"]] = _start(row)
    return starts


def _load_with_orm(development_ids: Sequence[UUID]) -> dict[UUID, Start]:
    rows = DevelopmentRecord.objects.filter(id__in=development_ids).values(
        "id", *_START_FIELDS, first_published_at=_FIRST_PUBLISHED
    )
    return {row["id"]: _start(row) for row in rows}


def _start(row: dict[str, Any]) -> Start:
    published = row["published_content"]
    state = domain.Development(
        slug=row["slug"],
        content=content_from_stored(row["content"]),
        workflow=domain.Workflow(row["workflow"]),
        version=row["version"],
        published=content_from_stored(published) if published is not None else None,
        revision_authors=frozenset(row["revision_authors"]),
        publish_at=row["publish_at"],
        retraction_reason=row["retraction_reason"],
        review_comment=row["review_comment"],
    )
    return Start(
        state=state,
        working_data=row["content"],
        public_data=published,
        created_at=row["created_at"],
        created_by=row["created_by"],
        first_published_at=row["first_published_at"],
    )


_FIRST_PUBLISHED = models.Subquery(
    PublicDevelopment.objects.filter(id=models.OuterRef("id")).values("first_published_at")[:1]
)
_START_FIELDS = (
    "slug",
    "content",
    "workflow",
    "version",
    "published_content",
    "revision_authors",
    "publish_at",
    "retraction_reason",
    "review_comment",
    "created_at",
    "created_by",
)


# The public row is looked up by key for each record, and a command's single id is compared
# with `=`: the plan the server keeps for the prepared statement is then two index lookups,
# whatever it assumes of the ids. (A join on `= ANY(…)` got a cached plan that reads every
# public row, and a custom plan costs a planning each time.)
_LOAD = (
    "SELECT r.id, "  # noqa: S608 (names from the models)
    + ", ".join(f"r.{DevelopmentRecord._meta.get_field(name).column}" for name in _START_FIELDS)
    + f", (SELECT p.first_published_at FROM {PublicDevelopment._meta.db_table} p WHERE p.id = r.id)"  # noqa: S608
    + f" FROM {DevelopmentRecord._meta.db_table} r WHERE r.id "
)
_LOAD_ONE = _LOAD + "= %s"
_LOAD_MANY = _LOAD + "= ANY(%s::uuid[])"


def _lock_keys(development_id: UUID) -> tuple[int, int]:
    # Two signed 32-bit halves of the id's first 8 bytes; a rare collision only serialises.
    value = int.from_bytes(development_id.bytes[:8], "big", signed=True)
    return value >> 32, int.from_bytes(value.to_bytes(8, "big", signed=True)[4:], "big", signed=True)


def project(events: Sequence[RecordedEvent], start: Start | None = None) -> Projection:
    """The rows of every read model for one development, from its stream in version order,
    or from `start` and the events after it. Revision rows are those of `events` only."""
    first, last = events[0], events[-1]
    development_id = first.stream_id
    if start is None:
        assert first.type == Drafted.type
        state: domain.Development | None = None
        # The stored content dicts are the canonical form; reuse them instead of re-serialising.
        working_data: dict[str, Any] = {}
        public_data: dict[str, Any] | None = None
        created_at, created_by = first.recorded_at, first.metadata["actor"]["username"]
        first_published_at = None
    else:
        state, working_data, public_data = start.state, start.working_data, start.public_data
        created_at, created_by, first_published_at = start.created_at, start.created_by, start.first_published_at
    revisions: list[dict[str, Any]] = []
    for recorded in events:
        event = to_domain(recorded)
        state = domain.apply(state, event)
        if "content" in recorded.data:
            working_data = recorded.data["content"]
        kind = event.revision_kind
        if kind is not None:
            if kind is not RevisionKind.RETRACTED:
                public_data = working_data
            first_published_at = first_published_at or recorded.recorded_at
            revisions.append(
                {
                    "position": recorded.position,
                    "development_id": development_id,
                    "version": recorded.version,
                    "kind": kind.value,
                    "note": getattr(event, "note", "") or getattr(event, "reason", ""),
                    "content": public_data,
                    "recorded_at": recorded.recorded_at,
                }
            )
    assert state is not None
    working = state.content
    span = edtf.parse(working.date)
    record = {
        "id": development_id,
        "slug": state.slug,
        "version": state.version,
        "workflow": state.workflow.value,
        "title": working.title,
        "kind": working.kind,
        "date": working.date,
        "date_earliest": span.earliest,
        "date_latest": span.latest,
        "countries": list(working.countries),
        "topics": list(working.topics),
        "content": working_data,
        "published_content": public_data,
        "has_pending_revision": state.has_pending_revision,
        "revision_authors": sorted(state.revision_authors),
        "review_comment": state.review_comment,
        "publish_at": state.publish_at,
        "retraction_reason": state.retraction_reason,
        "created_at": created_at,
        "created_by": created_by,
        "last_changed_at": last.recorded_at,
        "last_changed_by": last.metadata["actor"]["username"],
        "last_event_type": last.type,
    }
    after = Start(state, working_data, public_data, created_at, created_by, first_published_at)
    projection = Projection(record_row=record, revision_rows=revisions, after=after)
    if state.published is None or not revisions:
        # Nothing public changed: the public rows stay as they are.
        return projection
    public = state.published
    public_span = edtf.parse(public.date)
    retracted = state.workflow is domain.Workflow.RETRACTED
    projection.public_row = {
        "id": development_id,
        "slug": state.slug,
        "status": (PublicStatus.RETRACTED if retracted else PublicStatus.PUBLISHED).value,
        "title": public.title,
        "summary": public.summary,
        "kind": public.kind,
        "stage": public.stage,
        "date": public.date,
        "date_earliest": public_span.earliest,
        "date_latest": public_span.latest,
        "content": public_data,
        "retraction_reason": state.retraction_reason,
        "first_published_at": first_published_at,
        "updated_at": revisions[-1]["recorded_at"],
        "last_public_position": revisions[-1]["position"],
        "search_text": search.document(public.title, public.summary),
    }
    projection.country_rows = [{"development_id": development_id, "code": code} for code in public.countries]
    projection.topic_rows = [{"development_id": development_id, "slug": slug} for slug in public.topics]
    projection.actor_rows = [
        {"development_id": development_id, "name": actor.name, "role": actor.role}
        for actor in dict.fromkeys(public.actors)
    ]
    projection.relation_rows = [{"development_id": development_id, "slug": slug} for slug in public.related]
    return projection


def save(projections: Sequence[Projection]) -> None:
    """Write the rows of many developments after their new events, in the caller's
    transaction: records and public rows are upserted; a development whose public version
    changed gets its country, topic, actor and relation rows replaced and its new revisions
    added."""
    if connection.vendor == "postgresql":
        with prepared_cursor() as cursor:
            for statement in save_statements(projections):
                cursor.execute(statement.sql, statement.params)
        return
    republished, tables = _writes(projections)
    for model, _ in CHILD_ROWS if republished else ():
        delete_rows(model, republished)
    for model, upsert, rows in tables:
        write_rows(model, rows, upsert=upsert)


def save_statements(projections: Sequence[Projection]) -> list[Statement]:
    """`save` as PostgreSQL statements, for a command's transaction (`libpq.commit_together`).
    A command's few rows go in one statement, each table's INSERT a part of it: a publication
    costs one statement instead of one per table (the tables are distinct, so the parts do not
    depend on one another's order). None returns rows."""
    republished, tables = _writes(projections)
    quote = connection.ops.quote_name
    statements = [
        Statement(
            f"DELETE FROM {quote(model._meta.db_table)} WHERE development_id = ANY(%s::uuid[])",  # noqa: S608
            ["{" + ",".join(map(str, republished)) + "}"],
        )
        for model, _ in (CHILD_ROWS if republished else ())
    ]
    if len(tables) < 2 or any(len(rows) > 1000 for _, _, rows in tables):
        for model, upsert, rows in tables:
            statement = _insert_statement(model, upsert, "postgresql")[1]
            statements += [Statement(statement, [_document(model, upsert, chunk)]) for chunk in _chunks(rows)]
        return statements
    document = ",".join(_document(model, upsert, rows) for model, upsert, rows in tables)
    statement = _tables_statement(tuple((model, upsert) for model, upsert, _ in tables))
    statements.append(Statement(statement, [f"[{document}]"]))
    return statements


def _writes(projections: Sequence[Projection]) -> tuple[list[UUID], list[tuple[type[models.Model], bool, list[dict]]]]:
    """What saving `projections` writes: the developments whose child rows are replaced, and
    each table's rows as (model, upsert, rows)."""
    if not projections:
        return [], []
    tables = [(DevelopmentRecord, True, [p.record_row for p in projections])]
    public = [p for p in projections if p.public_row is not None]
    # A first publication has no child rows yet; any later public event replaces them.
    republished = [p.record_row["id"] for p in public if p.revision_rows[0]["kind"] != RevisionKind.PUBLISHED]
    if public:
        tables.append((PublicDevelopment, True, [p.public_row for p in public if p.public_row]))
        tables += [(model, False, [row for p in public for row in getattr(p, name)]) for model, name in CHILD_ROWS]
        tables.append((PublicRevision, False, [row for p in public for row in p.revision_rows]))
    return republished, [(model, upsert, rows) for model, upsert, rows in tables if rows]


def _document(model: type[models.Model], upsert: bool, rows: Sequence[dict[str, Any]]) -> str:
    """`rows` as the JSON document an insert statement reads its rows from (keyed by column)."""
    fields = _insert_statement(model, upsert, "postgresql")[0]
    return orjson.dumps([{f.column: row[f.attname] for f in fields} for row in rows], default=_json_value).decode()


def _chunks(rows: Sequence[dict[str, Any]], size: int = 1000) -> list[Sequence[dict[str, Any]]]:
    return [rows[start : start + size] for start in range(0, len(rows), size)]


@cache
def _tables_statement(tables: tuple[tuple[type[models.Model], bool], ...]) -> str:
    *parts, last = (
        _insert_statement(model, upsert, "postgresql", f"(SELECT rows -> {index} FROM document)")[1]  # noqa: S608
        for index, (model, upsert) in enumerate(tables)
    )
    written = "".join(f", written_{index} AS ({part})" for index, part in enumerate(parts))
    return f"WITH document AS (SELECT %s::jsonb AS rows){written} {last}"


# The read-model columns that hold a log position, each with its development's stream id: a
# command's rows may carry pending positions there, which the statement resolves (store.SentAppend).
POSITION_COLUMNS = {PublicRevision: ("position", "development"), PublicDevelopment: ("last_public_position", "id")}


CHILD_ROWS = (
    (PublicCountry, "country_rows"),
    (PublicTopic, "topic_rows"),
    (PublicActor, "actor_rows"),
    (PublicRelation, "relation_rows"),
)


def delete_rows(model: type[models.Model], development_ids: Sequence[UUID]) -> None:
    field = model._meta.get_field("development")
    values = [field.get_db_prep_save(value, connection) for value in development_ids]
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)} WHERE development_id IN "  # noqa: S608
            f"({', '.join(['%s'] * len(values))})",
            values,
        )


def write_rows(model: type[models.Model], rows: Sequence[dict[str, Any]], *, upsert: bool = False) -> None:
    """INSERT `rows` (dicts by field attname) in statements of up to 1,000 rows; with
    `upsert`, rows whose primary key exists replace it. On PostgreSQL the rows travel as one
    JSON document that the server turns into typed rows: one parameter instead of one per
    value, each of which the driver would have to adapt."""
    fields, statement, placeholders = _insert_statement(model, upsert, connection.vendor)
    with prepared_cursor() as cursor:
        for chunk in _chunks(rows):
            if connection.vendor == "postgresql":
                cursor.execute(statement, [_document(model, upsert, chunk)])
            else:
                values = [f.get_db_prep_save(row[f.attname], connection) for row in chunk for f in fields]
                cursor.execute(statement.format(values=", ".join([placeholders] * len(chunk))), values)


def _json_value(value: Any) -> str:
    # orjson writes datetimes (with their offset and microseconds, which the columns read back
    # exactly), dates and UUIDs itself.
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a read-model value")


def insert_new(projections: Sequence[Projection]) -> None:
    """`save` for developments that have no rows yet (an import's new records): every row is
    an insert, so on PostgreSQL each table's rows travel by one COPY."""
    if connection.vendor == "postgresql":
        _copy_batch(list(projections), schema=None)
    else:
        save(projections)


@cache
def _insert_statement(
    model: type[models.Model], upsert: bool, vendor: str, rows_document: str = "%s::jsonb"
) -> tuple[list, str, str]:
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.auto_created)]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    conflict = ""
    if upsert:
        updates = ", ".join(f"{quote(f.column)} = EXCLUDED.{quote(f.column)}" for f in fields if not f.primary_key)
        conflict = f" ON CONFLICT ({quote(model._meta.pk.column)}) DO UPDATE SET {updates}"
    if vendor == "postgresql":
        values = [f"r.{quote(f.column)}" for f in fields]
        if model in POSITION_COLUMNS:
            position, stream_id = (fields.index(model._meta.get_field(name)) for name in POSITION_COLUMNS[model])
            values[position] = store.resolve_position(values[position], values[stream_id])
        rows = f"SELECT {', '.join(values)} FROM jsonb_populate_recordset(NULL::{table}, {rows_document}) AS r"  # noqa: S608 (names from the model)
    else:
        rows = "VALUES {values}"
    statement = f"INSERT INTO {table} ({columns}) {rows}{conflict}"
    return fields, statement, "(" + ", ".join(["%s"] * len(fields)) + ")"


def as_of(development_id: UUID, when: datetime) -> Projection | None:
    """The development as recorded at `when` (replayed from the log, not read from tables)."""
    events = store.read_stream(development_id, recorded_until=when)
    return project(events) if events else None


def public_after(revision: PublicRevision, *, id, slug: str, first_published_at: datetime) -> PublicDevelopment:
    """The development as it was public right after `revision`, shaped like the read model,
    with that revision as its `last_revision`."""
    content = revision.content
    span = edtf.parse(content["date"])
    retracted = revision.kind == RevisionKind.RETRACTED
    development = PublicDevelopment(
        id=id,
        slug=slug,
        status=PublicStatus.RETRACTED if retracted else PublicStatus.PUBLISHED,
        title=content["title"],
        summary=content.get("summary", ""),
        kind=content["kind"],
        stage=content.get("stage", ""),
        date=content["date"],
        date_earliest=span.earliest,
        date_latest=span.latest,
        content=content,
        retraction_reason=revision.note if retracted else "",
        first_published_at=first_published_at,
        updated_at=revision.recorded_at,
        last_public_position=revision.position,
    )
    development.last_revision = revision
    return development


# -- rebuild -----------------------------------------------------------------------------

READ_MODELS = (
    PublicRevision,
    PublicRelation,
    PublicActor,
    PublicTopic,
    PublicCountry,
    PublicDevelopment,
    DevelopmentRecord,
)

# PostgreSQL: the fresh tables are built here, under the real tables' names, then moved in.
SHADOW_SCHEMA = "chronicle_rebuild"
REBUILD_LOCK_KEY = 0x43485242  # "CHRB": one rebuild at a time
# Below PostgreSQL's deadlock_timeout (1 s): a swap that waits on a transaction waiting on it
# gives way first, and tries again.
SWAP_LOCK_TIMEOUT = "500ms"
SWAP_ATTEMPTS = 20


def rebuild(*, batch_size: int = 2000, on_progress=None) -> tuple[int, int]:
    """Rebuild every read model from the log; return (developments, events).

    Streams are read one after another (by stream id and version), so memory stays flat
    however long the log is. On PostgreSQL the rows are copied into fresh tables, indexed
    once full, and swapped in for the old ones in one step: readers see the old tables until
    then and the new ones after, never a half-built one, and commands wait only for the
    swap. On SQLite (one writer) the tables are emptied and refilled in one transaction,
    which readers see only once it commits.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            return _rebuild_beside(batch_size, on_progress)
        return _rebuild_in_place(batch_size, on_progress)


def _rebuild_in_place(batch_size: int, on_progress) -> tuple[int, int]:
    with connection.cursor() as cursor:
        # Plain DELETEs, children first: the ORM's cascade would load every row into memory.
        for model in READ_MODELS:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
    # The DELETEs took SQLite's write lock: nothing is appended until this commits.
    streams = store.iter_streams(up_to_position=store.committed_position())
    return _fill(streams, _insert_batch, batch_size, on_progress)


def _rebuild_beside(batch_size: int, on_progress) -> tuple[int, int]:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REBUILD_LOCK_KEY])
        cursor.execute(f"CREATE SCHEMA {SHADOW_SCHEMA}")
        for model in READ_MODELS:
            # No indexes or constraints yet: they are built once, after the rows are in.
            table = quote(model._meta.db_table)
            cursor.execute(f"CREATE TABLE {SHADOW_SCHEMA}.{table} (LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY)")
    # Every event up to here is committed; later ones are caught up under the swap's locks.
    high_water = store.last_position()
    _, events = _fill(store.iter_streams(up_to_position=high_water), _copy_batch, batch_size, on_progress)
    with connection.cursor() as cursor:
        _index_shadow_tables(cursor)
    events += _swap_in(high_water, batch_size)
    return DevelopmentRecord.objects.count(), events


def _fill(streams: Iterable[list[RecordedEvent]], write_batch, batch_size: int, on_progress) -> tuple[int, int]:
    """Project each stream and write the rows with `write_batch`, `batch_size` developments at a time."""
    developments = events = 0
    batch: list[Projection] = []
    for stream in streams:
        batch.append(project(stream))
        developments += 1
        events += len(stream)
        if on_progress:
            on_progress(len(stream))
        if len(batch) >= batch_size:
            write_batch(batch)
            batch = []
    write_batch(batch)
    return developments, events


def _batch_tables(batch: list[Projection]) -> list[tuple[type[models.Model], list[dict[str, Any]]]]:
    return [
        (DevelopmentRecord, [p.record_row for p in batch]),
        (PublicDevelopment, [p.public_row for p in batch if p.public_row]),
        (PublicCountry, [row for p in batch for row in p.country_rows]),
        (PublicTopic, [row for p in batch for row in p.topic_rows]),
        (PublicActor, [row for p in batch for row in p.actor_rows]),
        (PublicRelation, [row for p in batch for row in p.relation_rows]),
        (PublicRevision, [row for p in batch for row in p.revision_rows]),
    ]


def _insert_batch(batch: list[Projection]) -> None:
    for model, rows in _batch_tables(batch):
        write_rows(model, rows)


def _copy_batch(batch: list[Projection], schema: str | None = SHADOW_SCHEMA) -> None:
    """COPY the batch's rows into the fresh tables (`schema` None: into the read models)."""
    # A development's content is often in several rows (working, published, revision):
    # encode each dict once. Keyed by id(), valid while the batch holds the dicts.
    encoded: dict[int, str] = {}

    def json_text(value: Any) -> str | None:
        if value is None:
            return None
        text = encoded.get(id(value))
        if text is None:
            text = encoded[id(value)] = orjson.dumps(value).decode()
        return text

    with connection.cursor() as cursor:
        for model, rows in _batch_tables(batch):
            if not rows:
                continue
            names, json_columns, statement = _copy_statement(model, schema)
            with cursor.cursor.copy(statement) as copy:
                for row in rows:
                    values = [row[name] for name in names]
                    for index in json_columns:
                        values[index] = json_text(values[index])
                    copy.write_row(values)


@cache
def _copy_statement(model: type[models.Model], schema: str | None) -> tuple[list[str], list[int], str]:
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.auto_created)]
    json_columns = [index for index, f in enumerate(fields) if isinstance(f, models.JSONField)]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    table = f"{schema}.{table}" if schema else table
    return [f.attname for f in fields], json_columns, f"COPY {table} ({columns}) FROM STDIN"


# The real table's indexes and constraints, as the catalog says (so whatever the migrations
# made is copied, under the same names); indexes that belong to a constraint come with it.
_INDEXES = """
SELECT pg_get_indexdef(i.indexrelid), format('%%I.%%I', n.nspname, c.relname)
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE i.indrelid = %s::regclass AND NOT EXISTS (
    SELECT FROM pg_constraint k
    WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x')
)
"""
_CONSTRAINTS = """
SELECT k.conname, k.contype, pg_get_constraintdef(k.oid), k.confrelid::regclass::text, quote_ident(r.relname)
FROM pg_constraint k LEFT JOIN pg_class r ON r.oid = k.confrelid
WHERE k.conrelid = %s::regclass AND k.contype IN ('p', 'u', 'x', 'c', 'f')
"""


def _index_shadow_tables(cursor) -> None:
    """Give the fresh tables every index and constraint of the real ones, under the same
    names (another schema, so they do not clash); foreign keys point at the fresh tables."""
    quote = connection.ops.quote_name
    foreign_keys = []
    for model in READ_MODELS:
        table = model._meta.db_table
        shadow = f"{SHADOW_SCHEMA}.{quote(table)}"
        cursor.execute(_INDEXES, [table])
        for definition, real in cursor.fetchall():
            cursor.execute(_retarget(definition, f" ON {real} ", f" ON {shadow} "))
        cursor.execute(_CONSTRAINTS, [table])
        for name, kind, definition, referenced, referenced_name in cursor.fetchall():
            if kind == "f":
                target = f"REFERENCES {SHADOW_SCHEMA}.{referenced_name}("
                definition = _retarget(definition, f"REFERENCES {referenced}(", target)
                foreign_keys.append(f"ALTER TABLE {shadow} ADD CONSTRAINT {quote(name)} {definition}")
            else:
                cursor.execute(f"ALTER TABLE {shadow} ADD CONSTRAINT {quote(name)} {definition}")
    # Once every primary key they refer to exists. No ANALYZE: it cost as much as the indexes,
    # and autovacuum analyses a table this new within a minute.
    for statement in foreign_keys:
        cursor.execute(statement)


def _retarget(definition: str, old: str, new: str) -> str:
    if old not in definition:
        raise ValueError(f"Cannot tell which table {definition!r} is on.")
    return definition.replace(old, new, 1)


def _swap_in(high_water: int, batch_size: int) -> int:
    """Lock the read models, bring the fresh tables up to the log's end, and put them in the
    old ones' place; return how many events were caught up."""
    quote = connection.ops.quote_name
    # The editorial record first: commands read it before anything else, so they finish
    # before the swap instead of waiting on it halfway.
    tables = ", ".join(quote(model._meta.db_table) for model in reversed(READ_MODELS))
    busy = None
    for attempt in range(1, SWAP_ATTEMPTS + 1):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
                cursor.execute(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE")
                cursor.execute("SET LOCAL lock_timeout = DEFAULT")
                # No command is between writing these tables and committing now: the events
                # committed so far are caught up here, and later ones land in the new tables.
                caught_up = _catch_up(cursor, high_water, batch_size)
                cursor.execute(
                    "SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = %s::regclass",
                    [DevelopmentRecord._meta.db_table],
                )
                (schema,) = cursor.fetchone()
                # Foreign-key checks deferred by this transaction's earlier writes would block the DROP.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                # No CASCADE: anything else that depends on the old tables stops the swap.
                cursor.execute(f"DROP TABLE {tables}")
                for model in READ_MODELS:
                    cursor.execute(f"ALTER TABLE {SHADOW_SCHEMA}.{quote(model._meta.db_table)} SET SCHEMA {schema}")
                cursor.execute(f"DROP SCHEMA {SHADOW_SCHEMA}")
            return caught_up
        except OperationalError as error:
            if not isinstance(error.__cause__, LockNotAvailable):
                raise
            busy = error
            time.sleep(0.1 * attempt)
    raise OperationalError(
        f"The read models stayed in use through {SWAP_ATTEMPTS} tries to swap in the rebuilt ones; "
        "nothing was changed. Run the rebuild again when the long readers are done."
    ) from busy


def _catch_up(cursor, high_water: int, batch_size: int) -> int:
    """Re-project the streams that grew while the fresh tables were filled."""
    cursor.execute(
        "SELECT stream_id, count(*) FROM eventstore_event WHERE position > %s GROUP BY stream_id", [high_water]
    )
    grown = dict(cursor.fetchall())
    if not grown:
        return 0
    quote = connection.ops.quote_name
    for model in READ_MODELS:
        key = "id" if model in (DevelopmentRecord, PublicDevelopment) else "development_id"
        table = f"{SHADOW_SCHEMA}.{quote(model._meta.db_table)}"
        cursor.execute(f"DELETE FROM {table} WHERE {key} = ANY(%s)", [list(grown)])  # noqa: S608
    _fill((store.read_stream(stream_id) for stream_id in grown), _copy_batch, batch_size, None)
    return sum(grown.values())


def read_model_snapshot() -> dict[str, list[tuple]]:
    """Every read-model row as comparable tuples (surrogate ids left out), for checks."""
    snapshot = {}
    for model in READ_MODELS:
        names = [f.attname for f in model._meta.concrete_fields if not (f.primary_key and f.auto_created)]
        rows = model.objects.order_by(*names).values_list(*names)
        snapshot[model._meta.db_table] = list(rows)
    return snapshot
