"""Memento (RFC 7089): a development's past versions, reachable by the web's own standard.

A development's page and its API detail are each an Original Resource and its own
TimeGate (RFC 7089, pattern 2.1): a request with `Accept-Datetime` is redirected (302) to
the memento current at that time. Every public revision is a memento, addressed by the
resource's URL with `?as_of=` its record time, so the memento shows exactly what was
public after that revision. The TimeMap lists them all in `application/link-format`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date

from chronicle.developments.models import PublicRevision
from chronicle.errors import error_response

LINK_FORMAT = "application/link-format"
ACCEPT_DATETIME = "HTTP_ACCEPT_DATETIME"
# RFC 7089 section 2.1.1: Accept-Datetime is an HTTP-date in its IMF-fixdate form (RFC 1123).
_RFC_1123 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}:\d{2} GMT$"
)
BAD_ACCEPT_DATETIME = (
    "Accept-Datetime must be an RFC 1123 date in GMT, e.g. “Tue, 01 Jun 2021 09:00:00 GMT”; got “{value}”."
)


class BadDatetime(ValueError):
    """An Accept-Datetime or as_of that does not name a moment."""


def parse_accept_datetime(value: str) -> datetime:
    value = value.strip()
    if _RFC_1123.match(value):
        try:
            return datetime.strptime(value, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
        except ValueError:
            pass  # e.g. 31 Feb
    raise BadDatetime(BAD_ACCEPT_DATETIME.format(value=value[:100]))


def parse_as_of(value: str) -> datetime:
    """`as_of` as the API takes it: ISO 8601, UTC when it names no offset."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        message = f"as_of must be an ISO 8601 date and time, e.g. 2024-06-01T09:00:00Z; got “{value[:100]}”."
        raise BadDatetime(message) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_of_text(moment: datetime) -> str:
    """`as_of` as memento URLs write it: UTC, to the microsecond, so it names one revision."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def memento_url(original: str, moment: datetime) -> str:
    """The memento of `original` as it was at `moment` (a revision's record time)."""
    separator = "&" if "?" in original else "?"
    return f"{original}{separator}as_of={quote(as_of_text(moment))}"


def memento_datetime(moment: datetime) -> str:
    return http_date(moment.timestamp())


@dataclass(frozen=True)
class Memento:
    url: str
    datetime: datetime
    revision: PublicRevision


@dataclass(frozen=True)
class Timeline:
    """One resource's mementos (a development's public revisions, oldest first)."""

    original: str  # absolute URL of the Original Resource, also its TimeGate
    timemap: str
    mementos: tuple[Memento, ...]

    @classmethod
    def of(cls, original: str, timemap: str, revisions: Sequence[PublicRevision]) -> Timeline:
        mementos = tuple(Memento(memento_url(original, r.recorded_at), r.recorded_at, r) for r in revisions)
        return cls(original, timemap, mementos)

    def index_at(self, moment: datetime) -> int | None:
        """The memento current at `moment`: the last one recorded by then; None before the first."""
        index = bisect.bisect_right([m.datetime for m in self.mementos], moment) - 1
        return index if index >= 0 else None

    def index_of(self, position: int) -> int:
        return next(i for i, memento in enumerate(self.mementos) if memento.revision.position == position)

    # -- Link headers ----------------------------------------------------------------------

    def _links(self, relations: dict[int, list[str]]) -> list[str]:
        links = [
            f'<{self.original}>; rel="original timegate"',
            f'<{self.timemap}>; rel="timemap"; type="{LINK_FORMAT}"',
        ]
        for index in sorted(relations):
            memento = self.mementos[index]
            rel = " ".join([*relations[index], "memento"])
            links.append(f'<{memento.url}>; rel="{rel}"; datetime="{memento_datetime(memento.datetime)}"')
        return links

    def original_links(self) -> str:
        relations: dict[int, list[str]] = {}
        if self.mementos:
            relations.setdefault(0, []).append("first")
            relations.setdefault(len(self.mementos) - 1, []).append("last")
        return ", ".join(self._links(relations))

    def memento_links(self, index: int) -> str:
        last = len(self.mementos) - 1
        relations: dict[int, list[str]] = {index: []}

        def add(at: int, rel: str) -> None:
            relations.setdefault(at, []).append(rel)

        add(0, "first")
        if index > 0:
            add(index - 1, "prev")
        if index < last:
            add(index + 1, "next")
        add(last, "last")
        return ", ".join(self._links(relations))

    # -- responses -------------------------------------------------------------------------

    def redirect(self, accept_datetime: str) -> HttpResponse:
        """The TimeGate's answer to `Accept-Datetime`: 302 to the memento current then (the
        first one for a moment before the first publication), or 400 for a malformed date."""
        try:
            moment = parse_accept_datetime(accept_datetime)
        except BadDatetime as error:
            response: HttpResponse = bad_request(str(error))
        else:
            index = self.index_at(moment)
            response = HttpResponseRedirect(self.mementos[0 if index is None else index].url)
            response["Link"] = self.memento_links(0 if index is None else index)
        patch_vary_headers(response, ["Accept-Datetime"])
        return response

    def mark_original(self, response: HttpResponse) -> HttpResponse:
        response["Link"] = self.original_links()
        patch_vary_headers(response, ["Accept-Datetime"])
        return response

    def mark_memento(self, response: HttpResponse, index: int) -> HttpResponse:
        response["Memento-Datetime"] = memento_datetime(self.mementos[index].datetime)
        response["Link"] = self.memento_links(index)
        return response

    def link_format(self) -> str:
        """The TimeMap (RFC 7089 section 5), one link per line."""
        lines = [
            f'<{self.original}>; rel="original"',
            f'<{self.timemap}>; rel="self"; type="{LINK_FORMAT}"'
            + (
                f'; from="{memento_datetime(self.mementos[0].datetime)}"'
                f'; until="{memento_datetime(self.mementos[-1].datetime)}"'
                if self.mementos
                else ""
            ),
            f'<{self.original}>; rel="timegate"',
        ]
        last = len(self.mementos) - 1
        for index, memento in enumerate(self.mementos):
            rel = " ".join([*(["first"] if index == 0 else []), *(["last"] if index == last else []), "memento"])
            lines.append(f'<{memento.url}>; rel="{rel}"; datetime="{memento_datetime(memento.datetime)}"')
        return ",\n".join(lines) + "\n"

    def json(self) -> dict:
        """The TimeMap as JSON, in the shape Memento aggregators use, with each revision's kind and note."""
        items = [
            {
                "datetime": memento.datetime.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "uri": memento.url,
                "kind": memento.revision.kind,
                "note": memento.revision.note,
                "position": memento.revision.position,
            }
            for memento in self.mementos
        ]
        return {
            "original_uri": self.original,
            "timegate_uri": self.original,
            "timemap_uri": {"link_format": self.timemap},
            "mementos": {"first": items[0] if items else None, "last": items[-1] if items else None, "list": items},
        }

    def timemap_response(self, request) -> HttpResponse:
        accepted = request.headers.get("Accept", "")
        response: HttpResponse
        if "application/json" in accepted and LINK_FORMAT not in accepted:
            response = JsonResponse(self.json(), json_dumps_params={"ensure_ascii": False})
        else:
            response = HttpResponse(self.link_format(), content_type=f"{LINK_FORMAT}; charset=utf-8")
        patch_vary_headers(response, ["Accept"])
        return response


def bad_request(message: str) -> HttpResponse:
    return error_response(400, "invalid", message)
