"""Read models as a pure function of one development's events.

`project(events)` turns a stream into the rows of every read model. The same function
serves the inline update after each command and `rebuild_projections`, so a rebuild is
identical to what commands maintained (DESIGN.md, invariant 4).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from django.db import transaction

from chronicle.domain import development as domain
from chronicle.domain import edtf
from chronicle.domain.events import (
    CorrectionPublished,
    Drafted,
    Event,
    Published,
    Retracted,
    UpdatePublished,
    event_from_stored,
)
from chronicle.eventstore import store
from chronicle.eventstore.store import RecordedEvent

from .models import (
    Checkpoint,
    DevelopmentRecord,
    PublicActor,
    PublicCountry,
    PublicDevelopment,
    PublicRevision,
    PublicStatus,
    PublicTopic,
    RevisionKind,
    Workflow,
)

CHECKPOINT = "developments"

_REVISION_KINDS = {
    Published: RevisionKind.PUBLISHED,
    CorrectionPublished: RevisionKind.CORRECTED,
    UpdatePublished: RevisionKind.UPDATED,
    Retracted: RevisionKind.RETRACTED,
}


def to_domain(event: RecordedEvent) -> Event:
    return event_from_stored(event.type, event.data, actor=event.metadata["actor"]["id"])


@dataclass
class Projection:
    record: DevelopmentRecord
    public: PublicDevelopment | None = None
    countries: list[PublicCountry] = field(default_factory=list)
    topics: list[PublicTopic] = field(default_factory=list)
    actors: list[PublicActor] = field(default_factory=list)
    revisions: list[PublicRevision] = field(default_factory=list)


def fold(events: Iterable[RecordedEvent]) -> domain.Development | None:
    return domain.fold(to_domain(event) for event in events)


def project(events: Sequence[RecordedEvent]) -> Projection:
    """The rows of every read model for one development, from its stream in version order."""
    first, last = events[0], events[-1]
    state: domain.Development | None = None
    revisions: list[PublicRevision] = []
    for recorded in events:
        event = to_domain(recorded)
        state = domain.apply(state, event)
        if type(event) in _REVISION_KINDS:
            revisions.append(
                PublicRevision(
                    position=recorded.position,
                    development_id=recorded.stream_id,
                    version=recorded.version,
                    kind=_REVISION_KINDS[type(event)],
                    note=getattr(event, "note", "") or getattr(event, "reason", ""),
                    content=state.published.to_dict(),
                    recorded_at=recorded.recorded_at,
                )
            )
    assert state is not None and isinstance(to_domain(first), Drafted)
    working = state.content
    span = edtf.parse(working.date)
    record = DevelopmentRecord(
        id=first.stream_id,
        slug=state.slug,
        version=state.version,
        workflow=Workflow(state.workflow.value),
        title=working.title,
        kind=working.kind,
        date=working.date,
        date_earliest=span.earliest,
        date_latest=span.latest,
        countries=list(working.countries),
        topics=list(working.topics),
        content=working.to_dict(),
        published_content=state.published.to_dict() if state.published else None,
        has_pending_revision=state.has_pending_revision,
        revision_authors=sorted(state.revision_authors),
        review_comment=state.review_comment,
        publish_at=state.publish_at,
        retraction_reason=state.retraction_reason,
        created_at=first.recorded_at,
        created_by=first.metadata["actor"]["username"],
        last_changed_at=last.recorded_at,
        last_changed_by=last.metadata["actor"]["username"],
        last_event_type=last.type,
    )
    projection = Projection(record=record, revisions=revisions)
    if state.published is None:
        return projection
    public = state.published
    public_span = edtf.parse(public.date)
    development = PublicDevelopment(
        id=first.stream_id,
        slug=state.slug,
        status=PublicStatus.RETRACTED if state.workflow is domain.Workflow.RETRACTED else PublicStatus.PUBLISHED,
        title=public.title,
        summary=public.summary,
        kind=public.kind,
        stage=public.stage,
        date=public.date,
        date_earliest=public_span.earliest,
        date_latest=public_span.latest,
        content=public.to_dict(),
        retraction_reason=state.retraction_reason,
        first_published_at=revisions[0].recorded_at,
        updated_at=revisions[-1].recorded_at,
        last_public_position=revisions[-1].position,
    )
    projection.public = development
    projection.countries = [PublicCountry(development_id=development.id, code=code) for code in public.countries]
    projection.topics = [PublicTopic(development_id=development.id, slug=slug) for slug in public.topics]
    projection.actors = [
        PublicActor(development_id=development.id, name=actor.name, role=actor.role)
        for actor in dict.fromkeys(public.actors)
    ]
    return projection


def save(projection: Projection) -> None:
    """Replace one development's rows with `projection` (inline, after a command)."""
    development_id = projection.record.id
    PublicDevelopment.objects.filter(id=development_id).delete()
    projection.record.save()
    if projection.public is not None:
        projection.public.save(force_insert=True)
        _insert_children([projection])


def _insert_children(projections: Sequence[Projection]) -> None:
    PublicCountry.objects.bulk_create([row for p in projections for row in p.countries])
    PublicTopic.objects.bulk_create([row for p in projections for row in p.topics])
    PublicActor.objects.bulk_create([row for p in projections for row in p.actors])
    PublicRevision.objects.bulk_create([row for p in projections for row in p.revisions])


def advance_checkpoint(position: int) -> None:
    Checkpoint.objects.update_or_create(name=CHECKPOINT, defaults={"position": position})


def checkpoint() -> int:
    row = Checkpoint.objects.filter(name=CHECKPOINT).first()
    return row.position if row else 0


def as_of(development_id: UUID, when: datetime) -> Projection | None:
    """The development as recorded at `when` (replayed from the log, not read from tables)."""
    events = store.read_stream(development_id, recorded_until=when)
    return project(events) if events else None


# -- rebuild -----------------------------------------------------------------------------

READ_MODELS = (PublicRevision, PublicActor, PublicTopic, PublicCountry, PublicDevelopment, DevelopmentRecord)


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
        for model in READ_MODELS:
            model.objects.all().delete()
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
    if not batch:
        return
    DevelopmentRecord.objects.bulk_create([p.record for p in batch])
    PublicDevelopment.objects.bulk_create([p.public for p in batch if p.public is not None])
    _insert_children(batch)


def read_model_snapshot() -> dict[str, list[tuple]]:
    """Every read-model row as comparable tuples (surrogate ids left out), for checks."""
    snapshot = {}
    for model in READ_MODELS:
        names = [f.attname for f in model._meta.concrete_fields if not (f.primary_key and f.auto_created)]
        rows = model.objects.order_by(*names).values_list(*names)
        snapshot[model._meta.db_table] = list(rows)
    return snapshot
