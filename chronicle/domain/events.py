"""The events of a development's stream.

Each is a frozen record of something that happened. `actor` is the id of who did it
(stored with the event's metadata). Event type names and their data are a stored format:
change one only with a new schema version and an upcaster (`upcasting.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, ClassVar

from .content import Content, content_from_stored


@dataclass(frozen=True)
class Event:
    type: ClassVar[str]
    public: ClassVar[bool] = False
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
    slug: str
    content: Content


@dataclass(frozen=True)
class Revised(Event):
    type = "development.revised"
    content: Content


@dataclass(frozen=True)
class Submitted(Event):
    type = "development.submitted"


@dataclass(frozen=True)
class ChangesRequested(Event):
    type = "development.changes_requested"
    comment: str


@dataclass(frozen=True)
class PublicationScheduled(Event):
    type = "development.publication_scheduled"
    publish_at: datetime


@dataclass(frozen=True)
class Published(Event):
    type = "development.published"
    public = True


@dataclass(frozen=True)
class CorrectionPublished(Event):
    type = "development.corrected"
    public = True
    note: str


@dataclass(frozen=True)
class UpdatePublished(Event):
    type = "development.updated"
    public = True
    note: str


@dataclass(frozen=True)
class Retracted(Event):
    type = "development.retracted"
    public = True
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
PUBLIC_EVENT_TYPES = tuple(name for name, cls in EVENT_TYPES.items() if cls.public)


def event_from_stored(type_name: str, data: dict[str, Any], actor: str) -> Event:
    cls = EVENT_TYPES[type_name]
    values = dict(data)
    if "content" in values:
        values["content"] = content_from_stored(values["content"])
    if "publish_at" in values:
        values["publish_at"] = datetime.fromisoformat(values["publish_at"])
    return cls(actor=actor, **values)
