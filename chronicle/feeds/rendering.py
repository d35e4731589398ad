"""Render one feed as Atom 1.0 and RSS 2.0 (with feedgen) and JSON Feed 1.1.

Everything comes from the read models and the events' record times, never from the clock,
so the same events always give the same bytes and ETags stay stable. feedgen fills in
"now" for any date left unset, so every date is set explicitly here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from uuid import UUID, uuid5

from django.conf import settings
from django.template.loader import render_to_string
from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from chronicle import published
from chronicle.developments.models import PublicDevelopment, PublicRevision, PublicStatus
from chronicle.domain import vocabulary
from chronicle.domain.content import country_name
from chronicle.domain.events import RevisionKind
from chronicle.domain.notices import notice_title, notice_word
from chronicle.domain.vocabulary import KINDS, STAGES, TOPICS

from .catalog import Feed

# An empty feed has no event to date it; the epoch says "nothing yet" and never changes.
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)
AUTHOR = "Chronicle"

# Characters XML 1.0 forbids (lxml refuses them); user text may still carry some.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_MEDIA_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml", "json": "application/feed+json"}
# RFC 6721: an Atom feed names the entries it withdrew.
TOMBSTONES_NAMESPACE = "http://purl.org/atompub/tombstones/1.0"


def xml_text(text: str) -> str:
    return _XML_INVALID.sub("", text)


@dataclass
class Entry:
    """One public revision of a development: its first publication, a correction, an
    update or its retraction, each a notice of its own that never changes once written."""

    development: PublicDevelopment  # as it is now
    revision: PublicRevision

    @property
    def id(self) -> str:
        return revision_entry_id(self.development.id, self.revision.kind, self.revision.version)

    @property
    def kind(self) -> str:
        return self.revision.kind

    @property
    def content(self) -> dict:
        """What the development said after this revision (a retraction leaves the last)."""
        return self.revision.content

    @property
    def title(self) -> str:
        return xml_text(notice_title(self.kind, self.content["title"]))

    @property
    def withdrawn(self) -> bool:
        """An earlier revision of a development since retracted."""
        return self.development.status == PublicStatus.RETRACTED and self.kind != RevisionKind.RETRACTED

    @property
    def url(self) -> str:
        if self.kind == RevisionKind.PUBLISHED:
            return published.development_url(self.development.slug)
        return published.revision_url(self.development.slug, self.revision.version)

    @property
    def date(self) -> datetime:
        return self.revision.recorded_at.astimezone(UTC)

    @property
    def topics(self) -> list[tuple[str, str]]:
        return [(slug, vocabulary.label(TOPICS, slug)) for slug in self.content["topics"]]

    @cached_property
    def html(self) -> str:
        content = self.content
        html = render_to_string(
            "feeds/entry.html",
            {
                "notice": notice_word(self.kind),
                "note": self.revision.note,
                "retraction": self.kind == RevisionKind.RETRACTED,
                "content": content,
                "kind": vocabulary.label(KINDS, content["kind"]),
                "stage": vocabulary.label(STAGES, content.get("stage", "")),
                "countries": [country_name(code) for code in content["countries"]],
            },
        )
        return xml_text(html.strip())


def revision_entry_id(development_id: UUID, kind: str, version: int) -> str:
    """A first publication keeps the development's own id, as feeds always gave it; every
    later revision gets a stable id of its own, so readers show it as new."""
    if kind == RevisionKind.PUBLISHED:
        return f"urn:uuid:{development_id}"
    return f"urn:uuid:{uuid5(development_id, f'revision/{version}')}"


@dataclass(frozen=True)
class Tombstone:
    """RFC 6721 `at:deleted-entry`: an entry of a development that was retracted."""

    ref: str
    when: datetime
    reason: str
    url: str


def entries(feed: Feed, limit: int | None = None) -> list[Entry]:
    """The feed's newest public revisions, newest first, retractions included.

    One query walks the revisions backwards by position (their primary key), so the cost
    does not grow with the length of the chronicle.
    """
    limit = limit or settings.FEEDS_MAX_ENTRIES
    revisions = feed.revisions().select_related("development").order_by("-position")[:limit]
    return [Entry(revision.development, revision) for revision in revisions]


def tombstones(items: list[Entry]) -> list[Tombstone]:
    """Every earlier entry of each retracted development among `items`, whether or not it
    is still in the window, so a reader that kept it learns it was withdrawn."""
    retractions = {item.development.id: item for item in items if item.kind == RevisionKind.RETRACTED}
    if not retractions:
        return []
    earlier = (
        PublicRevision.objects.filter(development_id__in=list(retractions))
        .exclude(kind=RevisionKind.RETRACTED)
        .order_by("-position")
        .values_list("development_id", "kind", "version")
    )
    return [
        Tombstone(
            ref=revision_entry_id(development_id, kind, version),
            when=retractions[development_id].date,
            reason=xml_text(retractions[development_id].revision.note),
            url=published.development_url(retractions[development_id].development.slug),
        )
        for development_id, kind, version in earlier
    ]


def render(feed: Feed) -> dict[str, bytes]:
    """The feed's files: extension → bytes."""
    items = entries(feed)
    updated = max((entry.date for entry in items), default=EMPTY_FEED_UPDATED)
    # Atom says "withdrawn" with tombstones instead of the entries; RSS and JSON Feed
    # have no such word, so there the retraction's own entry tells.
    atom = _generator(feed, [item for item in items if not item.withdrawn], updated, "atom")
    if withdrawn := tombstones(items):
        atom.register_extension("tombstones", _TombstonesExtension, atom=True, rss=False)
        atom.tombstones.add(withdrawn)
    return {
        "atom": atom.atom_str(pretty=True),
        "rss": _generator(feed, items, updated, "rss").rss_str(pretty=True),
        "json": _json_feed(feed, items),
    }


class _TombstonesExtension(BaseExtension):
    def __init__(self) -> None:
        self.items: list[Tombstone] = []

    def add(self, items: list[Tombstone]) -> None:
        self.items += items

    def extend_ns(self) -> dict[str, str]:
        return {"at": TOMBSTONES_NAMESPACE}

    def extend_atom(self, feed):
        for tombstone in self.items:
            deleted = xml_elem(f"{{{TOMBSTONES_NAMESPACE}}}deleted-entry", feed)
            deleted.set("ref", tombstone.ref)
            deleted.set("when", tombstone.when.isoformat())
            comment = xml_elem(f"{{{TOMBSTONES_NAMESPACE}}}comment", deleted)
            comment.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
            comment.text = tombstone.reason
            link = xml_elem("{http://www.w3.org/2005/Atom}link", deleted)
            link.set("href", tombstone.url)
            link.set("rel", "alternate")
            link.set("type", "text/html")
        return feed


def _generator(feed: Feed, items: list[Entry], updated: datetime, extension: str) -> FeedGenerator:
    generator = FeedGenerator()
    generator.id(feed.url("atom"))
    generator.title(xml_text(feed.title))
    generator.subtitle(feed.description)
    generator.description(feed.description)
    generator.author(name=AUTHOR, uri=settings.SITE_URL)
    generator.language("en")
    generator.generator(AUTHOR, uri=settings.SITE_URL)
    # Self first: feedgen takes the RSS <link> from the last link added.
    generator.link(href=feed.url(extension), rel="self", type=_MEDIA_TYPES[extension])
    if settings.FEEDS_WEBSUB_HUB:
        generator.link(href=settings.FEEDS_WEBSUB_HUB, rel="hub")
    generator.link(href=feed.page_url, rel="alternate", type="text/html")
    generator.updated(updated)
    for item in items:
        entry = generator.add_entry(order="append")
        entry.id(item.id)
        entry.title(item.title)
        entry.link(href=item.url, rel="alternate", type="text/html")
        entry.content(item.html, type="html")
        entry.published(item.date)
        entry.updated(item.date)
        entry.category(term=item.kind, scheme=revision_kind_scheme())
        for slug, label in item.topics:
            entry.category(term=slug, label=xml_text(label), scheme=f"{settings.SITE_URL}/feeds/topics/")
    return generator


def revision_kind_scheme() -> str:
    """Where the revision kinds (published, corrected, updated, retracted) are explained."""
    return f"{settings.SITE_URL}/api/docs/"


def _json_feed(feed: Feed, items: list[Entry]) -> bytes:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.title,
        "home_page_url": feed.page_url,
        "feed_url": feed.url("json"),
        "description": feed.description,
        "language": "en",
        "authors": [{"name": AUTHOR, "url": settings.SITE_URL}],
        "items": [
            {
                "id": item.id,
                "url": item.url,
                "title": item.title,
                "content_html": item.html,
                "date_published": item.date.isoformat(),
                "date_modified": item.date.isoformat(),
                "tags": [label for _, label in item.topics],
                "_chronicle": {
                    "about": revision_kind_scheme(),
                    "kind": item.kind,
                    "note": item.revision.note,
                    "development": str(item.development.id),
                    "position": item.revision.position,
                },
            }
            for item in items
        ],
    }
    if settings.FEEDS_WEBSUB_HUB:
        document["hubs"] = [{"type": "WebSub", "url": settings.FEEDS_WEBSUB_HUB}]
    return json.dumps(document, ensure_ascii=False, indent=2).encode() + b"\n"
