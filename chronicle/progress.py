"""Progress for long commands: a bar on a terminal, a plain line every few seconds in a log."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from tqdm import tqdm

LOG_INTERVAL_SECONDS = 5.0


class Tally:
    """Base of a dataclass that counts a pass's outcomes: one batch's tally adds into the
    pass's field by field (counts add up, lists extend)."""

    def add(self, other) -> None:
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


class _Lines:
    """What a bar would say, as one line at most every LOG_INTERVAL_SECONDS (logs keep no \\r)."""

    def __init__(self, total: int | None, unit: str, out: TextIO, interval: float) -> None:
        self.total, self.unit, self.out, self.interval = total, unit, out, interval
        self.done = 0
        self.started = self.last = time.monotonic()

    def update(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            rate = self.done / (now - self.started)
            of = f" of {self.total:,} ({self.done / self.total:.0%})" if self.total else ""
            self.out.write(f"{self.done:,}{of} {self.unit}s, {rate:,.0f}/s\n")
            self.out.flush()


@contextmanager
def progress(total: int | None, unit: str, out: TextIO) -> Iterator:
    """Yield an object with `update(count)`."""
    isatty = getattr(out, "isatty", None)
    if isatty is not None and isatty():
        with tqdm(total=total, unit=unit, file=out) as bar:
            yield bar
    else:
        yield _Lines(total, unit, out, LOG_INTERVAL_SECONDS)
