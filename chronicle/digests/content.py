"""What a subscriber's digest says, computed from the public revisions.

A `Window` holds the public revisions between a low position and a cut-off, loaded once
for a whole batch of subscribers; `Window.digest_for` then picks one subscriber's part:
developments first published in their scope after their high-water mark, and the
corrections, updates and retractions of developments they were sent before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache
from uuid import UUID

from django.template.loader import render_to_string

from chronicle import published
from chronicle.developments.models import PublicRevision
from chronicle.domain import edtf, vocabulary
from chronicle.domain.content import amount_line, country_name
from chronicle.domain.events import RevisionKind
from chronicle.domain.notices import notice_word
from chronicle.domain.vocabulary import FIGURES, KINDS, TOPICS

from .models import SentDevelopment, Subscriber

CHANGE_KINDS = (RevisionKind.CORRECTED, RevisionKind.UPDATED, RevisionKind.RETRACTED)


@dataclass(frozen=True)
class NewDevelopment:
    development_id: UUID
    published_position: int
    revision_position: int  # the latest public revision by the cut-off: the content shown
    url: str
    title: str
    summary: str
    date: str
    kind: str
    countries: tuple[str, ...]
    topics: tuple[str, ...]
    country_codes: frozenset[str]
    topic_slugs: frozenset[str]
    figures: tuple[str, ...] = ()  # a record of figures shows them, each with its qualifier

    # Each part is rendered once per pass and shared by every digest that shows it.
    @cached_property
    def html(self) -> str:
        return render_to_string("emails/parts/new-development.html", {"item": self})

    @cached_property
    def text(self) -> str:
        return render_to_string("emails/parts/new-development.txt", {"item": self})


@dataclass(frozen=True)
class Change:
    development_id: UUID
    position: int
    kind: str
    label: str
    note: str
    title: str
    url: str
    recorded_at: datetime

    @cached_property
    def html(self) -> str:
        return render_to_string("emails/parts/change.html", {"change": self})

    @cached_property
    def text(self) -> str:
        return render_to_string("emails/parts/change.txt", {"change": self})


@dataclass(frozen=True)
class DigestContent:
    from_position: int
    cutoff_position: int
    new: tuple[NewDevelopment, ...]
    changes: tuple[Change, ...]

    @property
    def is_empty(self) -> bool:
        return not self.new and not self.changes

    @cached_property  # asked for twice a message: to share its rendering, and in the ledger
    def content_hash(self) -> str:
        """Identifies exactly which revisions the digest shows."""
        shown = {
            "new": [[str(item.development_id), item.revision_position] for item in self.new],
            "changes": [[str(change.development_id), change.position] for change in self.changes],
        }
        return hashlib.sha256(json.dumps(shown).encode()).hexdigest()


class Window:
    """The public revisions in (low, cutoff], ready to be cut into many digests."""

    def __init__(self, low: int, cutoff: int) -> None:
        self.low, self.cutoff = low, cutoff
        rows = (
            PublicRevision.objects.filter(position__gt=low, position__lte=cutoff)
            .order_by("position")
            .values_list(
                "position", "development_id", "development__slug", "version", "kind", "note", "content", "recorded_at"
            )
        )
        latest: dict[UUID, tuple] = {}
        published_at: dict[UUID, int] = {}
        changes: list[Change] = []
        for row in rows:
            position, development_id, slug, version, kind, note, content, recorded_at = row
            latest[development_id] = row
            if kind == RevisionKind.PUBLISHED:
                published_at[development_id] = position
            else:
                changes.append(
                    Change(
                        development_id=development_id,
                        position=position,
                        kind=kind,
                        label=notice_word(kind),
                        note=note,
                        title=content["title"],
                        url=published.revision_url(slug, version),
                        recorded_at=recorded_at,
                    )
                )
        self.new = [
            _new_development(latest[development_id], position)
            for development_id, position in published_at.items()
            # Published and retracted within the window: it was never news for anyone.
            if latest[development_id][4] != RevisionKind.RETRACTED
        ]
        self.changes = changes
        self.changed_ids = {change.development_id for change in changes}
        # Rows come in the order of their subscribers' scopes (delivery.due): the same
        # digest comes round again soon, or not at all.
        self._digest = lru_cache(maxsize=256)(self._digest_for)

    def sent_before(self, subscriber_ids: Iterable[int]) -> dict[int, set[UUID]]:
        """For each subscriber, which of this window's changed developments they were sent."""
        sent: dict[int, set[UUID]] = {}
        if self.changed_ids:
            rows = SentDevelopment.objects.filter(
                subscriber_id__in=list(subscriber_ids), development_id__in=self.changed_ids
            ).values_list("subscriber_id", "development_id")
            for subscriber_id, development_id in rows:
                sent.setdefault(subscriber_id, set()).add(development_id)
        return sent

    def digest_for(self, subscriber: Subscriber, sent_before: set[UUID]) -> DigestContent:
        """What `subscriber` gets: one object for all subscribers who get the same from the
        same mark, so that it is worked out and hashed once."""
        return self._digest(
            subscriber.high_water, frozenset(subscriber.topics), frozenset(subscriber.countries), frozenset(sent_before)
        )

    def _digest_for(
        self, high_water: int, topics: frozenset[str], countries: frozenset[str], sent_before: frozenset[UUID]
    ) -> DigestContent:
        new = tuple(
            item
            for item in self.new
            if item.published_position > high_water
            and (not topics or topics & item.topic_slugs)
            and (not countries or countries & item.country_codes)
        )
        changes = tuple(
            change for change in self.changes if change.position > high_water and change.development_id in sent_before
        )
        return DigestContent(high_water, self.cutoff, new, changes)


def _new_development(row: tuple, published_position: int) -> NewDevelopment:
    position, development_id, slug, _version, _kind, _note, content, _recorded_at = row
    return NewDevelopment(
        development_id=development_id,
        published_position=published_position,
        revision_position=position,
        url=published.development_url(slug),
        title=content["title"],
        summary=content.get("summary", ""),
        date=edtf.humanize(content["date"]),
        kind=vocabulary.label(KINDS, content["kind"]),
        countries=tuple(country_name(code) for code in content["countries"]),
        topics=tuple(vocabulary.label(TOPICS, slug) for slug in content["topics"]),
        country_codes=frozenset(content["countries"]),
        topic_slugs=frozenset(content["topics"]),
        figures=tuple(amount_line(a) for a in content.get("amounts", [])) if content["kind"] == FIGURES else (),
    )


def current_digest(subscriber: Subscriber, cutoff: int) -> DigestContent:
    """The digest `subscriber` would get now, up to `cutoff` (for one subscriber: previews)."""
    window = Window(subscriber.high_water, cutoff)
    return window.digest_for(subscriber, window.sent_before([subscriber.pk]).get(subscriber.pk, set()))
