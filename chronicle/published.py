"""What the public sees, read one way by the pages, the feeds, the digests and the API.

Everything here reads the public read models (`PublicDevelopment`, its filter rows and
`PublicRevision`); nothing reads a draft or a review. A development's public address and
the filters of the timeline and of the API are defined here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse

from chronicle.developments import search
from chronicle.developments.models import (
    PublicActor,
    PublicCountry,
    PublicDevelopment,
    PublicRevision,
    PublicStatus,
    PublicTopic,
)
from chronicle.domain import edtf
from chronicle.domain import search as domain_search
from chronicle.eventstore import store

# -- addresses ---------------------------------------------------------------------------


def development_path(slug: str) -> str:
    """A development's public page, as a path on this site."""
    return reverse("public:development", args=[slug])


def development_url(slug: str) -> str:
    """A development's public page, absolute (feeds, emails)."""
    return f"{settings.SITE_URL}{development_path(slug)}"


def revision_url(slug: str, version: int) -> str:
    """A revision in the history on the development's page (feeds and digests link corrections here)."""
    return f"{development_url(slug)}#revision-{version}"


def api_development_url(development_id: UUID | str) -> str:
    """A development in the API, absolute (exports, webhooks)."""
    return f"{settings.SITE_URL}{reverse('api:development-detail', args=[str(development_id)])}"


# -- developments ------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """Which public developments to show. Empty criteria do not filter."""

    countries: tuple[str, ...] = ()  # ISO 3166-1 alpha-2, upper case
    every_country: bool = False  # each of `countries` (else any of them)
    topics: tuple[str, ...] = ()  # any of them
    kinds: tuple[str, ...] = ()  # any of them
    other_kinds_than: tuple[str, ...] = ()  # none of them
    actors: tuple[str, ...] = ()  # any of them, by name, case-insensitively
    date_from: date | None = None  # the development's date span overlaps [date_from, date_to]
    date_to: date | None = None
    text: str = ""  # `q`: a word beginning with each of its words, in the title or the summary
    include_retracted: bool = False

    @classmethod
    def for_year(cls, year: int, **criteria: Any) -> Filters:
        return cls(date_from=date(year, 1, 1), date_to=date(year, 12, 31), **criteria)


def developments(filters: Filters | None = None) -> QuerySet[PublicDevelopment]:
    """The public developments that match `filters` (all published ones without), newest date first."""
    filters = filters or Filters()
    rows = PublicDevelopment.objects.all()
    if not filters.include_retracted:
        rows = rows.filter(status=PublicStatus.PUBLISHED)
    if filters.countries and not filters.every_country:
        rows = rows.filter(Exists(PublicCountry.objects.filter(development=OuterRef("pk"), code__in=filters.countries)))
    else:
        for code in filters.countries:
            rows = rows.filter(Exists(PublicCountry.objects.filter(development=OuterRef("pk"), code=code)))
    if filters.topics:
        rows = rows.filter(Exists(PublicTopic.objects.filter(development=OuterRef("pk"), slug__in=filters.topics)))
    if filters.kinds:
        rows = rows.filter(kind__in=filters.kinds)
    if filters.other_kinds_than:
        rows = rows.exclude(kind__in=filters.other_kinds_than)
    if filters.actors:
        named = Q()
        for name in filters.actors:
            named |= Q(name__iexact=name)
        rows = rows.filter(Exists(PublicActor.objects.filter(named, development=OuterRef("pk"))))
    if filters.date_from:
        rows = rows.filter(date_latest__gte=filters.date_from)
    if filters.date_to:
        rows = rows.filter(date_earliest__lte=filters.date_to)
    if filters.text:
        rows = search.matching(rows, filters.text)
    return rows  # newest date first, by the model's ordering


def content_matches(content: dict[str, Any], filters: Filters) -> bool:
    """Whether a development saying `content` (as stored) passes `filters`: the same test as
    `developments`, for content no read model holds any more (what was public at a past time)."""
    span = edtf.parse(content["date"])
    countries = set(content["countries"])
    wanted = set(filters.countries)
    if wanted and not (wanted <= countries if filters.every_country else wanted & countries):
        return False
    if filters.topics and not set(filters.topics) & set(content["topics"]):
        return False
    if filters.kinds and content["kind"] not in filters.kinds:
        return False
    if content["kind"] in filters.other_kinds_than:
        return False
    if filters.actors:
        names = {actor["name"].casefold() for actor in content.get("actors", [])}
        if not names & {name.casefold() for name in filters.actors}:
            return False
    if filters.date_from and span.latest < filters.date_from:
        return False
    if filters.date_to and span.earliest > filters.date_to:
        return False
    return not filters.text or domain_search.matches(filters.text, content["title"], content.get("summary", ""))


# -- revisions ---------------------------------------------------------------------------


def revisions(development_id: UUID) -> QuerySet[PublicRevision]:
    """A development's public revisions, oldest first."""
    return PublicRevision.objects.filter(development_id=development_id).order_by("position")


def latest_position(*, settle: bool = False) -> int:
    """The change-stream position of the latest public revision; 0 before the first. Only
    one no later reader can find a lower one behind (`store`); with `settle`, once every
    event committed so far can be seen."""
    bound = store.settled_position() if settle else store.visible_position()
    return (
        PublicRevision.objects.filter(position__lte=bound)
        .order_by("-position")
        .values_list("position", flat=True)
        .first()
        or 0
    )


# -- vocabularies in use -----------------------------------------------------------------


def topic_counts() -> dict[str, int]:
    """Topic slug → published developments with it (retracted ones not counted)."""
    return dict(
        PublicTopic.objects.filter(development__status=PublicStatus.PUBLISHED)
        .values("slug")
        .annotate(count=Count("development"))
        .values_list("slug", "count")
    )


def country_counts() -> list[tuple[str, int]]:
    """(country code, published developments involving it), by code."""
    return list(
        PublicCountry.objects.filter(development__status=PublicStatus.PUBLISHED)
        .values("code")
        .annotate(count=Count("development"))
        .order_by("code")
        .values_list("code", "count")
    )
