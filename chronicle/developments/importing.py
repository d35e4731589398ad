"""Loading developments from an import file (format: fixtures/README.md).

The whole file is validated first — against the JSON Schema, then by the domain — and a
file with any bad record loads nothing. Records are then recorded by the system actor
"chronicle-import": drafted, submitted and published, so the event log shows where each
came from. A record whose development already says the same is skipped; one whose content
changed is published as a correction when it carries a `correction_note`, else as an
update. `decide` says what one record changes; records are recorded in batches, one
transaction each, so a run that stops part-way keeps whole batches and the next run goes on
from there, and says so.

The file is read twice, a record at a time (to validate, then to load), so memory does not
grow with its length.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, partial
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple, TextIO

import jsonschema
import jsonschema_rs
from django.conf import settings
from django.db import transaction

from chronicle.domain import development as domain
from chronicle.domain.content import Content, content_from_stored
from chronicle.domain.development import clean_note, development_id_for
from chronicle.domain.errors import DomainError, InvalidContent
from chronicle.domain.events import Event
from chronicle.eventstore import store
from chronicle.eventstore.models import Event as LoggedEvent
from chronicle.eventstore.store import NewEvent, StreamAppend

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
    created: int = 0
    updated: int = 0
    corrected: int = 0
    unchanged: int = 0
    # Of the unchanged, those an earlier run of the same file loaded before it stopped.
    resumed: int = 0
    # Keys whose correction_note was not applied: the record was new or had not changed.
    notes_not_applied: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.corrected + self.unchanged


@cache
def schema() -> dict[str, Any]:
    return json.loads(Path(SCHEMA_PATH).read_text())


@dataclass(frozen=True)
class _Validators:
    document: jsonschema.Draft202012Validator  # the file around the records
    record: jsonschema.Draft202012Validator  # one record, with messages
    record_is_valid: Callable[[Any], bool]  # one record, yes or no, a hundred times faster


@cache
def _validators() -> _Validators:
    whole = schema()
    record_schema = {"$defs": whole["$defs"], "$ref": "#/$defs/development"}
    checker = jsonschema.FormatChecker()
    # The compiled validator answers for the records that pass (nearly all); jsonschema
    # words the problems of the others. It is given jsonschema's format checks, so it
    # never passes a record that jsonschema would refuse.
    formats = {name: partial(checker.conforms, format=name) for name in checker.checkers}
    compiled = jsonschema_rs.Draft202012Validator(record_schema, validate_formats=True, formats=formats)
    return _Validators(
        jsonschema.Draft202012Validator(whole, format_checker=checker),
        jsonschema.Draft202012Validator(record_schema, format_checker=checker),
        compiled.is_valid,
    )


@dataclass
class ImportFile:
    """A validated import file. Its records, as validated, wait in a temporary file and are
    read back one at a time: memory does not grow with the file, and what loads is exactly
    what was checked, even if the file changes meanwhile."""

    path: Path
    count: int
    digest: str  # SHA-256 of the text: what makes a second run "the same file"
    spool: TextIO

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[ImportRecord]:
        self.spool.seek(0)
        for line in self.spool:
            key, content, note = json.loads(line)
            yield ImportRecord(key, content_from_stored(content), note)

    @property
    def correlation_id(self) -> uuid.UUID:
        """Shared by every event that importing this file records, whichever run records it."""
        return uuid.uuid5(domain.NAMESPACE, f"import:{self.digest}")


def read_import_file(path: Path) -> ImportFile:
    """Validate a whole import file; raise ImportFileInvalid listing every problem."""
    spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (the ImportFile keeps it open)
    try:
        return _read(Path(path), spool)
    except BaseException:
        spool.close()
        raise


def _read(path: Path, spool: TextIO) -> ImportFile:
    top: dict[str, Any] = {}
    checked = _Checked(spool)
    with _read_errors(path):
        try:
            checked.check_all(_stream(path, top, checked.digest))
        except _Unusual:  # e.g. broken JSON: read whole, it gives the exact message
            spool.seek(0)
            spool.truncate()
            top, checked = {}, _Checked(spool)
            checked.check_all(_whole(path, top, checked.digest))
    if not isinstance(top.get("developments"), list):
        raise ImportFileInvalid(['The file must be an object with a "developments" list (see fixtures/README.md).'])
    errors = checked.errors
    for error in _validators().document.iter_errors(top):  # the records were checked one by one
        errors.append(RecordError(-1, "", f"{'.'.join(map(str, error.absolute_path)) or 'file'}: {error.message}"))
    errors += _unknown_related(checked.related, checked.in_file)
    if errors:
        raise ImportFileInvalid(sorted(errors, key=lambda e: e.index))
    return ImportFile(path, len(checked.seen), checked.digest.hexdigest(), spool)


@contextmanager
def _read_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except FileNotFoundError:
        raise ImportFileInvalid([f"{path} does not exist."]) from None
    except UnicodeDecodeError:
        raise ImportFileInvalid([f"{path} is not UTF-8 text."]) from None


class _Checked:
    """Checks records one by one, spooling the valid ones; keeps only what checking the
    file as a whole needs (keys, related keys, problems), little whatever the records' size."""

    def __init__(self, spool: TextIO) -> None:
        self.spool = spool
        self.digest = hashlib.sha256()
        self.seen: dict[str, int] = {}  # key -> index, of the valid records
        self.in_file: set[str] = set()  # the keys of every record, valid or not
        self.related: list[tuple[int, str, tuple[str, ...]]] = []
        self.errors: list[RecordError] = []

    def check_all(self, raws: Iterable[Any]) -> None:
        validators = _validators()
        for index, raw in enumerate(raws):
            if isinstance(raw, dict) and isinstance(raw.get("key"), str):
                self.in_file.add(raw["key"])
            record, errors = _check(index, raw, validators)
            self.errors += errors
            if record is None:
                continue
            key = record.key
            if key in self.seen:
                self.errors.append(RecordError(index, key, f"the key is already used by record {self.seen[key]}."))
                continue
            self.seen[key] = index
            if record.content.related:
                self.related.append((index, key, record.content.related))
            self.spool.write(json.dumps([key, record.content.to_dict(), record.correction_note]) + "\n")


def _check(index: int, raw: Any, validators: _Validators) -> tuple[ImportRecord | None, list[RecordError]]:
    """One record, checked against the schema and by the domain."""
    # Field -> schema messages. The domain's message for a field is clearer than a regex
    # mismatch, so where both complain about the same field, the domain's wins.
    schema_errors: dict[str, list[str]] = {}
    if not validators.record_is_valid(raw):
        for error in validators.record.iter_errors(raw):
            path_parts = list(error.absolute_path)
            where = ".".join(str(part) for part in path_parts)
            message = error.message
            if error.validator == "pattern":
                hint = error.schema.get("description", "")
                message = f"{error.instance!r} is not in the expected form{'; ' + hint if hint else ''}"
            schema_errors.setdefault(str(path_parts[0]) if path_parts else "", []).append(
                f"{where + ': ' if where else ''}{message}"
            )
    if not isinstance(raw, dict):
        return None, [RecordError(index, "", m) for ms in schema_errors.values() for m in ms]
    key = str(raw.get("key", ""))
    errors: list[RecordError] = []
    domain_errors: dict[str, list[str]] = {}
    content = None
    try:
        content = Content.from_dict({name: value for name, value in raw.items() if name not in RECORD_FIELDS})
    except InvalidContent as error:
        domain_errors = error.errors
    note = raw.get("correction_note")
    if isinstance(note, str):
        try:
            note = clean_note(note, "is empty; leave it out or say what was corrected.")
        except DomainError as error:
            domain_errors["correction_note"] = [error.message]
    explained = {name.split("[")[0].split(".")[0] for name in domain_errors}
    for name, messages in schema_errors.items():
        if name not in explained:
            errors.extend(RecordError(index, key, message) for message in messages)
    errors.extend(RecordError(index, key, f"{name}: {' '.join(msgs)}") for name, msgs in domain_errors.items())
    if schema_errors or content is None:
        return None, errors
    return ImportRecord(key, content, note or ""), errors


def _unknown_related(related: list[tuple[int, str, tuple[str, ...]]], in_file: set[str]) -> list[RecordError]:
    """A record may relate to another record of the file or to a development already recorded."""
    named = {slug for _, _, slugs in related for slug in slugs}
    elsewhere = named - in_file
    recorded = DevelopmentRecord.objects.filter(slug__in=elsewhere).values_list("slug", flat=True) if elsewhere else []
    known = in_file | set(recorded)
    errors = []
    for index, key, slugs in related:
        if key in slugs:
            errors.append(RecordError(index, key, "related: a record cannot be related to itself."))
        for slug in slugs:
            if slug not in known:
                message = f"related: “{slug}” is neither a record of this file nor a recorded development."
                errors.append(RecordError(index, key, message))
    return errors


# -- reading the file a record at a time -------------------------------------------------

CHUNK_CHARACTERS = 1 << 20
_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


class _Unusual(Exception):
    """Not laid out as `_stream` reads it (or not JSON at all): read the file whole instead."""


def _stream(path: Path, top: dict[str, Any], digest: Any) -> Iterator[Any]:
    """Yield the records of the file's "developments" list one by one, each decoded by the
    json module as `json.loads` would; put the file's other top-level values in `top` (and
    an empty list for "developments"). Raise _Unusual for anything else, e.g. a key twice."""
    with open(path, encoding="utf-8") as handle:
        text = _Text(handle, digest)
        text.expect("{")
        while text.peek() != "}":  # a comma never comes last (nor does `json` allow it)
            key = text.value()
            text.expect(":")
            if not isinstance(key, str) or key in top:
                raise _Unusual
            if key == "developments" and text.peek() == "[":
                top[key] = []
                text.expect("[")
                while text.peek() != "]":
                    yield text.value()
                    if text.peek() != "]":
                        text.expect(",", before_more=True)
                text.expect("]")
            else:
                top[key] = text.value()
            if text.peek() != "}":
                text.expect(",", before_more=True)
        text.expect("}")
        if text.peek():
            raise _Unusual


class _Text:
    """A text file read a chunk at a time; `at` is where reading is in `buffer`."""

    def __init__(self, handle: TextIO, digest: Any) -> None:
        self.handle, self.digest = handle, digest
        self.buffer, self.at, self.ended = "", 0, False

    def _more(self) -> bool:
        chunk = "" if self.ended else self.handle.read(CHUNK_CHARACTERS)
        if not chunk:
            self.ended = True
            return False
        self.digest.update(chunk.encode())
        self.buffer = self.buffer[self.at :] + chunk
        self.at = 0
        return True

    def peek(self) -> str:
        """The next character that is not white space ("" at the end), not consumed."""
        while True:
            self.at = _SPACE.match(self.buffer, self.at).end()  # type: ignore[union-attr]
            if self.at < len(self.buffer):
                return self.buffer[self.at]
            if not self._more():
                return ""

    def expect(self, character: str, *, before_more: bool = False) -> None:
        """Consume `character`; with `before_more` (a comma), something other than a closing
        bracket must follow."""
        if self.peek() != character:
            raise _Unusual
        self.at += 1
        if before_more and self.peek() in ("]", "}", ""):
            raise _Unusual

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buffer, self.at)
            except json.JSONDecodeError:
                end = -1  # perhaps cut off by the end of the buffer
            except ValueError:
                raise _Unusual from None  # e.g. an integer too long to read
            # A value that ends with the buffer may go on in the next chunk (a number).
            if 0 <= end < len(self.buffer) or (end >= 0 and self.ended):
                self.at = end
                return value
            if not self._more() and end < 0:
                raise _Unusual


def _whole(path: Path, top: dict[str, Any], digest: Any) -> Iterator[Any]:
    """`_stream` for a file that is not laid out as it reads: parsed whole, as before."""
    text = Path(path).read_text(encoding="utf-8")
    digest.update(text.encode())
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportFileInvalid(
            [f"{path} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."]
        ) from None
    except ValueError as error:  # e.g. an integer too long to read
        raise ImportFileInvalid([f"{path} is not valid JSON: {error}"]) from None
    if not isinstance(document, dict):
        return
    top.update(document)
    records = document.get("developments")
    if isinstance(records, list):
        top["developments"] = []
        yield from records


# -- loading -----------------------------------------------------------------------------

BATCH_SIZE = 500


def load(
    records: ImportFile,
    *,
    source_name: str,
    on_record: Callable[[], None] | None = None,
    on_resume: Callable[[int, int], None] | None = None,
    batch_size: int | None = None,
) -> ImportSummary:
    """Record the file's developments, `batch_size` (BATCH_SIZE) records per transaction; idempotent.

    Each batch commits on its own, so an interrupted run keeps what it loaded and a second
    run goes on from there (what the first loaded is then unchanged), ending as one
    uninterrupted run would have. When it does, `on_resume(already_loaded, total)` is told
    as soon as that shows (with the batch where the earlier run stopped).
    """
    actor = commands.system_user(IMPORT_ACTOR)
    summary = ImportSummary()
    leading, last_leading = 0, ""  # the records at the start already as the file has them
    looking = True  # for the first record that is not
    records_left = iter(records)
    while batch := list(islice(records_left, batch_size or BATCH_SIZE)):
        outcomes = _load_batch(batch, actor, source_name, records.correlation_id)
        for record, outcome in zip(batch, outcomes, strict=True):
            setattr(summary, outcome, getattr(summary, outcome) + 1)
            if record.correction_note and outcome != "corrected":
                summary.notes_not_applied.append(record.key)
            if on_record:
                on_record()
            if looking and outcome == "unchanged":
                leading, last_leading = leading + 1, record.key
            elif looking:
                looking = False
                # Did an earlier run of this same file stop right after loading those?
                if leading and _loaded_by(last_leading, records.correlation_id):
                    summary.resumed = leading
                    if on_resume:
                        on_resume(leading, len(records))
    return summary


def _loaded_by(key: str, correlation_id: uuid.UUID) -> bool:
    """Whether importing the file of `correlation_id` recorded events of the development at `key`."""
    events = LoggedEvent.objects.filter(stream_id=development_id_for(key))
    return events.filter(metadata__correlation_id=str(correlation_id)).exists()


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


def _load_batch(batch: list[ImportRecord], actor, source_name: str, correlation_id: uuid.UUID) -> list[str]:
    """One transaction: the batch's states in one query, the domain's decisions, every event
    in one COPY, the read models of new developments in one COPY per table and of the others
    in one statement per table; public events announced once it commits."""
    with transaction.atomic():
        ids = [development_id_for(record.key) for record in batch]
        starts = projections.load_many(ids)
        appends, outcomes = [], []
        for record, development_id in zip(batch, ids, strict=True):
            start = starts.get(development_id)
            decision = decide(record, start.state if start else None, actor=str(actor.pk), source_name=source_name)
            outcomes.append(decision.outcome)
            if decision.events:
                events = [NewEvent(type=event.type, data=event.data()) for event in decision.events]
                metadata = commands.event_metadata(actor, "fixture", correlation_id)
                appends.append(StreamAppend(development_id, start.state.version if start else 0, events, metadata))
        recorded = store.append_copied(appends)
        streams: dict[uuid.UUID, list[store.RecordedEvent]] = {}
        for event in recorded:
            streams.setdefault(event.stream_id, []).append(event)
        projected = [projections.project(events, starts.get(stream)) for stream, events in streams.items()]
        projections.insert_new([p for p in projected if p.record_row["id"] not in starts])
        projections.save([p for p in projected if p.record_row["id"] in starts])
        commands.announce(recorded, projected, {stream: starts.get(stream) for stream in streams})
    return outcomes
