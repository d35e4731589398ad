"""Keyset (cursor) pagination over an ordering that ends in a unique key.

A cursor names the last item of a page by its sort values, so a page never repeats or
skips an item when developments are published or corrected between two requests, and a
deep page costs what the first does. Cursors are opaque to clients (base64 JSON).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q
from rest_framework.exceptions import ValidationError


@dataclass(frozen=True)
class Key:
    field: str
    descending: bool
    parse: Callable[[Any], Any]

    @property
    def order_by(self) -> str:
        return f"-{self.field}" if self.descending else self.field


def _datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("naive datetime")
    # Out of range in UTC (year 1 at +14:00) raises OverflowError here rather than in the query.
    return parsed.astimezone(UTC)


def _float(value: Any) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError("not a number")
    return float(value)


def _text(value: Any) -> str:
    # A NUL cannot be compared with a text column on PostgreSQL; no stored name holds one.
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("not a name")
    value.encode()  # a lone surrogate raises UnicodeEncodeError here rather than in the database driver
    return value


def date_key(field: str, descending: bool) -> Key:
    return Key(field, descending, date.fromisoformat)


def datetime_key(field: str, descending: bool) -> Key:
    return Key(field, descending, _datetime)


def uuid_key(field: str, descending: bool) -> Key:
    return Key(field, descending, uuid.UUID)


def int_key(field: str, descending: bool) -> Key:
    return Key(field, descending, int)


def float_key(field: str, descending: bool) -> Key:
    return Key(field, descending, _float)


def text_key(field: str, descending: bool) -> Key:
    return Key(field, descending, _text)


INVALID_CURSOR = "This cursor is not valid; use the `next` address of a previous page as it is."


def encode_cursor(ordering: str, values: Sequence[Any]) -> str:
    payload = [ordering, [_jsonable(value) for value in values]]
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, ordering: str, keys: Sequence[Key]) -> list[Any]:
    """The sort values a cursor names; 400 if it is malformed or was made for another ordering."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_ordering, values = json.loads(raw)
        if cursor_ordering != ordering or len(values) != len(keys):
            raise ValueError("another ordering")
        return [key.parse(value) for key, value in zip(keys, values, strict=True)]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise ValidationError({"cursor": [INVALID_CURSOR]}) from None


def after_q(keys: Sequence[Key], values: Sequence[Any]) -> Q:
    """Rows strictly after `values` in the ordering `keys`: (a > x) or (a = x and b > y) or …"""
    clauses = []
    for index, key in enumerate(keys):
        equal = {earlier.field: value for earlier, value in zip(keys[:index], values[:index], strict=True)}
        equal[f"{key.field}__{'lt' if key.descending else 'gt'}"] = values[index]
        clauses.append(Q(**equal))
    return reduce(or_, clauses)


def sort_in_memory(items: list, keys: Sequence[Key], value: Callable[[Any, str], Any]) -> list:
    """`items` in the ordering `keys` (stable sorts, least significant key first)."""
    for key in reversed(keys):
        items.sort(key=lambda item, key=key: value(item, key.field), reverse=key.descending)
    return items


def is_after(item_values: Sequence[Any], cursor_values: Sequence[Any], keys: Sequence[Key]) -> bool:
    for key, mine, theirs in zip(keys, item_values, cursor_values, strict=True):
        if mine != theirs:
            return mine < theirs if key.descending else mine > theirs
    return False


def _jsonable(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
