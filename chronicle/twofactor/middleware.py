from urllib.parse import urlencode

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django_otp import user_has_device

from chronicle.database import unavailable_response


class TwoFactorMiddleware:
    """Keeps an account that has given only its password away from the admin: one with a
    device is sent to the code step, and, while ADMIN_REQUIRE_TWO_FACTOR is on, a staff account
    without one to setting it up. Signing in and out stay open, and the step that is due."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            step = self.step_due(request)
        except (OperationalError, InterfaceError) as error:
            # Outside any view, so DatabaseUnavailableMiddleware would not see it: the same 503.
            step = unavailable_response(request, error)
            if step is None:
                raise
        return step or self.get_response(request)

    @staticmethod
    def step_due(request):
        if not request.path.startswith(reverse("admin:index")):
            return None
        user = request.user
        if not second_factor_due(user):
            return None
        step = reverse("two_factor:verify" if user_has_device(user) else "two_factor:set_up")
        if request.path in (step, reverse("admin:login"), reverse("admin:logout")):
            return None
        return HttpResponseRedirect(f"{step}?{urlencode({'next': request.get_full_path()})}")


def second_factor_due(user) -> bool:
    """Whether a signed-in account has yet to give its code, or to set up an authenticator
    that ADMIN_REQUIRE_TWO_FACTOR requires of it."""
    if not user.is_authenticated or user.is_verified():
        return False
    return user_has_device(user) or (settings.ADMIN_REQUIRE_TWO_FACTOR and user.is_staff)
