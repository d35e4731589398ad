"""`Authorization: Api-Key <key>` for partners."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .models import ApiKey, parse_key

KEYWORD = "Api-Key"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """A request with an Api-Key header is the key's owner, or is refused (401).

    A bad key is never downgraded to an anonymous request: a partner whose key expired
    should hear so at once, not find their requests throttled.
    """

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").strip()
        if not header:
            return None
        keyword, _, text = header.partition(" ")
        if keyword.lower() != KEYWORD.lower():
            # Another scheme (Bearer, Basic, …) is a client that meant to sign in: tell it how.
            raise exceptions.AuthenticationFailed(
                f"Chronicle does not take “{keyword[:40]}” credentials; send Authorization: Api-Key <key>."
            )
        if not text.strip():
            raise exceptions.AuthenticationFailed("The key is missing; send Authorization: Api-Key <key>.")
        parsed = parse_key(text.strip())
        key = None
        if parsed is not None:
            prefix, secret = parsed
            key = ApiKey.find(prefix)
            if key is not None and not key.matches(secret):
                key = None
        if key is None:
            raise exceptions.AuthenticationFailed("This API key is not valid.")
        now = timezone.now()
        if problem := key.problem(now):
            raise exceptions.AuthenticationFailed(problem)
        key.note_use(now)
        return key.owner, key

    def authenticate_header(self, request) -> str:
        return KEYWORD


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "Optional. Send `Authorization: Api-Key <key>` with a key from your Chronicle contact "
                "for the higher rate limit. An invalid, expired or revoked key is refused with 401."
            ),
        }
