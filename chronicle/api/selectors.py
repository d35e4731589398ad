"""What the API reads: public read models only, never drafts or reviews.

Current answers come from the public read models (`PublicDevelopment` and its filter rows,
`PublicRevision`). Answers `as_of` a past moment are what was public then: the detail
replays the development's stream (`projections.as_of`); the list reads each development's
last public revision recorded by then, which holds exactly the content that was public
after it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Max

from chronicle import published
from chronicle.developments import projections, search
from chronicle.developments.models import (
    PublicActor,
    PublicDevelopment,
    PublicRevision,
    PublicStatus,
)
from chronicle.domain import edtf
from chronicle.domain import search as domain_search
from chronicle.domain.development import SLUG, development_id_for
from chronicle.domain.events import PUBLIC_EVENT_TYPES, RevisionKind
from chronicle.eventstore import sealing, store
from chronicle.eventstore.store import RecordedEvent

from .pagination import (
    Key,
    after_q,
    date_key,
    datetime_key,
    decode_cursor,
    encode_cursor,
    float_key,
    int_key,
    is_after,
    sort_in_memory,
    text_key,
    uuid_key,
)

RELEVANCE = "relevance"
# Ties broken by id, in the direction that lets PostgreSQL walk one index backwards.
ORDERING_KEYS: dict[str, list[Key]] = {
    "-date": [date_key("date_latest", True), date_key("date_earliest", True), uuid_key("id", False)],
    "date": [date_key("date_latest", False), date_key("date_earliest", False), uuid_key("id", True)],
    "-updated": [datetime_key("updated_at", True), uuid_key("id", False)],
    "updated": [datetime_key("updated_at", False), uuid_key("id", True)],
    RELEVANCE: [float_key("rank", True), uuid_key("id", False)],
}
HISTORY_KEYS = [int_key("position", False)]
ACTOR_KEYS = [text_key("name", False)]


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def _page(items: list[Any], limit: int, ordering: str, keys: list[Key], value) -> Page:
    if len(items) <= limit:
        return Page(items, None)
    last = items[limit - 1]
    return Page(items[:limit], encode_cursor(ordering, [value(last, key.field) for key in keys]))


# -- developments ------------------------------------------------------------------------


def developments(params: dict) -> Page:
    if params.get("as_of"):
        return _developments_as_of(params)
    searching = bool(domain_search.terms(params.get("q") or ""))
    ordering = params.get("ordering") or (RELEVANCE if searching else "-date")
    keys = ORDERING_KEYS[ordering]
    rows = published.developments(_filters(params))
    if searching:
        rows = search.ranked(rows, params["q"])
    if params.get("cursor"):
        rows = rows.filter(after_q(keys, decode_cursor(params["cursor"], ordering, keys)))
    limit = params["limit"]
    items = list(rows.order_by(*(key.order_by for key in keys))[: limit + 1])
    page = _page(items, limit, ordering, keys, getattr)
    _attach_last_revisions(page.items)
    return page


def _attach_last_revisions(developments: list[PublicDevelopment]) -> None:
    """Give each development its `last_revision`: the public revision its current state comes from."""
    revisions = PublicRevision.objects.defer("content").in_bulk(
        [development.last_public_position for development in developments]
    )
    for development in developments:
        development.last_revision = revisions[development.last_public_position]


def _filters(params: dict) -> published.Filters:
    """The API's validated query parameters as the public read side's filters."""
    return published.Filters(
        countries=tuple(params["country"]),
        every_country=params["country_match"] == "all",
        topics=tuple(params["topic"]),
        kinds=tuple(params["kind"]),
        actors=tuple(params["actor"]),
        date_from=params.get("date_from"),
        date_to=params.get("date_to"),
        text=params.get("q") or "",
        include_retracted=params["include_retracted"],
    )


def _developments_as_of(params: dict) -> Page:
    """The list as it was at `as_of`, from each development's last public revision by then.

    The filters run on the content of that revision, in Python, streaming the revisions
    once; memory holds only the sort values of the matches. Costs a pass over every
    development public at that time: an audit query, not the hot path.
    """
    when = params["as_of"]
    ordering = params.get("ordering") or "-date"
    keys = ORDERING_KEYS[ordering]
    cursor = decode_cursor(params["cursor"], ordering, keys) if params.get("cursor") else None
    last_by_then = (
        PublicRevision.objects.filter(recorded_at__lte=when)
        .values("development_id")
        .annotate(last=Max("position"))
        .values("last")
    )
    revisions = (
        PublicRevision.objects.filter(position__in=last_by_then)
        .values_list("position", "development_id", "kind", "content", "recorded_at")
        .iterator(chunk_size=2000)
    )
    filters = _filters(params)
    matches: list[dict[str, Any]] = []
    for position, development_id, kind, content, recorded_at in revisions:
        if kind == RevisionKind.RETRACTED and not params["include_retracted"]:
            continue
        if not published.content_matches(content, filters):
            continue
        span = edtf.parse(content["date"])
        item = {
            "position": position,
            "id": development_id,
            "date_latest": span.latest,
            "date_earliest": span.earliest,
            "updated_at": recorded_at,
        }
        if cursor is None or is_after([item[key.field] for key in keys], cursor, keys):
            matches.append(item)
    sort_in_memory(matches, keys, dict.__getitem__)
    page = _page(matches[: params["limit"] + 1], params["limit"], ordering, keys, dict.__getitem__)
    page.items = _as_of_developments([item["position"] for item in page.items])
    return page


def _as_of_developments(positions: list[int]) -> list[PublicDevelopment]:
    revisions = PublicRevision.objects.in_bulk(positions)
    ids = [revision.development_id for revision in revisions.values()]
    known = {
        row["id"]: row
        for row in PublicDevelopment.objects.filter(id__in=ids).values("id", "slug", "first_published_at")
    }
    return [
        projections.public_after(revisions[position], **known[revisions[position].development_id])
        for position in positions
    ]


# -- one development ---------------------------------------------------------------------


def development_id(identifier: str) -> uuid.UUID | None:
    """The id named by a UUID or a slug in the URL (slugs map to ids for good)."""
    try:
        return uuid.UUID(identifier)
    except ValueError:
        return development_id_for(identifier) if SLUG.fullmatch(identifier) else None


def development(identifier: str, as_of: datetime | None = None) -> PublicDevelopment | None:
    """The public development, now or as recorded at `as_of`; None if it was not public."""
    found = development_id(identifier)
    if found is None:
        return None
    if as_of is None:
        current = PublicDevelopment.objects.filter(id=found).first()
        if current is not None:
            _attach_last_revisions([current])
        return current
    projection = projections.as_of(found, as_of)
    if projection is None or projection.public is None:
        return None
    public = projection.public
    public.last_revision = projection.revisions[-1]
    return public


def revision_times(development_id: uuid.UUID) -> list[PublicRevision]:
    """Its public revisions, oldest first, without their content: what a TimeMap lists."""
    return list(
        PublicRevision.objects.filter(development_id=development_id)
        .order_by("position")
        .only("position", "development_id", "version", "kind", "note", "recorded_at")
    )


def history(development_id: uuid.UUID, params: dict) -> Page:
    rows = published.revisions(development_id)
    if params.get("as_of"):
        rows = rows.filter(recorded_at__lte=params["as_of"])
    if params.get("cursor"):
        rows = rows.filter(after_q(HISTORY_KEYS, decode_cursor(params["cursor"], "position", HISTORY_KEYS)))
    items = list(rows.order_by("position")[: params["limit"] + 1])
    return _page(items, params["limit"], "position", HISTORY_KEYS, getattr)


# -- the change stream -------------------------------------------------------------------


@dataclass(frozen=True)
class PublicEvent:
    event: RecordedEvent
    slug: str
    revision: PublicRevision | None
    seal: str | None  # None until the sealer has reached it


def public_events(after: int, limit: int) -> list[PublicEvent]:
    """Public events after position `after`, in position order, with the content each left public."""
    events = store.read_after(after, limit=limit, types=PUBLIC_EVENT_TYPES)
    revisions = PublicRevision.objects.in_bulk([event.position for event in events])
    slugs = dict(
        PublicDevelopment.objects.filter(id__in={event.stream_id for event in events}).values_list("id", "slug")
    )
    seals = sealing.seals_at([event.position for event in events])
    return [
        PublicEvent(event, slugs.get(event.stream_id, ""), revisions.get(event.position), seals.get(event.position))
        for event in events
    ]


# -- vocabularies ------------------------------------------------------------------------


def actors(params: dict) -> Page:
    rows = PublicActor.objects.filter(development__status=PublicStatus.PUBLISHED)
    if params.get("q"):
        rows = rows.filter(name__icontains=params["q"])
    named = rows.values("name").annotate(count=Count("development", distinct=True)).order_by("name")
    if params.get("cursor"):
        named = named.filter(after_q(ACTOR_KEYS, decode_cursor(params["cursor"], "name", ACTOR_KEYS)))
    page = _page(list(named[: params["limit"] + 1]), params["limit"], "name", ACTOR_KEYS, dict.__getitem__)
    roles: dict[str, set[str]] = {}
    for name, role in rows.filter(name__in=[item["name"] for item in page.items]).values_list("name", "role"):
        roles.setdefault(name, set()).add(role)
    for item in page.items:
        item["roles"] = sorted(roles[item["name"]])
    return page


# -- what the answers derive from, for conditional GET -----------------------------------


def public_version(as_of: datetime | None = None) -> tuple[int, datetime | None]:
    """Position and time of the latest public event (recorded by `as_of`): every public
    read model changes only when one is recorded, so this versions all of them."""
    rows = PublicRevision.objects.filter(position__lte=store.visible_position())
    if as_of is not None:
        rows = rows.filter(recorded_at__lte=as_of)
    latest = rows.order_by("-position").values_list("position", "recorded_at").first()
    return latest or (0, None)
