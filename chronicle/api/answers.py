"""Whole answers of the public read endpoints, kept in the shared cache as bytes.

Every public read model changes only when a public event is recorded, so an answer stays
right until the next one. An answer is kept under the request (scheme, host, full path and
Accept header) and the public data's version; the next request with the same key gets its
status, headers and body back before the URL is resolved or DRF runs, without the view's
queries or rendering.

The version is a counter in the shared cache (Redis), moved by every process after it
commits a public event, so a kept answer costs no query at all. A per-process cache cannot
hear of other processes' commits (a Celery worker releasing an embargo), so there the
version is the latest public position, one indexed query.

A kept answer is served only after the checks DRF would make: an API key is verified as
`ApiKeyAuthentication` does, and the request is counted against the same rate limit as the
view's throttles count it; on Redis, the count and the answer's lookup share one round
trip. A request that carries a session (staff in the admin) or a key that is refused, asks
for a TimeGate's redirect, or finds no current answer goes on to the view, which counts it
only if it was not counted here. Conditional GET is answered from the kept validators, as
the view would. Only answers a view built with `respond` are kept, and only by views that
say so (`keeps_answers`): never an error, a redirect or a citation (it names the day it was
accessed), and nothing private to a caller.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from datetime import UTC, datetime
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import DisallowedHost
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils.http import parse_http_date_safe
from rest_framework.exceptions import AuthenticationFailed

from chronicle import memento
from chronicle.cache import FailOpenRedisCache
from chronicle.database import unavailable_response

from . import selectors, throttling
from .authentication import ApiKeyAuthentication
from .conditional import not_modified

GENERATION = "api-answers:generation"
PATH_PREFIX = "/api/"  # where config/urls.py mounts the public API

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
    """Let a view that keeps answers keep this one: it shows public data, the same for anyone."""
    response.shareable = True
    return response


class Counted(NamedTuple):
    """A request counted against its rate limit with its kept answer's lookup."""

    throttle: throttling.RateThrottle
    window: throttling.Window
    count: int

    @property
    def admitted(self) -> bool:
        return self.throttle.admits(self.window, self.count)


class KeptAnswerMiddleware:
    """Answers a repeated public API request with its kept answer; keeps the answers of views
    that keep them. Sits outside the session middleware, so what that adds is kept too, and
    inside the common middleware, which gives kept and fresh answers their Content-Length."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if not _may_take_kept_answer(request):
            return self.get_response(request)
        try:
            key = _key(request)
        except DisallowedHost:
            return self.get_response(request)  # Django answers 400
        try:
            caller = _caller(request)
            throttled = caller and throttling.public_window(request, *caller)
            if not throttled:  # a refused key (DRF says why), or no throttle to count it
                return self.get_response(request)
            version, found, counted = _look_up(request, key, *throttled)
        except (OperationalError, InterfaceError) as error:
            # Outside any view, so DatabaseUnavailableMiddleware would not see it: the same 503.
            unavailable = unavailable_response(request, error)
            if unavailable is None:
                raise
            return unavailable
        request.counted_with_kept_answer = counted  # the view's throttles take this count
        if found is not None and found.version == version and counted is not None and counted.admitted:
            return found.replay(request)
        response = self.get_response(request)
        if version is not None and _keepable(request, response):
            _keep(key, version, response)
        return response


def _may_take_kept_answer(request) -> bool:
    return (
        request.method == "GET"
        and request.path_info.startswith(PATH_PREFIX)
        and memento.ACCEPT_DATETIME not in request.META
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def _caller(request) -> tuple | None:
    """(user, API key) as the view's authentication would find them; None if it would refuse them."""
    try:
        return ApiKeyAuthentication().authenticate(request) or (AnonymousUser(), None)
    except AuthenticationFailed:
        return None


def _key(request) -> str:
    text = f"{request.build_absolute_uri()}|{request.META.get('HTTP_ACCEPT', '')}"
    return f"api-answer:{hashlib.sha256(text.encode()).hexdigest()}"


def _look_up(
    request, key: str, throttle: throttling.RateThrottle, window: throttling.Window
) -> tuple[str | None, Answer | None, Counted | None]:
    """The public data's version (None while the cache is unreachable, or when nothing will be
    kept), the answer kept under `key`, and, if one was found, the request's count in `window`."""
    if isinstance(caches["default"], FailOpenRedisCache):
        count, found = cache.get_many_counting_if_found([GENERATION, key], window.key, window.period + 1)
        counted = Counted(throttle, window, count) if count else None
        return _version(found.get(GENERATION)), found.get(key), counted
    found = cache.get(key)
    if found is None and not _keeps_answers(_view_at(request.path_info)):
        return None, None, None  # the version would cost a query here
    if isinstance(caches["default"], LocMemCache):
        position, _ = selectors.public_version()
        version = f"position {position}"
    else:
        version = _version(cache.get(GENERATION))
    counted = None if found is None else Counted(throttle, window, throttling.count(window))
    return version, found, counted


def _version(generation: int | None) -> str | None:
    if generation is None:
        # Started from the clock, a counter that was lost never returns to a number it had.
        cache.add(GENERATION, time.time_ns(), timeout=None)
        generation = cache.get(GENERATION)
    return None if generation is None else f"generation {generation}"


def _view_at(path: str):
    try:
        return resolve(path).func
    except Resolver404:
        return None


def _keeps_answers(view) -> bool:
    return getattr(getattr(view, "view_class", None), "keeps_answers", False)


def _keepable(request, response) -> bool:
    return (
        _keeps_answers(getattr(getattr(request, "resolver_match", None), "func", None))
        and getattr(response, "shareable", False)
        and response.status_code == 200
        and not response.cookies
    )


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
