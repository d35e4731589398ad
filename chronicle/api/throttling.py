"""Rate limits: low for anonymous clients, higher for API keys and signed-in staff.

A fixed-window counter in the cache: one atomic increment per request, whatever the rate
(DRF's built-in throttles rewrite a list of every request in the window each time, which
grows with the rate a partner is allowed). Rates come from settings at request time
(REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]); a throttled request gets 429 with Retry-After.
Counters live in Django's default cache, which must be shared (e.g. Redis) for the limit
to hold across web processes.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from typing import NamedTuple

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from .models import ApiKey

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "60/minute" → (60, 60)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period[0]]


class Window(NamedTuple):
    """The current fixed window of a rate for one identity."""

    key: str  # of its counter in the cache
    limit: int  # requests allowed in it
    period: int  # its length, in seconds
    retry_after: float  # seconds until it ends


def window(identity: str, rate: str) -> Window:
    limit, period = parse_rate(rate)
    now = time.time()
    number = int(now // period)
    return Window(f"throttle:{identity}:{number}", limit, period, (number + 1) * period - now)


def count(current: Window) -> int:
    """Count one more request in `current`: how many it has had."""
    try:
        return cache.incr(current.key)  # the window's counter exists but for its first request
    except ValueError:
        return 1 if cache.add(current.key, 1, timeout=current.period + 1) else cache.incr(current.key)


def count_request(identity: str, rate: str) -> tuple[bool, float]:
    """Count one request against `identity` at `rate`: whether it is allowed, and the seconds
    until the window ends."""
    current = window(identity, rate)
    return count(current) <= current.limit, current.retry_after


class RateThrottle(BaseThrottle, ABC):
    scope = ""

    @abstractmethod
    def identity(self, request, user, auth) -> str | None:
        """Whom to count a request from `user` (with the API key `auth`) against, or None when
        this throttle does not apply."""

    def window(self, request, user, auth) -> Window | None:
        """The window to count the request in, or None when this throttle does not apply."""
        identity = self.identity(request, user, auth)
        if identity is None:
            return None
        return window(f"{self.scope}:{identity}", api_settings.DEFAULT_THROTTLE_RATES[self.scope])

    def allow_request(self, request, view) -> bool:
        current = self.window(request, request.user, request.auth)
        return current is None or self.admits(current, count(current))

    def admits(self, current: Window, counted: int) -> bool:
        """Whether the request counted `counted` in `current` is allowed (else `wait` says how long)."""
        self.retry_after = current.retry_after
        return counted <= current.limit

    def wait(self) -> float:
        return math.ceil(self.retry_after)


class AnonymousThrottle(RateThrottle):
    scope = "anonymous"

    def identity(self, request, user, auth) -> str | None:
        if user and user.is_authenticated:
            return None
        return self.get_ident(request)


class PartnerThrottle(RateThrottle):
    """Per key, or per staff user signed in to the admin (who browse the docs)."""

    scope = "partner"

    def identity(self, request, user, auth) -> str | None:
        if isinstance(auth, ApiKey):
            return f"key-{auth.pk}"
        if user and user.is_authenticated:
            return f"user-{user.pk}"
        return None


# The public read endpoints' rate limits: at most one applies to a caller.
PUBLIC_THROTTLES = [AnonymousThrottle, PartnerThrottle]


def public_window(request, user, auth) -> tuple[RateThrottle, Window] | None:
    """The public throttle that applies to a request from `user` (with the API key `auth`), and
    the window to count it in; None if none applies (an anonymous caller with no address)."""
    for throttle_class in PUBLIC_THROTTLES:
        throttle = throttle_class()
        if (current := throttle.window(request, user, auth)) is not None:
            return throttle, current
    return None
