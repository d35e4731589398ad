from drf_spectacular.authentication import SessionScheme
from rest_framework import authentication

from .middleware import second_factor_due


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session sign-in for a session that has finished signing in: one that has given its
    password but still owes its code is anonymous to the API, as it is shut out of the admin."""

    def authenticate(self, request):
        signed_in = super().authenticate(request)
        if signed_in is not None and second_factor_due(signed_in[0]):
            return None
        return signed_in


class SignedInSessionScheme(SessionScheme):
    """In the OpenAPI schema it is the session cookie, as DRF's own session sign-in is."""

    target_class = SessionAuthentication
