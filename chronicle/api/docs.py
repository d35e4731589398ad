"""OpenAPI documentation of the API's parameters, errors and examples (drf-spectacular)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from .errors import ErrorSerializer

DESCRIPTION = """
Cooperation developments — treaties, decrees, memoranda, visits, network tests — between
states and organisations, first of all the telecom and ICT cooperation of Belarus, China
and Russia and their work with the ITU. Every change is an append-only event; everything
here is derived from that log.

## Access and rate limits
Reading published data needs no account. Anonymous clients share a low rate limit per IP
address; send `Authorization: Api-Key <key>` with a key from your Chronicle contact for a
higher one. A request over its limit gets `429` with `Retry-After` (seconds). An invalid,
expired or revoked key gets `401` — it is never treated as anonymous. Drafts and reviews
never leave through the API: it only ever shows what was published.

## Errors
Every error has the same JSON shape and the right 4xx status:
`{"error": {"code": "invalid", "message": "…", "fields": {"country": ["…"]}}}`.
`code` is stable (`invalid`, `not_found`, `throttled`, `authentication_failed`, …),
`message` is for people and `fields` names each bad parameter. Unknown or repeated
parameters are errors too, so a typo never silently returns everything.

## Pagination and caching
Lists that grow are paginated by cursor: follow `next` until it is `null`. Pages never
skip or repeat an item while the chronicle changes. Answers carry `ETag` and
`Last-Modified`; send `If-None-Match` / `If-Modified-Since` to get `304 Not Modified`.

## Retracted developments
A retracted development stays at its address as a **tombstone**: `200` with
`status: "retracted"`, its title, and `retraction` (reason and time); every other fact is
`null`, so a partner that mirrors the detail stops showing what was withdrawn. Lists leave
retracted developments out unless `include_retracted=true` (to sync tombstones). The
record of what was said and when stays available for audit: `history`, `as_of` and the
change stream show each revision's content as it was published, and the retraction
itself.

## Time travel (Memento, RFC 7089)
A development's detail is a Memento TimeGate: send `Accept-Datetime: Wed, 01 May 2024 12:00:00 GMT`
and get a `302` to the version current then (`?as_of=` the record time of that revision; a
date before the first publication gets the first version). Every detail answer carries a
`Link` header naming the `original`, its `timemap` and the `first` and `last` mementos; an
answer with `as_of` is a memento, with `Memento-Datetime` and `prev` / `next` links too.
`…/<id>/timemap/` lists every version (`application/link-format`, or JSON on
`Accept: application/json`). A retracted development keeps its TimeMap and its earlier
versions.

## Citations
The detail answers `Accept: application/x-bibtex` (BibTeX), `application/x-research-info-systems`
(RIS) and `application/vnd.citationstyles.csl+json` (CSL-JSON) with a citation of the version
shown: Chronicle as publisher, the title, the version (revision and record time), the memento
URL of that version, the date accessed and the development's own date. With `as_of`, of the
version current then. The development's page offers the same as `cite.bib`, `cite.ris` and
`cite.json`.

## Keeping a copy in sync
Read `/api/v1/events/?after=0`, store `next`, and ask again with `after=<next>`. The
stream never skips: an event with a lower position cannot appear after a higher one was
read.

## Bulk exports
Every night the whole public record is written as a Frictionless Data Package at
[`/exports/latest/`](/exports/latest/): `datapackage.json` (Table Schemas with foreign keys)
with `developments.csv` / `developments.ndjson` (each with its `last_revision`),
`sources.csv`, `actors.csv`, `amounts.csv`, `countries.csv`, `topics.csv` and
`events.ndjson.gz` (every public event). The package names the log position it was cut at
(`chronicle.position`): load it, then follow `/api/v1/events/?after=<position>`.
"""

ERROR = OpenApiResponse(
    ErrorSerializer,
    description="An error, in the one shape every endpoint uses.",
)


def _error(status: int, code: str, message: str, fields: dict | None = None) -> OpenApiExample:
    return OpenApiExample(
        f"{status} {code}",
        value={"error": {"code": code, "message": message, "fields": fields or {}}},
        response_only=True,
        status_codes=[str(status)],
    )


ERROR_EXAMPLES = [
    _error(
        400,
        "invalid",
        "country: “XX” is not an ISO 3166-1 alpha-2 country code, e.g. BY.",
        {"country": ["“XX” is not an ISO 3166-1 alpha-2 country code, e.g. BY."]},
    ),
    _error(401, "authentication_failed", "This API key has expired."),
    _error(404, "not_found", "No published development has this id or slug."),
    _error(429, "throttled", "Too many requests; retry in 42 seconds."),
]

COMMON_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="A parameter is not valid, unknown or repeated."),
    401: OpenApiResponse(ErrorSerializer, description="The API key sent is invalid, expired or revoked."),
    429: OpenApiResponse(
        ErrorSerializer,
        description="Rate limit reached; `Retry-After` says how many seconds to wait.",
    ),
}
NOT_MODIFIED = OpenApiResponse(description="Not modified: your copy (ETag / Last-Modified) is current.")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No published development has this id or slug.")


def _param(name: str, description: str, *, type=OpenApiTypes.STR, many: bool = False, examples=None, **extra):
    return OpenApiParameter(
        name,
        type=type,
        location=OpenApiParameter.QUERY,
        description=description,
        many=many,
        explode=True if many else None,
        examples=[OpenApiExample(label, value=value) for label, value in (examples or {}).items()],
        **extra,
    )


ACCEPT_DATETIME = OpenApiParameter(
    "Accept-Datetime",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    description=(
        "Memento (RFC 7089) datetime negotiation: an RFC 1123 date in GMT. The answer is a 302 to the memento "
        "current at that time (`?as_of=` its record time); before the first publication, to the first memento."
    ),
    examples=[OpenApiExample("Before a correction", value="Wed, 01 May 2024 12:00:00 GMT")],
)
# Formats are chosen by the Accept header only; a `format` parameter is refused like any unknown one.
NO_FORMAT_PARAMETER = OpenApiParameter("format", exclude=True)
MEMENTO_REDIRECT = OpenApiResponse(
    description="Memento: `Location` is the memento current at `Accept-Datetime`; `Link` names the original, "
    "the TimeMap and the first and last mementos."
)
BAD_DATETIME = OpenApiResponse(
    ErrorSerializer, description="A parameter is not valid, unknown or repeated, or `Accept-Datetime` is malformed."
)


def citation(label: str) -> OpenApiResponse:
    return OpenApiResponse(
        OpenApiTypes.STR,
        description=f"A citation of the version shown (now, or `as_of`) in {label}, as the page's `cite.*` give it.",
    )


AS_OF = _param(
    "as_of",
    "ISO 8601 date-time (with offset; UTC if none): answer with what the chronicle said then, by record "
    "time. A correction recorded after `as_of` is not visible; a development published after it does not exist.",
    type=OpenApiTypes.DATETIME,
    examples={"Before a correction": "2024-05-01T12:00:00Z"},
)
CURSOR = _param(
    "cursor",
    "Opaque; take it from the `next` address of the previous page.",
    examples={
        "A later page": "WyItZGF0ZSIsWyIyMDIxLTA2LTMwIiwiMjAyMS0wNi0wMSIsIjBkYWYzMGNhLTM3NmEtNTYxNy1iMTcy"
        "LTRlMWZkODhlNTdhYyJdXQ"
    },
)


def limit(default: int, maximum: int) -> OpenApiParameter:
    return _param(
        "limit",
        f"Items per page, 1–{maximum} (default {default}).",
        type=OpenApiTypes.INT,
        examples={"A page": min(default, 50)},
    )


DEVELOPMENT_FILTERS = [
    _param(
        "country",
        "ISO 3166-1 alpha-2 code, any case; repeat for several. See `country_match`.",
        many=True,
        examples={"Belarus": ["BY"], "Belarus and China": ["BY", "CN"]},
    ),
    _param(
        "country_match",
        "With several `country` values: `all` (default) matches developments involving every one of them "
        "— the usual question for bilateral cooperation, e.g. Belarus *and* China; `any` matches developments "
        "involving at least one.",
        enum=["all", "any"],
        examples={"Either country": "any"},
    ),
    _param(
        "topic",
        "Topic slug (see /api/v1/topics/); repeat for several: a development matches if it has any of them.",
        many=True,
        examples={"5G": ["5g"]},
    ),
    _param(
        "kind",
        "Kind slug, e.g. treaty, memorandum, decree, visit, network-test; repeat for several (any of them).",
        many=True,
        examples={"Treaties": ["treaty"]},
    ),
    _param(
        "actor",
        "Actor name as listed by /api/v1/actors/ (case-insensitive); repeat for several (any of them).",
        many=True,
        examples={"Huawei": ["Huawei"]},
    ),
    _param(
        "date_from",
        "YYYY, YYYY-MM or YYYY-MM-DD. Matches developments whose date span overlaps [date_from, date_to]: "
        "a development dated `2005` (all of 2005) matches date_from=2005-06-15; an interval 2015/2023 matches "
        "any range that meets it. date_from=2021 means from 2021-01-01.",
        examples={"From June 2005": "2005-06"},
    ),
    _param(
        "date_to",
        "YYYY, YYYY-MM or YYYY-MM-DD; inclusive, and a partial date means its last day (date_to=2021 is "
        "2021-12-31). Overlap semantics as for date_from.",
        examples={"Through 2021": "2021"},
    ),
    _param(
        "q",
        "Search in titles and summaries: every word of `q` must begin a word of the title or summary, "
        "ignoring case, in any script (`Kopyl` finds Kopylsky, `копыль` finds Копыльский). Results are ranked "
        "by relevance (words in the title first, whole words before prefixes) unless `ordering` is given; "
        "the same on PostgreSQL and SQLite.",
        examples={"Industrial park": "industrial park", "A word's beginning": "Kopyl"},
    ),
    _param(
        "ordering",
        "`-date` (default; newest first by the latest day the date can mean, then the earliest), `date` (its "
        "exact reverse), `-updated` / `updated` (by the time of the latest public event). Ties are broken by "
        "id, so the order is stable.",
        enum=["-date", "date", "-updated", "updated"],
        examples={"Recently changed": "-updated"},
    ),
    _param(
        "include_retracted",
        "true to include retracted developments as tombstones (default false). Filters match the facts they "
        "had when last published.",
        type=OpenApiTypes.BOOL,
        examples={"With tombstones": True},
    ),
]


def describe_api(result, generator, request, public):
    """Postprocessing hook: the API's guide (above) as the schema's description."""
    result["info"]["description"] = DESCRIPTION.strip()
    return result
