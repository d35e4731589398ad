"""Whole answers of the public read endpoints, kept in the shared cache as bytes.

Every public read model changes only when a public event is recorded, so an answer stays
right until the next one. An answer is kept under the request (scheme, host, full path, the
negotiated media type) and the public data's version; the next request with the same key
gets its status, headers and body back without the view's queries or DRF's rendering.

The version is a counter in the shared cache (Redis), moved by every process after it
commits a public event, so a kept answer costs no query at all. A per-process cache cannot
hear of other processes' commits (a Celery worker releasing an embargo), so there the
version is the latest public position, one indexed query.

Authentication, permissions and throttling run before (DRF's `initial`) on every request,
hit or not; on Redis the throttle's count and the answer's lookup share one round trip
(`count_and_look_up`). Conditional GET is answered from the kept validators, as the view would.
Only answers a view built with `respond` are kept: never an error, a redirect or a
citation (it names the day it was accessed), and nothing private to a caller.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import time
from datetime import UTC, datetime
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpResponse
from django.utils.http import parse_http_date_safe

from chronicle import memento
from chronicle.cache import FailOpenRedisCache

from . import selectors
from .conditional import not_modified

GENERATION = "api-answers:generation"

# What a 304 leaves out of the headers of the answer it stands for.
_BODY_HEADERS = {"content-type", "cache-control"}


class Answer(NamedTuple):
    version: str  # of the public data it shows
    etag: str
    last_modified: datetime | None
    headers: list[tuple[str, str]]
    body: bytes

    def replay(self, request) -> HttpResponse:
        response = not_modified(request, self.etag, self.last_modified)
        if response is None:
            response = HttpResponse(self.body)
            for name, value in self.headers:
                response[name] = value
        else:
            for name, value in self.headers:
                if name.lower() not in _BODY_HEADERS:
                    response[name] = value
        return response


def mark_shareable(response):
    """Let `kept` keep this answer: it shows public data, the same for anyone."""
    response.shareable = True
    return response


def kept(get):
    """Serve a public view's `get` from the kept answers; its answers must depend only on the
    request and the public data."""

    @functools.wraps(get)
    def answer(view, request, *args, **kwargs):
        if memento.ACCEPT_DATETIME in request.META:  # a TimeGate's redirect
            return get(view, request, *args, **kwargs)
        key, version, found = getattr(request, "kept_lookup", None) or _look_up(request)
        if found is not None and found.version == version:
            return found.replay(request)
        response = get(view, request, *args, **kwargs)
        if version is not None and getattr(response, "shareable", False) and response.status_code == 200:
            response.add_post_render_callback(functools.partial(_keep, key, version))
        return response

    answer.kept = True  # type: ignore[attr-defined]
    return answer


def count_and_look_up(view, request) -> bool:
    """On Redis, count a request to a kept view against its throttle and read its kept answer in
    one round trip, as each round trip is about a fifth of a kept answer's time; False (nothing
    done: the throttles count as usual) anywhere else."""
    handler = getattr(view, request.method.lower(), None)
    if not getattr(handler, "kept", False) or memento.ACCEPT_DATETIME in request.META:
        return False
    if not isinstance(caches["default"], FailOpenRedisCache):
        return False
    windows = [(throttle, throttle.window(request)) for throttle in view.get_throttles()]
    applying = [(throttle, window) for throttle, window in windows if window is not None]
    if len(applying) != 1:
        return False
    ((throttle, window),) = applying
    key = _key(request)
    count, found = cache.count_and_get_many(window.key, window.period + 1, [GENERATION, key])
    request.kept_lookup = key, _version(found.get(GENERATION)), found.get(key)
    if not throttle.admits(window, count):
        view.throttled(request, throttle.wait())
    return True


def _key(request) -> str:
    text = f"{request.build_absolute_uri()}|{request.accepted_media_type}"
    return f"api-answer:{hashlib.sha256(text.encode()).hexdigest()}"


def _look_up(request) -> tuple[str, str | None, Answer | None]:
    """The request's key, the public data's version (None while the cache is unreachable) and
    the answer kept under the key."""
    key = _key(request)
    if isinstance(caches["default"], LocMemCache):
        position, _ = selectors.public_version()
        return key, f"position {position}", cache.get(key)
    found = cache.get_many([GENERATION, key])  # one round trip
    return key, _version(found.get(GENERATION)), found.get(key)


def _version(generation: int | None) -> str | None:
    if generation is None:
        # Started from the clock, a counter that was lost never returns to a number it had.
        cache.add(GENERATION, time.time_ns(), timeout=None)
        generation = cache.get(GENERATION)
    return None if generation is None else f"generation {generation}"


def public_data_changed(**kwargs) -> None:
    """Receiver of `public_events_committed`, and of the cache reaching Redis again (a move
    may have been lost meanwhile): every kept answer is now stale."""
    with contextlib.suppress(ValueError):  # no counter (or no Redis): the next reader starts one
        cache.incr(GENERATION)


def _keep(key: str, version: str, response) -> None:
    last_modified = parse_http_date_safe(response.get("Last-Modified"))
    answer = Answer(
        version,
        response["ETag"],
        None if last_modified is None else datetime.fromtimestamp(last_modified, UTC),
        list(response.items()),
        response.content,
    )
    cache.set(key, answer, timeout=settings.API_BODY_CACHE_SECONDS)
