"""Tamper-evident seals over the event log.

Each event gets a seal: SHA-256 (hex) over the previous event's seal (64 zeros before the
first event) followed by the event's canonical bytes — the JSON object of its position, id,
stream, version, type, schema version, data, metadata and record time, keys sorted, no
spaces, UTF-8, record time as ISO 8601 in UTC with microseconds. Each seal thus vouches for
the whole log up to its position: whoever keeps a (position, seal) pair they were shown can
later tell whether any event at or before that position was changed, removed or slipped in,
even by someone with database superuser rights who can lift the append-only triggers.

The sealer works behind the log, after commit, in position order: appends never wait for
it. It reads only the events no lower position can still join (`visibility`), so what it
reads past its last seal is final. Sealers may run at the same
time: on PostgreSQL they take turns on an advisory lock; everywhere a seal is a pure
function of the log, so two sealers that race compute the same values and the second
insert of a position is ignored. Seals are not read models: a rebuild leaves them alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from .models import Event, Seal
from .visibility import visible

GENESIS = "0" * 64
# Arbitrary constant naming "the sealer" among advisory locks ("SEAL").
SEAL_LOCK_KEY = 0x5345414C

COLUMNS = ("position", "event_id", "stream_id", "version", "type", "schema_version", "data", "metadata", "recorded_at")


def canonical_bytes(row: tuple) -> bytes:
    """The bytes a seal covers, from the event's stored columns in COLUMNS order."""
    values: dict[str, Any] = dict(zip(COLUMNS, row, strict=True))
    values["event_id"] = str(values["event_id"])
    values["stream_id"] = str(values["stream_id"])
    values["recorded_at"] = values["recorded_at"].astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def seal_of(previous: str, row: tuple) -> str:
    return hashlib.sha256(previous.encode("ascii") + canonical_bytes(row)).hexdigest()


# -- sealing -----------------------------------------------------------------------------


def seal_pending(*, batch_size: int = 1000, on_batch: Callable[[int], None] | None = None) -> int:
    """Seal every committed event that has no seal yet, in position order; return how many."""
    sealed = 0
    while count := _seal_batch(batch_size):
        sealed += count
        if on_batch:
            on_batch(count)
    return sealed


def _seal_batch(batch_size: int) -> int:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])
        position, previous = Seal.objects.order_by("-position").values_list("position", "seal").first() or (
            0,
            GENESIS,
        )
        rows = list(
            visible(Event.objects.filter(position__gt=position)).order_by("position").values_list(*COLUMNS)[:batch_size]
        )
        now = timezone.now()
        seals = []
        for row in rows:
            previous = seal_of(previous, row)
            seals.append(Seal(position=row[0], seal=previous, sealed_at=now))
        Seal.objects.bulk_create(seals, ignore_conflicts=True)
    return len(rows)


# -- heads -------------------------------------------------------------------------------


def head() -> Seal | None:
    """The latest seal: the position up to which the log is sealed, and its seal."""
    return Seal.objects.order_by("-position").first()


def seals_at(positions: list[int]) -> dict[int, str]:
    return dict(Seal.objects.filter(position__in=positions).values_list("position", "seal"))


# -- verification ------------------------------------------------------------------------


@dataclass
class Verification:
    checked: int = 0  # sealed events whose seal was recomputed and matched
    unsealed: int = 0  # events after the last seal, not sealed yet
    bad_position: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.bad_position is None


def verify(
    *,
    kept: dict[int, str] | None = None,
    on_progress: Callable[[int], None] | None = None,
    chunk_size: int = 5000,
) -> Verification:
    """Recompute the seal chain from the events and compare it with the stored seals, and with
    `kept` seals (position → seal) someone saw earlier; stop at the first position that does
    not match. The kept seals catch a rewrite whose author recomputed the stored seals too."""
    kept = dict(kept or {})
    result = Verification()
    last_sealed = Seal.objects.order_by("-position").values_list("position", flat=True).first() or 0
    events = Event.objects.order_by("position").values_list(*COLUMNS).iterator(chunk_size=chunk_size)
    seals = _stored_seals(chunk_size)
    stored = next(seals, None)
    previous = GENESIS
    for row in events:
        position = row[0]
        if stored is not None and stored[0] < position:
            return _bad(result, stored[0], "it was sealed, but its event is gone")
        expected = seal_of(previous, row)
        if kept.pop(position, expected) != expected:
            return _bad(result, position, "the event is not what it was when the kept seal was shown")
        if stored is None or stored[0] != position:
            if position < last_sealed:
                return _bad(result, position, "the event has no seal though later events do: it was added afterwards")
            result.unsealed += 1
        elif stored[1] != expected:
            return _bad(result, position, "the event, or the seal, is not what was sealed")
        else:
            result.checked += 1
            stored = next(seals, None)
        previous = expected
        if on_progress:
            on_progress(1)
    if stored is not None:
        return _bad(result, stored[0], "it was sealed, but its event is gone")
    if kept:
        return _bad(result, min(kept), "a seal was kept for it, but its event is gone")
    return result


def _stored_seals(chunk_size: int) -> Iterator[tuple[int, str]]:
    return Seal.objects.order_by("position").values_list("position", "seal").iterator(chunk_size=chunk_size)


def _bad(result: Verification, position: int, problem: str) -> Verification:
    result.bad_position, result.problem = position, problem
    return result
