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
from operator import attrgetter

from django.conf import settings
from django.template.loader import render_to_string
from feedgen.feed import FeedGenerator

from chronicle.developments.models import PublicDevelopment, PublicRevision, PublicStatus, RevisionKind
from chronicle.domain.content import country_name
from chronicle.domain.vocabulary import KINDS, STAGES, TOPICS

from .catalog import Feed

# An empty feed has no event to date it; the epoch says "nothing yet" and never changes.
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)
AUTHOR = "Chronicle"

# Characters XML 1.0 forbids (lxml refuses them); user text may still carry some.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_MEDIA_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml", "json": "application/feed+json"}
_NOTE_LABELS = {RevisionKind.CORRECTED: "Correction", RevisionKind.UPDATED: "Update"}


def xml_text(text: str) -> str:
    return _XML_INVALID.sub("", text)


@dataclass
class Entry:
    development: PublicDevelopment
    revisions: list[PublicRevision]  # oldest first

    @property
    def id(self) -> str:
        return f"urn:uuid:{self.development.id}"

    @property
    def title(self) -> str:
        title = self.development.title
        return xml_text(f"Retracted: {title}" if self.retracted else title)

    @property
    def retracted(self) -> bool:
        return self.development.status == PublicStatus.RETRACTED

    @property
    def url(self) -> str:
        return f"{settings.SITE_URL}/developments/{self.development.slug}/"

    @property
    def published(self) -> datetime:
        return self.development.first_published_at.astimezone(UTC)

    @property
    def updated(self) -> datetime:
        return self.development.updated_at.astimezone(UTC)

    @property
    def topics(self) -> list[tuple[str, str]]:
        return [(slug, TOPICS[slug].label if slug in TOPICS else slug) for slug in self.development.content["topics"]]

    @cached_property
    def html(self) -> str:
        content = self.development.content
        notes = [
            {"label": _NOTE_LABELS[r.kind], "date": r.recorded_at.astimezone(UTC).date(), "text": r.note}
            for r in reversed(self.revisions)
            if r.kind in _NOTE_LABELS
        ]
        html = render_to_string(
            "feeds/entry.html",
            {
                "development": self.development,
                "content": content,
                "notes": notes,
                "kind": KINDS[content["kind"]].label if content["kind"] in KINDS else content["kind"],
                "stage": STAGES[content["stage"]].label if content.get("stage") in STAGES else "",
                "countries": [country_name(code) for code in content["countries"]],
            },
        )
        return xml_text(html.strip())


def entries(feed: Feed, limit: int | None = None) -> list[Entry]:
    """The feed's newest entries by their latest public event, retracted ones included.

    One query per status walks the (status, -updated_at, id) index, so the cost does not
    grow with the number of developments.
    """
    limit = limit or settings.FEEDS_MAX_ENTRIES
    candidates = []
    for status in PublicStatus.values:
        candidates += feed.developments().filter(status=status).order_by("-updated_at", "id")[:limit]
    candidates.sort(key=attrgetter("id"))
    candidates.sort(key=attrgetter("updated_at"), reverse=True)
    newest = candidates[:limit]
    revisions: dict = {development.id: [] for development in newest}
    for revision in PublicRevision.objects.filter(development_id__in=list(revisions)).order_by("position"):
        revisions[revision.development_id].append(revision)
    return [Entry(development, revisions[development.id]) for development in newest]


def render(feed: Feed) -> dict[str, bytes]:
    """The feed's files: extension → bytes."""
    items = entries(feed)
    updated = max((entry.updated for entry in items), default=EMPTY_FEED_UPDATED)
    return {
        "atom": _generator(feed, items, updated, "atom").atom_str(pretty=True),
        "rss": _generator(feed, items, updated, "rss").rss_str(pretty=True),
        "json": _json_feed(feed, items),
    }


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
        entry.published(item.published)
        entry.updated(item.updated)
        for slug, label in item.topics:
            entry.category(term=slug, label=xml_text(label), scheme=f"{settings.SITE_URL}/feeds/topics/")
    return generator


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
                "date_published": item.published.isoformat(),
                "date_modified": item.updated.isoformat(),
                "tags": [label for _, label in item.topics],
            }
            for item in items
        ],
    }
    if settings.FEEDS_WEBSUB_HUB:
        document["hubs"] = [{"type": "WebSub", "url": settings.FEEDS_WEBSUB_HUB}]
    return json.dumps(document, ensure_ascii=False, indent=2).encode() + b"\n"
