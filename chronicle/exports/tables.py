"""The tables of an export and their Table Schemas (Frictionless Data Package).

Each table is written from the same rows: one public revision per development, the latest
at the package's log position. A column list here is the one place a table's shape is
stated: the CSV header, the row builder and the schema all follow it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from frictionless import Resource, Schema, fields

RETRACTED = "retracted"


def _string(name: str, description: str, **constraints: Any) -> fields.StringField:
    return fields.StringField(name=name, description=description, constraints=constraints)


def _development_id() -> fields.StringField:
    return _string("development_id", "The development (developments.id).", required=True)


def _belongs_to_development() -> list[dict]:
    return [{"fields": ["development_id"], "reference": {"resource": "developments", "fields": ["id"]}}]


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: list[fields.Field]
    primary_key: list[str]
    foreign_keys: list[dict] = field(default_factory=list)

    @property
    def header(self) -> list[str]:
        return [column.name for column in self.columns]

    def resource(self, path: str, **options: Any) -> Resource:
        schema = Schema(fields=list(self.columns), primary_key=self.primary_key, foreign_keys=self.foreign_keys)
        return Resource(name=self.name.replace("_", "-"), title=self.title, path=path, schema=schema, **options)


DEVELOPMENT_COLUMNS: list[fields.Field] = [
    _string("id", "UUID, never reused.", required=True, unique=True),
    _string("slug", "Its address on the site: /developments/<slug>/.", required=True),
    _string("status", "published, or retracted (a tombstone: only title and reason remain).", required=True),
    _string("title", "Plain text.", required=True),
    _string("summary", "Plain text."),
    _string("kind", "Slug from the kinds vocabulary, e.g. treaty."),
    _string("stage", "announced, signed, in-force, …; empty if not known."),
    _string("date", "EDTF as entered: 2005, 2010-03, 2021~, 2015/2023, …"),
    fields.DateField(name="date_earliest", description="The first day `date` can mean."),
    fields.DateField(name="date_latest", description="The last day `date` can mean."),
    _string("countries", "ISO 3166-1 alpha-2 codes separated by spaces (see countries.csv)."),
    _string("topics", "Topic slugs separated by spaces (see topics.csv)."),
    _string("retraction_reason", "Why it was retracted; empty unless retracted."),
    fields.DatetimeField(name="first_published_at", description="When it was first published (UTC)."),
    _string("last_revision_kind", "Its latest public revision: published, corrected, updated or retracted."),
    _string("last_revision_note", "The note of a correction or update; the reason of a retraction."),
    fields.DatetimeField(name="last_revision_recorded_at", description="When the latest public revision was recorded."),
    fields.IntegerField(name="last_revision_position", description="Its position in the change stream."),
    _string("page_url", "Its public web page."),
    _string("api_url", "It in the API."),
]

DEVELOPMENTS = Table(
    name="developments",
    title="Developments, one row each, as published at the package's position",
    columns=DEVELOPMENT_COLUMNS,
    primary_key=["id"],
)

SOURCES = Table(
    name="sources",
    title="The sources of each development",
    columns=[
        _development_id(),
        fields.IntegerField(name="source_number", description="1, 2, … in the order the development lists them."),
        _string("title", "Title of the source.", required=True),
        _string("publisher", ""),
        _string("author", ""),
        _string("url", ""),
        _string("published", "YYYY, YYYY-MM or YYYY-MM-DD."),
        _string("accessed", "YYYY-MM-DD."),
        _string("locator", "Page, section or paragraph."),
        _string("quote", ""),
    ],
    primary_key=["development_id", "source_number"],
    foreign_keys=_belongs_to_development(),
)

ACTORS = Table(
    name="actors",
    title="Organisations and people each development names, with their role",
    columns=[_development_id(), _string("name", "", required=True), _string("role", "e.g. operator, supplier.")],
    primary_key=["development_id", "name", "role"],
    foreign_keys=_belongs_to_development(),
)

AMOUNTS = Table(
    name="amounts",
    title="Amounts each development states",
    columns=[
        _development_id(),
        fields.IntegerField(name="amount_number", description="1, 2, … in the order the development lists them."),
        fields.NumberField(name="value", description="A decimal number.", constraints={"required": True}),
        _string("currency", "ISO 4217 code, for money."),
        _string("unit", "For anything but money, e.g. Gbit/s."),
        _string("measures", "What the amount measures."),
        _string("qualifier", "exact, more-than, less-than or about; empty if not stated."),
        _string("period", "The period the amount covers (EDTF); empty if not stated."),
    ],
    primary_key=["development_id", "amount_number"],
    foreign_keys=_belongs_to_development(),
)

COUNTRIES = Table(
    name="countries",
    title="The countries each development involves",
    columns=[_development_id(), _string("code", "ISO 3166-1 alpha-2.", required=True), _string("name", "")],
    primary_key=["development_id", "code"],
    foreign_keys=_belongs_to_development(),
)

TOPICS = Table(
    name="topics",
    title="The topics of each development",
    columns=[_development_id(), _string("slug", "Topic slug.", required=True), _string("label", "")],
    primary_key=["development_id", "slug"],
    foreign_keys=_belongs_to_development(),
)

CSV_TABLES = (DEVELOPMENTS, SOURCES, ACTORS, AMOUNTS, COUNTRIES, TOPICS)

# The NDJSON resources hold nested objects; their schemas name the top-level keys.
DEVELOPMENT_DOCUMENTS = Table(
    name="developments_ndjson",
    title="Developments as JSON documents, with their nested facts and last_revision",
    columns=[
        _string("id", "", required=True),
        _string("slug", ""),
        _string("status", ""),
        _string("title", ""),
        _string("summary", ""),
        _string("kind", ""),
        _string("stage", ""),
        _string("date", "EDTF."),
        _string("date_earliest", "ISO date."),
        _string("date_latest", "ISO date."),
        fields.ArrayField(name="countries"),
        fields.ArrayField(name="topics"),
        fields.ArrayField(name="actors"),
        fields.ArrayField(name="amounts"),
        fields.ArrayField(name="places"),
        fields.ArrayField(name="sources"),
        _string("retraction_reason", ""),
        _string("first_published_at", ""),
        fields.ObjectField(
            name="last_revision", description="kind, note, recorded_at and position of its latest public revision."
        ),
        _string("page_url", ""),
        _string("api_url", ""),
    ],
    primary_key=["id"],
)

EVENTS = Table(
    name="events",
    title="Every public event up to the package's position, as in /api/v1/events/",
    columns=[
        fields.IntegerField(name="position", constraints={"required": True}),
        _string("event_id", "", required=True),
        _string("type", "development.published, .corrected, .updated or .retracted."),
        _string("kind", "published, corrected, updated or retracted."),
        _string("development_id", ""),
        _string("slug", ""),
        fields.IntegerField(name="version"),
        _string("recorded_at", ""),
        _string("note", ""),
        fields.ObjectField(name="content", description="What the development said after it; null for a retraction."),
    ],
    primary_key=["position"],
)
