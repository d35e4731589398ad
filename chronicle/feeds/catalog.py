"""Which feeds exist, what each contains, and which ones a public event touches.

A feed is the whole chronicle ("all"), one country ("countries/by") or one topic
("topics/5g"); each is written as Atom, RSS and JSON Feed files under FEEDS_ROOT.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode
from uuid import UUID

from django.conf import settings
from django.db.models import QuerySet

from chronicle import published
from chronicle.developments.models import PublicCountry, PublicDevelopment, PublicRevision
from chronicle.domain.content import country_name, is_country
from chronicle.domain.events import RevisionKind
from chronicle.domain.vocabulary import TOPICS

FORMATS = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}

_PATH = re.compile(r"^(?:all|countries/(?P<country>[a-z]{2})|topics/(?P<topic>[a-z0-9-]+))$")


@dataclass(frozen=True)
class Feed:
    country: str = ""  # ISO 3166-1 alpha-2, upper case as stored
    topic: str = ""

    @classmethod
    def from_path(cls, path: str) -> Feed | None:
        """The feed at `path` ("all", "countries/by", "topics/5g"), or None if there is none."""
        match = _PATH.match(path)
        if not match:
            return None
        if match["country"]:
            code = match["country"].upper()
            return cls(country=code) if is_country(code) else None
        if match["topic"]:
            return cls(topic=match["topic"]) if match["topic"] in TOPICS else None
        return cls()

    @property
    def path(self) -> str:
        if self.country:
            return f"countries/{self.country.lower()}"
        if self.topic:
            return f"topics/{self.topic}"
        return "all"

    @property
    def name(self) -> str:
        if self.country:
            return country_name(self.country)
        if self.topic:
            return TOPICS[self.topic].label
        return "All developments"

    @property
    def title(self) -> str:
        return f"Chronicle — {self.name}"

    @property
    def description(self) -> str:
        if self.country:
            return f"Cooperation developments involving {self.name}, with their corrections and updates."
        if self.topic:
            return f"Cooperation developments on {self.name}, with their corrections and updates."
        return "Every published cooperation development, with its corrections and updates."

    def url(self, extension: str) -> str:
        return f"{settings.SITE_URL}/feeds/{self.path}.{extension}"

    @property
    def page_url(self) -> str:
        """The public timeline showing the same developments."""
        query = {"country": self.country.lower()} if self.country else {"topic": self.topic} if self.topic else {}
        return f"{settings.SITE_URL}/" + (f"?{urlencode(query)}" if query else "")

    def developments(self) -> QuerySet[PublicDevelopment]:
        """Every public development in this feed, retracted ones included."""
        return published.developments(
            published.Filters(
                countries=(self.country,) if self.country else (),
                topics=(self.topic,) if self.topic else (),
                include_retracted=True,
            )
        )

    def revisions(self) -> QuerySet[PublicRevision]:
        """Every public revision of the developments in this feed (by what they say now)."""
        return PublicRevision.objects.filter(development__in=self.developments())


def every_feed() -> list[Feed]:
    """The whole chronicle, every topic of the vocabulary (so one can subscribe before its
    first entry), and every country that has or had a public development."""
    from .models import FeedState

    countries = set(PublicCountry.objects.values_list("code", flat=True).distinct())
    for path in FeedState.objects.filter(path__startswith="countries/").values_list("path", flat=True):
        feed = Feed.from_path(path)
        if feed:
            countries.add(feed.country)
    return [Feed(), *(Feed(topic=slug) for slug in TOPICS), *(Feed(country=code) for code in sorted(countries))]


def affected_feeds(
    revisions: Iterable[PublicRevision], before: Mapping[UUID, dict | None] | None = None
) -> dict[str, int]:
    """Feed path → the highest position among `revisions` that changes it.

    A correction or update may drop a country or topic, so the feeds of the content
    before it are touched as well as those after it. `before`, when the caller knows it,
    is each development's public content before the first of `revisions`; without it,
    that content is read from the earlier revisions in the database.
    """
    affected: dict[str, int] = {}
    known = dict(before) if before is not None else None
    for revision in revisions:
        contents = [revision.content]
        if revision.kind != RevisionKind.PUBLISHED:
            earlier = known.get(revision.development_id) if known is not None else _content_before(revision)
            if earlier is not None:
                contents.append(earlier)
        if known is not None:
            known[revision.development_id] = revision.content
        feeds = {Feed()}
        for content in contents:
            feeds.update(Feed(country=code) for code in content["countries"])
            feeds.update(Feed(topic=slug) for slug in content["topics"] if slug in TOPICS)
        for feed in feeds:
            affected[feed.path] = max(affected.get(feed.path, 0), revision.position)
    return affected


def _content_before(revision: PublicRevision) -> dict | None:
    return (
        PublicRevision.objects.filter(development_id=revision.development_id, position__lt=revision.position)
        .order_by("-position")
        .values_list("content", flat=True)
        .first()
    )
