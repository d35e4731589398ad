"""Read models as a pure function of one development's events.

`project(events)` turns a stream into the rows of every read model. The same function
serves the inline update after each command and `rebuild_projections`, so a rebuild is
identical to what commands maintained (every read model can be dropped and rebuilt from
the log with an identical result).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import connection, models, transaction
from psycopg.types.json import Jsonb

from chronicle.domain import development as domain
from chronicle.domain import edtf, search
from chronicle.domain.events import Drafted, Event, RevisionKind, event_from_stored
from chronicle.eventstore import store
from chronicle.eventstore.store import RecordedEvent

from .models import (
    Checkpoint,
    DevelopmentRecord,
    PublicActor,
    PublicCountry,
    PublicDevelopment,
    PublicRelation,
    PublicRevision,
    PublicStatus,
    PublicTopic,
)

CHECKPOINT = "developments"


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

    @property
    def record(self) -> DevelopmentRecord:
        return DevelopmentRecord(**self.record_row)

    @property
    def public(self) -> PublicDevelopment | None:
        return PublicDevelopment(**self.public_row) if self.public_row else None

    @property
    def countries(self) -> list[PublicCountry]:
        return [PublicCountry(**row) for row in self.country_rows]

    @property
    def topics(self) -> list[PublicTopic]:
        return [PublicTopic(**row) for row in self.topic_rows]

    @property
    def actors(self) -> list[PublicActor]:
        return [PublicActor(**row) for row in self.actor_rows]

    @property
    def relations(self) -> list[PublicRelation]:
        return [PublicRelation(**row) for row in self.relation_rows]

    @property
    def revisions(self) -> list[PublicRevision]:
        return [PublicRevision(**row) for row in self.revision_rows]


def fold(events: Iterable[RecordedEvent]) -> domain.Development | None:
    return domain.fold(to_domain(event) for event in events)


def project(events: Sequence[RecordedEvent]) -> Projection:
    """The rows of every read model for one development, from its stream in version order."""
    first, last = events[0], events[-1]
    development_id = first.stream_id
    state: domain.Development | None = None
    # The stored content dicts are the canonical form; reuse them instead of re-serialising.
    working_data: dict[str, Any] = {}
    public_data: dict[str, Any] | None = None
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
    assert state is not None and first.type == Drafted.type
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
        "created_at": first.recorded_at,
        "created_by": first.metadata["actor"]["username"],
        "last_changed_at": last.recorded_at,
        "last_changed_by": last.metadata["actor"]["username"],
        "last_event_type": last.type,
    }
    projection = Projection(record_row=record, revision_rows=revisions)
    if state.published is None:
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
        "first_published_at": revisions[0]["recorded_at"],
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


def save(projection: Projection, *, new: bool, recorded: Sequence[RecordedEvent]) -> None:
    """Write one development's rows after a command recorded `recorded`, touching only what changed."""
    projection.record.save(force_insert=new, force_update=not new)
    new_positions = {event.position for event in recorded}
    new_revisions = [row for row in projection.revisions if row.position in new_positions]
    if not new_revisions:
        return
    public = projection.public
    assert public is not None  # a public event always leaves a public version
    first_publication = len(projection.revision_rows) == len(new_revisions)
    public.save(force_insert=first_publication, force_update=not first_publication)
    if not first_publication:
        for model in (PublicCountry, PublicTopic, PublicActor, PublicRelation):
            model.objects.filter(development_id=public.id).delete()
    PublicCountry.objects.bulk_create(projection.countries)
    PublicTopic.objects.bulk_create(projection.topics)
    PublicActor.objects.bulk_create(projection.actors)
    PublicRelation.objects.bulk_create(projection.relations)
    PublicRevision.objects.bulk_create(new_revisions)


def advance_checkpoint(position: int) -> None:
    if not Checkpoint.objects.filter(name=CHECKPOINT).update(position=position):
        Checkpoint.objects.create(name=CHECKPOINT, position=position)


def checkpoint() -> int:
    row = Checkpoint.objects.filter(name=CHECKPOINT).first()
    return row.position if row else 0


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


def rebuild(*, batch_size: int = 2000, on_progress=None) -> tuple[int, int]:
    """Drop every read model and rebuild it from the log; return (developments, events).

    Holds the log's append lock for its whole transaction, so commands wait instead of
    racing the rebuild; readers keep seeing the old tables until it commits. Streams are
    read one after another (by stream id and version), so memory stays flat however long
    the log is.
    """
    developments = events_seen = 0
    with transaction.atomic():
        store._lock_log()
        with connection.cursor() as cursor:
            # Plain DELETEs, children first: the ORM's cascade would load every row into memory,
            # and TRUNCATE would lock readers out until the rebuild commits.
            for model in READ_MODELS:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
        high_water = store.last_position()
        batch: list[Projection] = []
        for stream in store.iter_streams(up_to_position=high_water):
            batch.append(project(stream))
            developments += 1
            events_seen += len(stream)
            if on_progress:
                on_progress(len(stream))
            if len(batch) >= batch_size:
                _insert_batch(batch)
                batch = []
        _insert_batch(batch)
        advance_checkpoint(high_water)
    return developments, events_seen


def _insert_batch(batch: list[Projection]) -> None:
    tables: list[tuple[type[models.Model], list[dict[str, Any]]]] = [
        (DevelopmentRecord, [p.record_row for p in batch]),
        (PublicDevelopment, [p.public_row for p in batch if p.public_row]),
        (PublicCountry, [row for p in batch for row in p.country_rows]),
        (PublicTopic, [row for p in batch for row in p.topic_rows]),
        (PublicActor, [row for p in batch for row in p.actor_rows]),
        (PublicRelation, [row for p in batch for row in p.relation_rows]),
        (PublicRevision, [row for p in batch for row in p.revision_rows]),
    ]
    for model, rows in tables:
        if rows:
            _insert_rows(model, rows)


def _insert_rows(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows])
        return
    # COPY: the rebuild's bottleneck is turning rows into SQL; COPY skips the ORM for that.
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.auto_created)]
    json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    names = [f.attname for f in fields]
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(
                [Jsonb(row[name]) if name in json_fields and row[name] is not None else row[name] for name in names]
            )


def read_model_snapshot() -> dict[str, list[tuple]]:
    """Every read-model row as comparable tuples (surrogate ids left out), for checks."""
    snapshot = {}
    for model in READ_MODELS:
        names = [f.attname for f in model._meta.concrete_fields if not (f.primary_key and f.auto_created)]
        rows = model.objects.order_by(*names).values_list(*names)
        snapshot[model._meta.db_table] = list(rows)
    return snapshot
