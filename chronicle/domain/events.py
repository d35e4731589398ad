"""The events of a development's stream.

Each is a frozen record of something that happened. `actor` is the id of who did it
(stored with the event's metadata). Event type names and their data are a stored format:
change one only with a new schema version and an upcaster (`upcasting.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from .content import Content, content_from_stored


class RevisionKind(StrEnum):
    """What a public event did to what the public sees: each one is a public revision."""

    PUBLISHED = "published"
    CORRECTED = "corrected"
    UPDATED = "updated"
    RETRACTED = "retracted"

    @property
    def label(self) -> str:
        return _REVISION_LABELS[self]


_REVISION_LABELS = {
    RevisionKind.PUBLISHED: "Published",
    RevisionKind.CORRECTED: "Correction",
    RevisionKind.UPDATED: "Update",
    RevisionKind.RETRACTED: "Retraction",
}


@dataclass(frozen=True)
class Event:
    type: ClassVar[str]
    # For people: a heading in a development's history ("Published a correction"), and what
    # its actor did, told after their name ("… published a correction").
    label: ClassVar[str]
    told: ClassVar[str]
    # The public revision it makes; None for the editorial events the public never sees.
    revision_kind: ClassVar[RevisionKind | None] = None
    actor: str

    def data(self) -> dict[str, Any]:
        """The event's data as stored (actor lives in the metadata)."""
        result: dict[str, Any] = {}
        for item in fields(self):
            if item.name == "actor":
                continue
            value = getattr(self, item.name)
            if isinstance(value, Content):
                value = value.to_dict()
            elif isinstance(value, datetime):
                value = value.isoformat()
            result[item.name] = value
        return result


@dataclass(frozen=True)
class Drafted(Event):
    type = "development.drafted"
    label = "Drafted"
    told = "drafted it"
    slug: str
    content: Content


@dataclass(frozen=True)
class Revised(Event):
    type = "development.revised"
    label = "Revised"
    told = "saved it"
    content: Content


@dataclass(frozen=True)
class Submitted(Event):
    type = "development.submitted"
    label = "Submitted for review"
    told = "submitted it for review"


@dataclass(frozen=True)
class ChangesRequested(Event):
    type = "development.changes_requested"
    label = "Requested changes"
    told = "requested changes"
    comment: str


@dataclass(frozen=True)
class PublicationScheduled(Event):
    type = "development.publication_scheduled"
    label = "Scheduled publication"
    told = "scheduled its publication"
    publish_at: datetime


@dataclass(frozen=True)
class Published(Event):
    type = "development.published"
    label = "Published"
    told = "published it"
    revision_kind = RevisionKind.PUBLISHED


@dataclass(frozen=True)
class CorrectionPublished(Event):
    type = "development.corrected"
    label = "Published a correction"
    told = "published a correction"
    revision_kind = RevisionKind.CORRECTED
    note: str


@dataclass(frozen=True)
class UpdatePublished(Event):
    type = "development.updated"
    label = "Published an update"
    told = "published an update"
    revision_kind = RevisionKind.UPDATED
    note: str


@dataclass(frozen=True)
class Retracted(Event):
    type = "development.retracted"
    label = "Retracted"
    told = "retracted it"
    revision_kind = RevisionKind.RETRACTED
    reason: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        Drafted,
        Revised,
        Submitted,
        ChangesRequested,
        PublicationScheduled,
        Published,
        CorrectionPublished,
        UpdatePublished,
        Retracted,
    )
}
PUBLIC_EVENT_TYPES = tuple(name for name, cls in EVENT_TYPES.items() if cls.revision_kind is not None)
REVISION_KINDS: dict[str, RevisionKind] = {
    name: cls.revision_kind for name, cls in EVENT_TYPES.items() if cls.revision_kind is not None
}


def label(type_name: str) -> str:
    """The history heading of an event type; the type itself for one this code does not know."""
    cls = EVENT_TYPES.get(type_name)
    return cls.label if cls else type_name


def event_from_stored(type_name: str, data: dict[str, Any], actor: str) -> Event:
    cls = EVENT_TYPES[type_name]
    values = dict(data)
    if "content" in values:
        values["content"] = content_from_stored(values["content"])
    if "publish_at" in values:
        values["publish_at"] = datetime.fromisoformat(values["publish_at"])
    return cls(actor=actor, **values)
