"""What changed, for people: field-level diffs between contents and a readable event history.

Contents are compared as stored (the dicts of `Content.to_dict`). Text fields are compared
word by word, lists item by item; every piece is plain text, so templates escape it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from difflib import SequenceMatcher
from typing import Any

from chronicle.domain import vocabulary
from chronicle.domain.content import amount_phrase, country_name
from chronicle.domain.events import label as event_label
from chronicle.domain.vocabulary import DATE_BASES, KINDS, STAGES, TOPICS
from chronicle.eventstore.store import RecordedEvent

FIELD_LABELS = {
    "title": "Title",
    "summary": "Summary",
    "kind": "Kind",
    "stage": "Stage",
    "date": "Date",
    "date_basis": "Date basis",
    "countries": "Countries",
    "topics": "Topics",
    "actors": "Actors",
    "amounts": "Amounts",
    "places": "Places",
    "sources": "Sources",
    "related": "Related",
}
TEXT_FIELDS = ("title", "summary", "date")
LIST_FIELDS = ("countries", "topics", "actors", "amounts", "places", "sources", "related")


@dataclass(frozen=True)
class Piece:
    text: str
    changed: bool = False


@dataclass(frozen=True)
class FieldChange:
    name: str
    label: str
    before: list[Piece]
    after: list[Piece]
    is_list: bool


def compare(before: dict[str, Any] | None, after: dict[str, Any]) -> list[FieldChange]:
    """The fields that differ between two contents, in field order, with what changed marked.

    With no `before` (a first draft) every filled-in field counts as added.
    """
    changes = []
    for name, label in FIELD_LABELS.items():
        old = _tokens(name, (before or {}).get(name))
        new = _tokens(name, after.get(name))
        if old == new:
            continue
        old_pieces, new_pieces = _mark(old, new)
        changes.append(FieldChange(name, label, old_pieces, new_pieces, is_list=name in LIST_FIELDS))
    return changes


@dataclass(frozen=True)
class Fact:
    label: str
    lines: list[str]
    is_list: bool


def facts(content: dict[str, Any]) -> list[Fact]:
    """Every field of `content`, readable, for a page that shows it without a form."""
    result = []
    for name, label in FIELD_LABELS.items():
        tokens = _tokens(name, content.get(name))
        is_list = name in LIST_FIELDS
        result.append(Fact(label, tokens if is_list else ["".join(tokens)] if tokens else [], is_list))
    return result


def _tokens(name: str, value: Any) -> list[str]:
    if name in TEXT_FIELDS:
        # Keep the whitespace as its own tokens so the text reads back unchanged.
        return [token for token in re.split(r"(\s+)", value or "") if token]
    if name in ("kind", "stage", "date_basis"):
        terms = {"kind": KINDS, "stage": STAGES, "date_basis": DATE_BASES}[name]
        return [vocabulary.label(terms, value)] if value else []
    if name == "related":
        return list(value or [])
    if name == "topics":
        return [vocabulary.label(TOPICS, slug) for slug in value or []]
    if name == "countries":
        return [f"{country_name(code)} ({code})" for code in value or []]
    return [describe_item(name, item) for item in value or []]


def describe_item(name: str, item: dict[str, Any]) -> str:
    """One actor, amount, place or source on one line."""
    if name == "actors":
        return f"{item.get('name', '')} — {item.get('role', '')}"
    if name == "amounts":
        period = f" ({item['period']})" if item.get("period") else ""
        return f"{amount_phrase(item)} — {item.get('measures', '')}{period}"
    if name == "places":
        where = f"{item.get('name', '')}, {country_name(item.get('country', ''))}"
        if item.get("lat") is not None:
            where += f" ({item['lat']}, {item['lon']})"
        return where
    parts = [item.get(key, "") for key in ("title", "publisher", "author", "url", "published")]
    if item.get("accessed"):
        parts.append(f"accessed {item['accessed']}")
    parts.append(item.get("locator", ""))
    if item.get("quote"):
        parts.append(f"“{item['quote']}”")
    return " — ".join(part for part in parts if part)


def _mark(old: list[str], new: list[str]) -> tuple[list[Piece], list[Piece]]:
    before: list[Piece] = []
    after: list[Piece] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            before.extend(Piece(token) for token in old[i1:i2])
            after.extend(Piece(token) for token in new[j1:j2])
            continue
        before.extend(Piece(token, changed=True) for token in old[i1:i2])
        after.extend(Piece(token, changed=True) for token in new[j1:j2])
    return before, after


# -- history -----------------------------------------------------------------------------


@dataclass
class HistoryEntry:
    version: int
    recorded_at: datetime
    actor: str
    origin: str
    action: str
    note: str = ""
    changes: list[FieldChange] = field(default_factory=list)


def history(events: list[RecordedEvent]) -> list[HistoryEntry]:
    """Every event of one stream, oldest first, with the content changes it made."""
    entries = []
    content = None
    for event in events:
        entry = HistoryEntry(
            version=event.version,
            recorded_at=event.recorded_at,
            actor=event.metadata["actor"]["username"],
            origin=event.metadata.get("origin", ""),
            action=event_label(event.type),
            note=_note(event),
        )
        if "content" in event.data:
            entry.changes = compare(content, event.data["content"])
            content = event.data["content"]
        entries.append(entry)
    return entries


def _note(event: RecordedEvent) -> str:
    data = event.data
    if "publish_at" in data:
        return f"for {datetime.fromisoformat(data['publish_at']):%Y-%m-%d %H:%M %Z}".strip()
    return data.get("note") or data.get("comment") or data.get("reason") or ""


def content_at(events: list[RecordedEvent], version: int) -> dict[str, Any] | None:
    """The working content as it was after `version` of the stream."""
    content = None
    for event in events:
        if event.version > version:
            break
        content = event.data.get("content", content)
    return content
