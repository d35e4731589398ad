"""Bulk exports: the public record as a Frictionless Data Package.

A package is cut at one log position. Every table is read with `position <= cut`, and the
rows at or below a position never change once that position is visible (the log has no
holes behind a reader), so the package is consistent however many publications commit
while it is written, on PostgreSQL and on SQLite alike, without holding a snapshot open.
Rows are streamed from the database and written as they come, so memory does not grow
with the chronicle.

The nightly package goes to EXPORTS_ROOT/<time>/, written under a temporary name and
renamed when complete, so `/exports/latest/` only ever sees whole packages.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.db.models import Max, OuterRef, Subquery, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from frictionless import Package

from chronicle import published
from chronicle.api.serializers import last_revision
from chronicle.developments.models import PublicRevision
from chronicle.domain import edtf, vocabulary
from chronicle.domain.content import country_name
from chronicle.domain.events import REVISION_KINDS, RevisionKind
from chronicle.domain.vocabulary import TOPICS
from chronicle.eventstore.models import Event
from chronicle.eventstore.visibility import visible

from . import tables

DESCRIPTOR = "datapackage.json"
FILES = {
    "developments": "developments.csv",
    "developments_ndjson": "developments.ndjson",
    "sources": "sources.csv",
    "actors": "actors.csv",
    "amounts": "amounts.csv",
    "countries": "countries.csv",
    "topics": "topics.csv",
    "events": "events.ndjson.gz",
}
EVENT_TYPES = {kind: name for name, kind in REVISION_KINDS.items()}
CHUNK = 2000
NIGHTLY_NAME = re.compile(r"^\d{8}T\d{6}Z$")


@dataclass(frozen=True)
class Cut:
    """The log position a package is cut at, and the time it stands for."""

    position: int
    as_of: datetime


@dataclass(frozen=True)
class Summary:
    directory: Path
    cut: Cut
    developments: int
    events: int
    rows: int  # every row of every table

    def __str__(self) -> str:
        return (
            f"Exported {self.developments} developments and {self.events} public events at position "
            f"{self.cut.position} (as of {_time(self.cut.as_of)}) to {self.directory}"
        )


def cut_at(as_of: datetime | None = None) -> Cut:
    """The last log position recorded by `as_of` (default: now)."""
    as_of = as_of or timezone.now()
    position = (
        visible(Event.objects.filter(recorded_at__lte=as_of))
        .order_by("-position")
        .values_list("position", flat=True)
        .first()
    )
    return Cut(position or 0, as_of)


def count_rows(cut: Cut) -> int:
    """How many rows `write_package` streams for `cut` (developments, then events), for progress."""
    revisions = PublicRevision.objects.filter(position__lte=cut.position)
    return revisions.values("development_id").distinct().count() + revisions.count()


def write_package(
    directory: Path,
    cut: Cut,
    *,
    on_progress: Callable[[int], None] | None = None,
) -> Summary:
    """Write the package of `cut` into `directory` (created if needed); return what it holds.

    Each file is written under a temporary name and renamed, `datapackage.json` last, so a
    reader that finds the descriptor finds every file it names complete.
    """
    directory.mkdir(parents=True, exist_ok=True)
    progress = on_progress or (lambda count: None)
    with _Files(directory) as files:
        developments, rows = _write_developments(files, cut, progress)
        events = _write_events(files.gzip(FILES["events"]), cut, progress)
    rows += events
    _write_descriptor(directory, cut)
    return Summary(directory, cut, developments, events, rows)


def _latest_revisions(cut: Cut) -> Iterator[tuple]:
    latest = (
        PublicRevision.objects.filter(position__lte=cut.position)
        .values("development_id")
        .annotate(last=Max("position"))
        .values("last")
    )
    return (
        PublicRevision.objects.filter(position__in=Subquery(latest))
        .order_by("development_id")
        .values_list(
            "development_id",
            "development__slug",
            "development__first_published_at",
            "position",
            "kind",
            "note",
            "recorded_at",
            "content",
        )
        .iterator(chunk_size=CHUNK)
    )


def _write_developments(files: _Files, cut: Cut, progress: Callable[[int], None]) -> tuple[int, int]:
    writers = {table.name: files.csv(FILES[table.name], table.header) for table in tables.CSV_TABLES}
    documents = files.text(FILES["developments_ndjson"])
    developments = rows = 0
    for development_id, slug, first_published_at, position, kind, note, recorded_at, content in _latest_revisions(cut):
        document = _document(str(development_id), slug, first_published_at, position, kind, note, recorded_at, content)
        writers["developments"].writerow(_development_row(document))
        documents.write(json.dumps(document, ensure_ascii=False) + "\n")
        children = _children(document)
        for table, table_rows in children.items():
            writers[table].writerows(table_rows)
            rows += len(table_rows)
        developments += 1
        rows += 1
        progress(1)
    return developments, rows


def _document(development_id, slug, first_published_at, position, kind, note, recorded_at, content) -> dict:
    retracted = kind == RevisionKind.RETRACTED
    facts: dict[str, Any] = {
        "summary": "",
        "kind": "",
        "stage": "",
        "date": "",
        "date_earliest": "",
        "date_latest": "",
        "countries": [],
        "topics": [],
        "actors": [],
        "amounts": [],
        "places": [],
        "sources": [],
    }
    if not retracted:
        span = edtf.parse(content["date"])
        facts = {
            "summary": content.get("summary", ""),
            "kind": content["kind"],
            "stage": content.get("stage") or "",
            "date": content["date"],
            "date_earliest": span.earliest.isoformat(),
            "date_latest": span.latest.isoformat(),
            "countries": list(content["countries"]),
            "topics": list(content["topics"]),
            "actors": content.get("actors", []),
            "amounts": content.get("amounts", []),
            "places": content.get("places", []),
            "sources": content.get("sources", []),
        }
    return {
        "id": development_id,
        "slug": slug,
        "status": tables.RETRACTED if retracted else "published",
        "title": content["title"] if content else "",
        **facts,
        "retraction_reason": note if retracted else "",
        "first_published_at": _time(first_published_at),
        "last_revision": last_revision(
            PublicRevision(position=position, kind=kind, note=note, recorded_at=recorded_at)
        ),
        "page_url": published.development_url(slug),
        "api_url": published.api_development_url(development_id),
    }


def _development_row(document: dict) -> list:
    last = document["last_revision"]
    flat = {
        **document,
        "countries": " ".join(document["countries"]),
        "topics": " ".join(document["topics"]),
        "last_revision_kind": last["kind"],
        "last_revision_note": last["note"],
        "last_revision_recorded_at": last["recorded_at"],
        "last_revision_position": last["position"],
    }
    return [flat[name] for name in tables.DEVELOPMENTS.header]


def _children(document: dict) -> dict[str, list[list]]:
    development_id = document["id"]
    return {
        "sources": [
            [development_id, number, *(source.get(name, "") for name in tables.SOURCES.header[2:])]
            for number, source in enumerate(document["sources"], start=1)
        ],
        "actors": [
            [development_id, actor["name"], actor["role"]]
            for actor in {(a["name"], a["role"]): a for a in document["actors"]}.values()
        ],
        "amounts": [
            [development_id, number, *(amount.get(name, "") for name in tables.AMOUNTS.header[2:])]
            for number, amount in enumerate(document["amounts"], start=1)
        ],
        "countries": [[development_id, code, country_name(code)] for code in document["countries"]],
        "topics": [[development_id, slug, vocabulary.label(TOPICS, slug)] for slug in document["topics"]],
    }


def _write_events(out: TextIO, cut: Cut, progress: Callable[[int], None]) -> int:
    rows = (
        PublicRevision.objects.filter(position__lte=cut.position)
        .annotate(
            event_id=Subquery(Event.objects.filter(position=OuterRef("position")).values("event_id")[:1]),
            # The stored JSON as text: written as it is instead of decoded and encoded again.
            content_text=Cast("content", output_field=TextField()),
        )
        .order_by("position")
        .values_list(
            "position", "event_id", "kind", "development_id", "development__slug", "version", "recorded_at", "note",
            "content_text",
        )
        .iterator(chunk_size=CHUNK)
    )  # fmt: skip
    count = 0
    for position, event_id, kind, development_id, slug, version, recorded_at, note, content in rows:
        head = {
            "position": position,
            "event_id": str(event_id),
            "type": EVENT_TYPES[kind],
            "kind": kind,
            "development_id": str(development_id),
            "slug": slug,
            "version": version,
            "recorded_at": _time(recorded_at),
            "note": note,
        }
        retracted = kind == RevisionKind.RETRACTED
        out.write(f'{json.dumps(head, ensure_ascii=False)[:-1]}, "content": {"null" if retracted else content}}}\n')
        count += 1
        progress(1)
    return count


def _write_descriptor(directory: Path, cut: Cut) -> None:
    resources = [table.resource(FILES[table.name]) for table in tables.CSV_TABLES]
    resources.insert(1, tables.DEVELOPMENT_DOCUMENTS.resource(FILES["developments_ndjson"], format="ndjson"))
    resources.append(tables.EVENTS.resource(FILES["events"], format="ndjson", compression="gz"))
    package = Package(
        name="chronicle",
        title="Chronicle of cooperation developments",
        description=(
            "Every published development as of the log position named in `chronicle.position`, with its "
            "sources, actors, amounts, countries and topics, and every public event up to that position."
        ),
        homepage=settings.SITE_URL + "/",
        licenses=[],
        resources=resources,
    )
    descriptor = package.to_descriptor()
    descriptor.pop("licenses", None)
    descriptor["created"] = _time(timezone.now())
    # Where this package stands in the log: resume /api/v1/events/?after=<position> from here.
    descriptor["chronicle"] = {"position": cut.position, "as_of": _time(cut.as_of)}
    _replace(directory / DESCRIPTOR, json.dumps(descriptor, indent=2, ensure_ascii=False).encode())


class _Files:
    """Files written under temporary names, renamed into place only if every one was written."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.open: list[tuple[Any, Path, Path]] = []

    def __enter__(self) -> _Files:
        return self

    def _temporary(self, name: str) -> Path:
        descriptor, path = tempfile.mkstemp(dir=self.directory, prefix=f".{name}.", suffix=".tmp")
        os.close(descriptor)
        return Path(path)

    def text(self, name: str) -> TextIO:
        temporary = self._temporary(name)
        file = temporary.open("w", encoding="utf-8", newline="")
        self.open.append((file, temporary, self.directory / name))
        return file

    def csv(self, name: str, header: list[str]):
        writer = csv.writer(self.text(name), lineterminator="\r\n")
        writer.writerow(header)
        return writer

    def gzip(self, name: str) -> TextIO:
        temporary = self._temporary(name)
        # Level 6: nearly the size of 9 at a fraction of the time.
        file = gzip.open(temporary, "wt", encoding="utf-8", newline="", compresslevel=6)  # noqa: SIM115 (closed in __exit__)
        self.open.append((file, temporary, self.directory / name))
        return file

    def __exit__(self, error_type, error, traceback) -> None:
        for file, _, _ in self.open:
            file.close()
        for _, temporary, final in self.open:
            if error_type is None:
                os.chmod(temporary, 0o644)
                os.replace(temporary, final)
            else:
                temporary.unlink(missing_ok=True)


def _replace(path: Path, content: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -- the nightly package -----------------------------------------------------------------


def write_nightly(now: datetime | None = None) -> Summary:
    """Write a package under EXPORTS_ROOT and remove those older than EXPORTS_KEEP_DAYS."""
    now = now or timezone.now()
    root = Path(settings.EXPORTS_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    name = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    partial = Path(tempfile.mkdtemp(dir=root, prefix=f".{name}.", suffix=".partial"))
    try:
        summary = write_package(partial, cut_at(now))
        os.chmod(partial, 0o755)  # noqa: S103 (mkdtemp makes it 0700; the web server must read it)
        final = root / name
        os.replace(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    prune(now)
    return Summary(final, summary.cut, summary.developments, summary.events, summary.rows)


def nightly_packages() -> list[Path]:
    """The complete nightly packages, oldest first."""
    root = Path(settings.EXPORTS_ROOT)
    if not root.is_dir():
        return []
    return sorted(path for path in root.iterdir() if path.is_dir() and NIGHTLY_NAME.match(path.name))


def latest_package() -> Path | None:
    packages = nightly_packages()
    return packages[-1] if packages else None


def prune(now: datetime | None = None) -> int:
    """Remove nightly packages older than EXPORTS_KEEP_DAYS (never the latest); return how many."""
    now = now or timezone.now()
    cutoff = (now - timedelta(days=settings.EXPORTS_KEEP_DAYS)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    removed = 0
    for path in nightly_packages()[:-1]:
        if path.name < cutoff:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    # A run killed mid-write leaves its partial directory behind.
    for partial in Path(settings.EXPORTS_ROOT).glob(".*.partial"):
        if partial.name[1:].split(".")[0] < cutoff:
            shutil.rmtree(partial, ignore_errors=True)
    return removed
