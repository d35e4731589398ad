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

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from .models import ApiKey

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "60/minute" → (60, 60)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period[0]]


def count_request(identity: str, rate: str) -> tuple[bool, float]:
    """Count one request against `identity` at `rate`: whether it is allowed, and the seconds
    until the window ends."""
    allowed, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    key = f"throttle:{identity}:{window}"
    try:
        count = cache.incr(key)  # the window's counter exists but for its first request
    except ValueError:
        count = 1 if cache.add(key, 1, timeout=period + 1) else cache.incr(key)
    return count <= allowed, (window + 1) * period - now


class _Throttle(BaseThrottle, ABC):
    scope = ""

    @abstractmethod
    def identity(self, request) -> str | None:
        """Whom to count the request against, or None when this throttle does not apply."""

    def allow_request(self, request, view) -> bool:
        identity = self.identity(request)
        if identity is None:
            return True
        allowed, self.retry_after = count_request(
            f"{self.scope}:{identity}", api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        )
        return allowed

    def wait(self) -> float:
        return math.ceil(self.retry_after)


class AnonymousThrottle(_Throttle):
    scope = "anonymous"

    def identity(self, request) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.get_ident(request)


class PartnerThrottle(_Throttle):
    """Per key, or per staff user signed in to the admin (who browse the docs)."""

    scope = "partner"

    def identity(self, request) -> str | None:
        if isinstance(request.auth, ApiKey):
            return f"key-{request.auth.pk}"
        if request.user and request.user.is_authenticated:
            return f"user-{request.user.pk}"
        return None
