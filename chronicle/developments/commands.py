"""The command functions: the only way developments change.

Admin actions, API views, management commands and tasks all call these. Each one takes
the acting user explicitly, checks their permission, takes the development's state (from its
read model, or as the last command on it in this thread committed it), lets the domain
decide the new events, and in one transaction appends them (stating the version it started
from) and updates the read models. Nothing is locked meanwhile: a start that went stale is
refused by the log, and the command decides again. Public events are announced only after
the transaction commits.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from chronicle import database, libpq
from chronicle.domain import development as domain
from chronicle.domain.content import Content, changed_fields, content_from_stored
from chronicle.domain.development import Step, Workflow, development_id_for
from chronicle.domain.errors import DomainError, VersionConflict
from chronicle.domain.events import EVENT_TYPES, PUBLIC_EVENT_TYPES, Event, PublicationScheduled, Revised
from chronicle.eventstore import store
from chronicle.eventstore.store import NewEvent, RecordedEvent, StreamAppend

from . import notifications, projections
from .signals import WithPublication, public_events_committed, public_events_recording

ORIGINS = ("admin", "api", "command", "fixture", "task")

logger = logging.getLogger(__name__)


class NotAllowed(DomainError):
    """The acting user lacks the permission for this step."""


class UnknownDevelopment(DomainError):
    """No development has this id."""


class ConflictError(VersionConflict):
    """A stale write, with a curator-readable account of what changed meanwhile."""

    def __init__(self, message: str, *, expected: int, actual: int, changes: list[str]) -> None:
        super().__init__(message, expected=expected, actual=actual)
        self.changes = changes


@dataclass(frozen=True)
class Outcome:
    development_id: uuid.UUID
    version: int
    events: list[RecordedEvent]

    @property
    def changed(self) -> bool:
        return bool(self.events)


def system_user(username: str):
    """The named system actor (e.g. "chronicle-import"): may act, can never log in."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username, defaults={"is_superuser": True, "is_staff": False, "is_active": True}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


# -- the commands ------------------------------------------------------------------------


def draft_development(
    content: dict[str, Any] | Content,
    *,
    actor,
    slug: str | None = None,
    origin: str = "admin",
    correlation_id: uuid.UUID | None = None,
) -> Outcome:
    """Record a new development as a draft. Its id derives from its slug."""
    _require_permission(actor, "draft_development", "draft developments")
    content = _content(content)
    from .models import DevelopmentRecord

    # A slug derived from the title gets a number only when the address is taken.
    candidates = [slug] if slug else _slugs_for(content.title)
    for candidate in candidates:
        if slug is None and DevelopmentRecord.objects.filter(slug=candidate).exists():
            continue
        events = domain.draft(candidate, content, actor=_actor_id(actor))
        try:
            return _record(development_id_for(candidate), None, events, actor, origin, correlation_id)
        except _StaleAppend:
            if slug is not None:
                break
    raise DomainError(f"A development with the address “{candidates[-1]}” already exists; choose another slug.")


@dataclass(frozen=True)
class StepCommand:
    """How a workflow step is taken: the permission it needs and the domain function that decides it."""

    permission: str
    what: str  # "You are not allowed to <what>."
    decide: Callable[..., list[Event]]
    takes_content: bool = False


STEP_COMMANDS: dict[Step, StepCommand] = {
    Step.REVISE: StepCommand("draft_development", "revise developments", domain.revise, takes_content=True),
    Step.SUBMIT: StepCommand("draft_development", "submit developments for review", domain.submit),
    Step.REQUEST_CHANGES: StepCommand("review_development", "request changes", domain.request_changes),
    Step.PUBLISH: StepCommand("publish_development", "publish developments", domain.publish),
    Step.SCHEDULE: StepCommand("publish_development", "schedule publications", domain.schedule_publication),
    Step.PUBLISH_CORRECTION: StepCommand("publish_development", "publish corrections", domain.publish_correction),
    Step.PUBLISH_UPDATE: StepCommand("publish_development", "publish updates", domain.publish_update),
    Step.RETRACT: StepCommand("retract_development", "retract developments", domain.retract),
}


def may_take(actor, step: Step) -> bool:
    """Whether `actor` holds the permission `step` needs (the domain decides the rest)."""
    return actor.has_perm(f"developments.{STEP_COMMANDS[step].permission}")


def take_step(step: Step, development_id, *inputs, actor, expected_version: int | None = None, **options) -> Outcome:
    """Take one workflow step on a development: `inputs` are what the step needs (the new
    content, a note or reason, a time), in the order its domain function takes them."""
    command = STEP_COMMANDS[step]
    _require_permission(actor, command.permission, command.what)
    if command.takes_content:
        inputs = tuple(_content(given) for given in inputs)
    checks = {"four_eyes": four_eyes_apply_to(actor)} if domain.RULES[step].publishes else {}
    return _run(
        development_id,
        lambda state: command.decide(state, *inputs, actor=_actor_id(actor), **checks),
        actor,
        expected_version,
        **options,
    )


def revise_development(development_id, content, *, actor, **options) -> Outcome:
    return take_step(Step.REVISE, development_id, content, actor=actor, **options)


def submit_development(development_id, *, actor, **options) -> Outcome:
    return take_step(Step.SUBMIT, development_id, actor=actor, **options)


def request_changes(development_id, comment: str, *, actor, **options) -> Outcome:
    return take_step(Step.REQUEST_CHANGES, development_id, comment, actor=actor, **options)


def publish_development(development_id, *, actor, **options) -> Outcome:
    return take_step(Step.PUBLISH, development_id, actor=actor, **options)


def publish_correction(development_id, note: str, *, actor, **options) -> Outcome:
    return take_step(Step.PUBLISH_CORRECTION, development_id, note, actor=actor, **options)


def publish_update(development_id, note: str, *, actor, **options) -> Outcome:
    return take_step(Step.PUBLISH_UPDATE, development_id, note, actor=actor, **options)


def retract_development(development_id, reason: str, *, actor, **options) -> Outcome:
    return take_step(Step.RETRACT, development_id, reason, actor=actor, **options)


def schedule_publication(development_id, publish_at: datetime, *, actor, **options) -> Outcome:
    return take_step(Step.SCHEDULE, development_id, publish_at, actor=actor, **options)


def release_scheduled_publications(now: datetime | None = None) -> int:
    """Publish every development whose scheduled time has come; return how many.

    The publication is recorded in the name of the editor who scheduled it, caused by
    their scheduling event. Safe to run twice: a released development is no longer due.
    """
    from .models import DevelopmentRecord

    now = now or timezone.now()
    released = 0
    due = DevelopmentRecord.objects.filter(publish_at__lte=now, workflow=Workflow.IN_REVIEW)
    for development_id in list(due.values_list("id", flat=True)):
        history = store.read_stream(development_id)
        scheduling = next(e for e in reversed(history) if e.type == PublicationScheduled.type)
        editor = get_user_model().objects.get(pk=scheduling.metadata["actor"]["id"])
        if not (editor.is_active and editor.has_perm("developments.publish_development")):
            _cancel_schedule(development_id, editor, scheduling)
            continue
        try:
            _run(
                development_id,
                lambda s, editor=editor: (
                    domain.publish(s, actor=_actor_id(editor), four_eyes=False)
                    if s.publish_at and s.publish_at <= now
                    else []
                ),
                editor,
                None,
                origin="task",
                causation_id=scheduling.event_id,
            )
            released += 1
        except VersionConflict:
            continue  # changed meanwhile; the next pass sees its new state
    return released


def _cancel_schedule(development_id, editor, scheduling: RecordedEvent) -> None:
    """The editor who scheduled it may no longer publish: send it back instead, and tell the
    editors, so nothing goes out on a right that was taken away."""
    scheduler = system_user("chronicle-scheduler")
    reason = (
        f"The scheduled publication was cancelled: {editor.get_username()}, who scheduled it, "
        "may no longer publish. Submit it again for an editor to publish or schedule."
    )
    try:
        outcome = _run(
            development_id,
            lambda s: domain.request_changes(s, reason, actor=_actor_id(scheduler)) if s.publish_at else [],
            scheduler,
            None,
            origin="task",
            causation_id=scheduling.event_id,
        )
    except VersionConflict:
        return  # changed meanwhile; the next pass sees its new state
    if outcome.changed:
        transaction.on_commit(partial(notifications.schedule_cancelled, development_id, reason))


# -- machinery ---------------------------------------------------------------------------


def _run(
    development_id,
    decide: Callable[[domain.Development], list[Event]],
    actor,
    expected_version: int | None,
    *,
    origin: str = "admin",
    correlation_id: uuid.UUID | None = None,
    causation_id: uuid.UUID | None = None,
) -> Outcome:
    if not isinstance(development_id, uuid.UUID):
        development_id = uuid.UUID(str(development_id))
    for _ in range(DECISIONS):
        start, recent = _start_of(development_id)
        state = start.state
        try:
            if expected_version is not None and expected_version > state.version:
                raise ConflictError(
                    f"You sent version {expected_version}, but this development is at version {state.version}; "
                    "reload it and try again. Nothing was saved.",
                    expected=expected_version,
                    actual=state.version,
                    changes=[],
                )
            if expected_version is not None and expected_version != state.version:
                raise _conflict(store.read_stream(development_id), expected_version)
            events = decide(state)
            if recent and not events:
                continue  # nothing to do, judged by this process's last word: ask the read model
            return _record(development_id, start, events, actor, origin, correlation_id, causation_id)
        except database.DatabaseUnavailable:
            raise  # it may have been recorded: never decide again
        except DomainError:
            if recent:
                continue  # refused on this process's last word: ask the read model before refusing
            raise
        except _StaleAppend:
            if expected_version is not None:
                break
            # Another command appended since the load: decide again on what it left.
    # The version the actor worked from was taken meanwhile: tell them by whom (read after the
    # rollback, so it includes that change).
    raise _conflict(store.read_stream(development_id), state.version)


# How many times a command without an expected version decides again when other commands
# keep appending to its development between its load and its append.
DECISIONS = 5


def _start_of(development_id: uuid.UUID) -> tuple[projections.Start, bool]:
    """Where the development stands, and whether that is this process's last word on it (the
    state its own last command here committed) rather than the read model's."""
    start = _recent.take(development_id)
    if start is not None:
        return start, True
    try:
        start = projections.load(development_id)
    except (OperationalError, InterfaceError) as error:
        if not database.unreachable():
            raise
        raise database.DatabaseUnavailable(recorded=False) from error
    if start is None:
        raise UnknownDevelopment("There is no development with this id.")
    return start, False


class _RecentStates(threading.local):
    """The state each of the last few developments was left in by a command of this thread
    that committed on its own: the next command on it starts there, without a round trip for
    its state. Each is taken once. A state that went stale meanwhile costs nothing but a
    retry: the append states its version, which the log refuses unless it is the stream's
    last; and a refusal or a no-op decided on it is decided again on the read model."""

    SIZE = 256

    def __init__(self) -> None:
        self.states: dict[uuid.UUID, projections.Start] = {}

    def take(self, development_id: uuid.UUID) -> projections.Start | None:
        return self.states.pop(development_id, None)

    def keep(self, development_id: uuid.UUID, start: projections.Start) -> None:
        self.states[development_id] = start
        if len(self.states) > self.SIZE:
            del self.states[next(iter(self.states))]


_recent = _RecentStates()


class _StaleAppend(Exception):
    """The append found its expected version taken: another command appended first."""


def _record(
    development_id: uuid.UUID,
    start: projections.Start | None,
    events: list[Event],
    actor,
    origin: str,
    correlation_id: uuid.UUID | None,
    causation_id: uuid.UUID | None = None,
) -> Outcome:
    """Record `events` in one transaction: the append, stating the version `start` is at, and
    the read models; raise _StaleAppend if that version was taken."""
    if not events:
        return Outcome(development_id, start.state.version if start else 0, [])
    change = Change(development_id, start, events)
    metadata = event_metadata(actor, origin, correlation_id, causation_id)
    try:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            recorded = _commit_alone(change, metadata)
        else:
            with _one_transaction():
                recorded = record_changes([change], metadata=metadata)
    except VersionConflict as conflict:
        raise _StaleAppend from conflict
    except IntegrityError as error:
        if not store.is_stale_append(error):
            raise
        raise _StaleAppend from error
    return Outcome(development_id, recorded[-1].version, recorded)


def _commit_alone(change: Change, metadata: dict[str, Any]) -> list[RecordedEvent]:
    """`record_changes` of one change as a transaction of its own on PostgreSQL: its statements
    (the append, the read models, what feeds and webhooks do with a publication) travel
    together with the commit, so nothing waits for the append's answer (the read-model
    statements resolve the positions it gives)."""
    version = change.start.state.version if change.start else 0
    pending = store.PendingAppend([StreamAppend(change.development_id, version, _new_events(change.events), metadata)])
    projected = [projections.project(pending.events, change.start)]
    starts = {change.development_id: change.start}
    public = _public_changes(pending.events, projected, starts)
    works = _with_publication(public) if public else []
    statements = [pending.statement, *projections.save_statements(projected), *(work.statement for work in works)]
    answers = libpq.commit_together(statements)
    recorded = pending.recorded(answers[0])
    _recent.keep(change.development_id, projected[0].after)
    for work, rows in zip(works, answers[len(answers) - len(works) :], strict=True):
        _after_commit(work, rows, public)
    if public:
        public_events_committed.send(sender=Outcome, **_positioned(public, recorded))
    return recorded


@contextmanager
def _one_transaction() -> Iterator[None]:
    """The command's transaction (a savepoint inside the caller's). If the database goes out
    of reach, say so clearly: nothing was recorded, or, when the connection was lost while
    committing, that it may have been."""
    outermost = not connection.in_atomic_block
    committing = False
    try:
        with transaction.atomic():
            yield
            committing = outermost
    except (OperationalError, InterfaceError) as error:
        if not database.unreachable():
            raise
        raise database.DatabaseUnavailable(recorded=None if committing else False) from error


def _new_events(events: list[Event]) -> list[NewEvent]:
    return [NewEvent(type=event.type, data=event.data()) for event in events]


class Change(NamedTuple):
    """New events the domain decided for one development, from where its read model stood."""

    development_id: uuid.UUID
    start: projections.Start | None
    events: list[Event]


def record_changes(
    changes: list[Change], *, metadata: dict[str, Any] | None = None, actor=None, origin=""
) -> list[RecordedEvent]:
    """Record the domain's events of many developments in the caller's transaction: one
    append, one statement per read-model table, public events announced (`announce`).
    `metadata` is shared by all; without it each change gets its own (`actor`, `origin`)."""
    appends = [
        StreamAppend(
            change.development_id,
            change.start.state.version if change.start else 0,
            _new_events(change.events),
            metadata or event_metadata(actor, origin),
        )
        for change in changes
        if change.events
    ]
    recorded = store.append_streams(appends)
    streams: dict[uuid.UUID, list[RecordedEvent]] = {}
    for event in recorded:
        streams.setdefault(event.stream_id, []).append(event)
    starts = {change.development_id: change.start for change in changes}
    projected = [projections.project(events, starts[stream]) for stream, events in streams.items()]
    projections.save(projected)
    announce(recorded, projected, starts)
    return recorded


def event_metadata(actor, origin: str, correlation_id=None, causation_id=None) -> dict[str, Any]:
    if origin not in ORIGINS:
        raise ValueError(f"origin must be one of {ORIGINS}")
    command_id = uuid.uuid4()
    return {
        "actor": {"id": _actor_id(actor), "username": actor.get_username()},
        "origin": origin,
        "correlation_id": str(correlation_id or command_id),
        "causation_id": str(causation_id or command_id),
    }


def announce(
    recorded: list[RecordedEvent],
    projected: list[projections.Projection],
    starts: dict[uuid.UUID, projections.Start | None],
) -> None:
    """Run what feeds and webhooks do with the public events among `recorded` in the caller's
    transaction, and tell every listener once it commits."""
    public = _public_changes(recorded, projected, starts)
    if public is None:
        return
    for work in _with_publication(public):
        transaction.on_commit(partial(_after_commit, work, libpq.fetch(work.statement), public))
    transaction.on_commit(partial(public_events_committed.send, sender=Outcome, **public))


def _public_changes(
    recorded: list[RecordedEvent],
    projected: list[projections.Projection],
    starts: dict[uuid.UUID, projections.Start | None],
) -> dict[str, Any] | None:
    """What the public-events signals say of `recorded`, or None if none of them is public."""
    if not any(event.type in PUBLIC_EVENT_TYPES for event in recorded):
        return None
    revisions, before = [], {}
    for projection in projected:
        if projection.revision_rows:
            revisions += projection.revisions
            start = starts[projection.record_row["id"]]
            before[projection.record_row["id"]] = start.public_data if start else None
    return _positioned({"events": [], "revisions": revisions, "public_before": before}, recorded)


def _positioned(public: dict[str, Any], recorded: list[RecordedEvent]) -> dict[str, Any]:
    """`public` with the events and positions of `recorded`: the revisions as written, with
    the positions the append gave where the rows held pending ones."""
    position_of = {(event.stream_id, event.version): event.position for event in recorded}
    for revision in public["revisions"]:
        revision.position = position_of.get((revision.development_id, revision.version), revision.position)
    return {**public, "events": [event for event in recorded if event.type in PUBLIC_EVENT_TYPES]}


def _with_publication(public: dict[str, Any]) -> list[WithPublication]:
    return [work for _, works in public_events_recording.send(sender=Outcome, **public) for work in works]


def _after_commit(work: WithPublication, rows: list[tuple], public: dict[str, Any]) -> None:
    """Never raises: the publication has committed."""
    try:
        work.then(rows)
    except Exception:
        events = [f"{event.stream_id} v{event.version}" for event in public["events"]]
        logger.exception("%s failed after public events %s committed", work.then.__qualname__, events)


def _conflict(history: list[RecordedEvent], expected_version: int) -> ConflictError:
    """Describe, for the curator, who changed what since the version they loaded."""
    changes = []
    before = None
    for event in history:
        content = event.data.get("content")
        if event.version > expected_version:
            who = event.metadata["actor"]["username"]
            when = event.recorded_at.strftime("%Y-%m-%d %H:%M UTC")
            what = _describe(event, before)
            changes.append(f"{who} {what} ({when})")
        if content is not None:
            before = content_from_stored(content)
    actual = history[-1].version
    return ConflictError(
        "This development was changed by someone else after you opened it: "
        + "; ".join(changes)
        + ". Your input was not saved; review their changes and save again.",
        expected=expected_version,
        actual=actual,
        changes=changes,
    )


def _describe(event: RecordedEvent, before: Content | None) -> str:
    if event.type == Revised.type:
        fields = changed_fields(before, content_from_stored(event.data["content"]))
        if fields:
            return "changed " + ", ".join(fields)
    known = EVENT_TYPES.get(event.type)
    return known.told if known else event.type


def _content(content: dict[str, Any] | Content) -> Content:
    return content if isinstance(content, Content) else Content.from_dict(content)


def _slugs_for(title: str) -> list[str]:
    """The title's slug, then the same with -2, -3, … for when it is taken."""
    from django.utils.text import slugify

    base = slugify(title)[:80].strip("-") or "development"
    return [base] + [f"{base}-{number}" for number in range(2, 100)]


def _actor_id(actor) -> str:
    return str(actor.pk)


def four_eyes_apply_to(actor) -> bool:
    # A system actor (an import) publishes what it drafted by design; people never do.
    return settings.CHRONICLE_FOUR_EYES and not is_system_user(actor)


def is_system_user(user) -> bool:
    return not user.is_staff and not user.has_usable_password()


def _require_permission(actor, permission: str, what: str) -> None:
    if actor is None or not actor.is_active or not actor.has_perm(f"developments.{permission}"):
        raise NotAllowed(f"You are not allowed to {what}.")
