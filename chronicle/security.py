"""A content security policy for every page, and throttled sign-in to the admin.

Sign-in is not throttled with django-axes: axes counts failed authentications through its own
backend and middleware (in database tables by default), while one count here also covers
wrong two-factor codes and lives in the shared cache beside the API's throttles, keyed by the
client address they see.

The other security headers (nosniff, Referrer-Policy, X-Frame-Options, Cross-Origin-Opener-Policy,
HSTS) come from Django's own middleware; see the security section of config/settings.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django_otp import user_has_device
from rest_framework.throttling import BaseThrottle

# Pages load scripts only from this site (the admin's and the API docs' own files), never
# inline, so an injected <script> cannot run. Inline styles stay allowed: the public pages
# carry their small stylesheet inline and the admin sets style attributes; a style cannot
# run code.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    """Sets Content-Security-Policy on HTML responses (Django 5.2 has no built-in CSP)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


# -- admin sign-in -------------------------------------------------------------------------

THROTTLED = (
    "Too many failed sign-in attempts from your address. "
    "Sign-in is blocked for %(minutes)s more minute(s); try again later."
)

# One address may try several accounts (colleagues behind one office router), so it gets
# more failures than one account before it is refused.
FAILURES_PER_ADDRESS_FACTOR = 4


def client_address(request) -> str:
    """The client's address, as the API's throttles see it (honours TRUSTED_PROXIES)."""
    return BaseThrottle().get_ident(request) or ""


class LoginThrottle:
    """Counts failed sign-ins per username *and* address, and per address, in the shared cache.

    After ADMIN_LOGIN_FAILURE_LIMIT failures within ADMIN_LOGIN_LOCKOUT_SECONDS, sign-in to
    that username from that address (or to any username from that address, after four times
    as many) is refused for ADMIN_LOGIN_LOCKOUT_SECONDS, even with the right password. The
    guesser is locked out, never the account: its holder still signs in from their own
    address, so nobody can lock an editor out by failing on purpose.
    """

    def __init__(self, username: str, address: str):
        limit = settings.ADMIN_LOGIN_FAILURE_LIMIT
        self.scopes = [
            (self._key("username-address", f"{username.strip().lower()}|{address}"), limit),
            (self._key("address", address), limit * FAILURES_PER_ADDRESS_FACTOR),
        ]

    @staticmethod
    def _key(kind: str, value: str) -> str:
        return f"admin-login:{kind}:{hashlib.sha256(value.encode()).hexdigest()}"

    def seconds_locked(self) -> int:
        """How long sign-in stays refused, or 0 if it is allowed now."""
        now = time.time()
        until = max((cache.get(f"{key}:locked", 0) for key, _ in self.scopes), default=0)
        return max(0, math.ceil(until - now))

    def refuse_if_locked(self) -> None:
        """Raises the form error that says sign-in is refused, and for how long, while it is."""
        if seconds := self.seconds_locked():
            raise ValidationError(THROTTLED, code="throttled", params={"minutes": math.ceil(seconds / 60)})

    def record_failure(self) -> None:
        lockout = settings.ADMIN_LOGIN_LOCKOUT_SECONDS
        for key, limit in self.scopes:
            if cache.add(key, 1, timeout=lockout):
                failures = 1
            else:
                try:
                    failures = cache.incr(key)
                except ValueError:  # the window ended just now
                    cache.add(key, 1, timeout=lockout)
                    failures = 1
            if failures >= limit:
                cache.set(f"{key}:locked", time.time() + lockout, timeout=lockout)
                cache.delete(key)

    def record_success(self) -> None:
        # Only the account's count: a valid sign-in must not clear an address's count,
        # or one's own account would reset the counter between guesses at others.
        cache.delete(self.scopes[0][0])


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    """The admin's sign-in form (its password step), refusing a username or address after
    repeated failures of either step (chronicle.twofactor counts wrong codes the same way)."""

    def clean(self):
        throttle = LoginThrottle(self.cleaned_data.get("username") or "", client_address(self.request))
        throttle.refuse_if_locked()
        try:
            cleaned_data = super().clean()
        except ValidationError:
            throttle.record_failure()
            raise
        # With a device, the code step still follows: the count starts again only once it
        # passes, or knowing the password would reset it between guesses at the code.
        if not user_has_device(self.get_user()):
            throttle.record_success()
        return cleaned_data
