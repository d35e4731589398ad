"""Loading developments from an import file (format: fixtures/README.md).

The whole file is validated first — against the JSON Schema, then by the domain — and a
file with any bad record loads nothing. Records are then recorded through the command
layer by the system actor "chronicle-import": drafted, submitted and published, so the
event log shows where each came from. A record whose development already says the same is
skipped; one whose content changed is published as a correction when it carries a
`correction_note`, else as an update. `decide` says what one record changes; records are
recorded in batches, one transaction each, so a run that stops part-way keeps whole
batches and the next run goes on from there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import jsonschema
from django.conf import settings
from django.db import transaction

from chronicle.domain import development as domain
from chronicle.domain.content import Content
from chronicle.domain.development import clean_note
from chronicle.domain.errors import DomainError, InvalidContent
from chronicle.domain.events import Event

from . import commands, projections
from .models import DevelopmentRecord

SCHEMA_PATH = settings.BASE_DIR / "fixtures" / "chronicle-import.schema.json"
IMPORT_ACTOR = "chronicle-import"
RECORD_FIELDS = ("key", "correction_note")  # everything else in a record is content


class ImportRecord(NamedTuple):
    key: str
    content: Content
    correction_note: str = ""


@dataclass(frozen=True)
class RecordError:
    index: int
    key: str
    message: str

    def __str__(self) -> str:
        name = f" ({self.key})" if self.key else ""
        return f"record {self.index}{name}: {self.message}"


class ImportFileInvalid(Exception):
    def __init__(self, errors: list[RecordError] | list[str]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} problem(s) in the import file")


@dataclass
class ImportSummary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    corrected: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Keys whose correction_note was not applied: the record was new or had not changed.
    notes_not_applied: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated) + len(self.corrected) + len(self.unchanged)


@cache
def schema() -> dict[str, Any]:
    return json.loads(Path(SCHEMA_PATH).read_text())


def read_import_file(path: Path) -> list[ImportRecord]:
    """Parse and validate a whole import file; raise ImportFileInvalid listing every problem."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ImportFileInvalid([f"{path} does not exist."]) from None
    except UnicodeDecodeError:
        raise ImportFileInvalid([f"{path} is not UTF-8 text."]) from None
    except json.JSONDecodeError as error:
        raise ImportFileInvalid(
            [f"{path} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."]
        ) from None
    except ValueError as error:  # e.g. an integer too long to read
        raise ImportFileInvalid([f"{path} is not valid JSON: {error}"]) from None

    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    if not isinstance(document, dict) or not isinstance(document.get("developments"), list):
        raise ImportFileInvalid(['The file must be an object with a "developments" list (see fixtures/README.md).'])
    errors: list[RecordError] = []
    # Per record: field -> schema messages. The domain's message for a field is clearer than a
    # regex mismatch, so where both complain about the same field, the domain's wins.
    schema_errors: dict[int, dict[str, list[str]]] = {}
    for error in validator.iter_errors(document):
        path_parts = list(error.absolute_path)
        if len(path_parts) >= 2 and path_parts[0] == "developments" and isinstance(path_parts[1], int):
            where = ".".join(str(part) for part in path_parts[2:])
            message = error.message
            if error.validator == "pattern":
                hint = error.schema.get("description", "")
                message = f"{error.instance!r} is not in the expected form{'; ' + hint if hint else ''}"
            fields = schema_errors.setdefault(path_parts[1], {})
            fields.setdefault(str(path_parts[2]) if len(path_parts) > 2 else "", []).append(
                f"{where + ': ' if where else ''}{message}"
            )
        else:
            errors.append(RecordError(-1, "", f"{'.'.join(map(str, path_parts)) or 'file'}: {error.message}"))

    records: list[ImportRecord] = []
    seen: dict[str, int] = {}
    for index, record in enumerate(document["developments"]):
        if not isinstance(record, dict):
            errors.extend(RecordError(index, "", m) for ms in schema_errors.get(index, {}).values() for m in ms)
            continue
        key = str(record.get("key", ""))
        record_schema_errors = schema_errors.get(index, {})
        domain_errors: dict[str, list[str]] = {}
        content = None
        try:
            content = Content.from_dict({name: value for name, value in record.items() if name not in RECORD_FIELDS})
        except InvalidContent as error:
            domain_errors = error.errors
        note = record.get("correction_note")
        if isinstance(note, str):
            try:
                note = clean_note(note, "is empty; leave it out or say what was corrected.")
            except DomainError as error:
                domain_errors["correction_note"] = [error.message]
        explained = {name.split("[")[0].split(".")[0] for name in domain_errors}
        for name, messages in record_schema_errors.items():
            if name not in explained:
                errors.extend(RecordError(index, key, message) for message in messages)
        errors.extend(RecordError(index, key, f"{name}: {' '.join(msgs)}") for name, msgs in domain_errors.items())
        if record_schema_errors or content is None:
            continue
        if key in seen:
            errors.append(RecordError(index, key, f"the key is already used by record {seen[key]}."))
            continue
        seen[key] = index
        records.append(ImportRecord(key, content, note or ""))
    in_file = {record.get("key") for record in document["developments"] if isinstance(record, dict)}
    errors.extend(_unknown_related(records, seen, in_file))
    if errors:
        raise ImportFileInvalid(sorted(errors, key=lambda e: e.index))
    return records


def _unknown_related(records: list[ImportRecord], indexes: dict[str, int], in_file: set) -> list[RecordError]:
    """A record may relate to another record of the file or to a development already recorded."""
    named = {slug for record in records for slug in record.content.related}
    elsewhere = named - in_file
    recorded = DevelopmentRecord.objects.filter(slug__in=elsewhere).values_list("slug", flat=True) if elsewhere else []
    known = in_file | set(recorded)
    errors = []
    for record in records:
        key = record.key
        if key in record.content.related:
            errors.append(RecordError(indexes[key], key, "related: a record cannot be related to itself."))
        for slug in record.content.related:
            if slug not in known:
                message = f"related: “{slug}” is neither a record of this file nor a recorded development."
                errors.append(RecordError(indexes[key], key, message))
    return errors


BATCH_SIZE = 500


def load(
    records: list[ImportRecord],
    *,
    source_name: str,
    on_record: Callable[[], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportSummary:
    """Record the file's developments, `batch_size` records per transaction; idempotent.

    Each batch commits on its own, so an interrupted run keeps what it loaded and a second
    run goes on from there (what the first loaded is then unchanged), ending as one
    uninterrupted run would have.
    """
    actor = commands.system_user(IMPORT_ACTOR)
    summary = ImportSummary()
    for start in range(0, len(records), batch_size):
        batch = records[start : start + batch_size]
        for record, outcome in zip(batch, _load_batch(batch, actor, source_name), strict=True):
            getattr(summary, outcome).append(record.key)
            if record.correction_note and outcome != "corrected":
                summary.notes_not_applied.append(record.key)
            if on_record:
                on_record()
    return summary


def decide(record: ImportRecord, state: domain.Development | None, *, actor: str, source_name: str) -> Decision:
    """What one record changes, as the domain decides it: the outcome and the events in order.

    `state` is the development as recorded (None when it is new); the import publishes what
    it drafts (no four-eyes rule for the import's own system actor).
    """
    key, content = record.key, record.content
    if state is None:
        steps: list[Step] = [
            lambda s: domain.draft(key, content, actor=actor),
            lambda s: domain.submit(s, actor=actor),
            lambda s: domain.publish(s, actor=actor, four_eyes=False),
        ]
        return Decision("created", _in_turn(None, steps))
    if state.published == content and not state.has_pending_revision:
        return Decision("unchanged", [])
    steps = [lambda s: domain.revise(s, content, actor=actor), lambda s: domain.submit(s, actor=actor)]
    if state.published is None:
        outcome = "updated"
        steps.append(lambda s: domain.publish(s, actor=actor, four_eyes=False))
    elif record.correction_note:
        outcome = "corrected"
        steps.append(lambda s: domain.publish_correction(s, record.correction_note, actor=actor, four_eyes=False))
    else:
        outcome = "updated"
        note = f"Updated from the import file {source_name}."
        steps.append(lambda s: domain.publish_update(s, note, actor=actor, four_eyes=False))
    return Decision(outcome, _in_turn(state, steps))


Step = Callable[[Any], list[Event]]


class Decision(NamedTuple):
    outcome: str  # "created", "updated", "corrected" or "unchanged"
    events: list[Event]


def _in_turn(state: domain.Development | None, steps: list[Step]) -> list[Event]:
    """Run the domain's steps one after the other, each on the state the previous left."""
    events: list[Event] = []
    for step in steps:
        new = step(state)
        for event in new:
            state = domain.apply(state, event)
        events += new
    return events


def _load_batch(batch: list[ImportRecord], actor, source_name: str) -> list[str]:
    """One transaction: the batch's states in one query, the domain's decisions, every event
    in one append and every read model in one statement per table."""
    with transaction.atomic():
        ids = [commands.development_id_for(record.key) for record in batch]
        starts = projections.load_many(ids)
        decisions = [
            decide(
                record,
                start.state if (start := starts.get(development_id)) else None,
                actor=str(actor.pk),
                source_name=source_name,
            )
            for record, development_id in zip(batch, ids, strict=True)
        ]
        commands.record_changes(
            [
                commands.Change(development_id, starts.get(development_id), decision.events)
                for development_id, decision in zip(ids, decisions, strict=True)
            ],
            actor=actor,
            origin="fixture",
        )
    return [decision.outcome for decision in decisions]
