"""Reading events written by earlier versions of Chronicle.

Recorded events are never rewritten: an event stays in the log exactly as its schema
version had it. Every reader of the log instead passes what it reads through `upcast`,
which applies, in order, one pure function per step from the event's schema version to
`SCHEMA_VERSION`, so the rest of the code only ever sees the current shape. New events are
written at `SCHEMA_VERSION`.

To change an event's data: bump `SCHEMA_VERSION`, register the step for each affected event
type under the version it upgrades *from*, and add a stored example of the old shape to the
tests. A type with no step registered for a version is unchanged by it.

Versions:
    1  the first shape.
    2  an amount gains `qualifier` (exact, more-than, less-than, about) and an optional
       `period` (EDTF); amounts written before it were exact, with no period stated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import DomainError

SCHEMA_VERSION = 2

Data = dict[str, Any]


class UnknownSchemaVersion(DomainError):
    """An event was written by a newer Chronicle than the one reading it."""


def _amounts_gain_qualifier(data: Data) -> Data:
    content = data["content"]
    amounts = [{**amount, "qualifier": "exact"} for amount in content.get("amounts", [])]
    return {**data, "content": {**content, "amounts": amounts}}


# (event type, the schema version it upgrades from) → the step to the next version.
UPCASTERS: dict[tuple[str, int], Callable[[Data], Data]] = {
    ("development.drafted", 1): _amounts_gain_qualifier,
    ("development.revised", 1): _amounts_gain_qualifier,
}


def upcast(event_type: str, schema_version: int, data: Data) -> Data:
    """`data` of an event of `event_type` written at `schema_version`, in the current shape.

    Pure: the argument is left as it is.
    """
    if schema_version > SCHEMA_VERSION:
        raise UnknownSchemaVersion(
            f"A {event_type} event has schema version {schema_version}, but this Chronicle reads "
            f"versions up to {SCHEMA_VERSION}; upgrade Chronicle to read it."
        )
    for version in range(schema_version, SCHEMA_VERSION):
        step = UPCASTERS.get((event_type, version))
        if step is not None:
            data = step(data)
    return data
