from __future__ import annotations

import math
from collections.abc import Callable

import django_otp
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_otp.models import Device

from chronicle.security import LoginThrottle, client_address


class CodeForm(forms.Form):
    """The code step: one code, checked by the device `device_for(code)` names, under the same
    sign-in throttle as the password (a wrong code is a failed sign-in)."""

    code = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    error_messages = {
        "wrong": "That code is not right. Enter the 6-digit code your authenticator app shows now"
        " (a new one comes every 30 seconds), or one of your backup codes.",
        "wait": "Too many wrong codes in a row: try again in %(seconds)s second(s).",
    }

    def __init__(self, data, *, request, device_for: Callable[[str], Device | None], wrong: str | None = None):
        super().__init__(data)
        self.request = request
        self.device_for = device_for
        self.wrong = wrong or self.error_messages["wrong"]
        self.device: Device | None = None

    def clean_code(self) -> str:
        user = self.request.user
        throttle = LoginThrottle(user.get_username(), client_address(self.request))
        throttle.refuse_if_locked()
        code = "".join(self.cleaned_data["code"].split()).lower()
        device = self.device_for(code)
        if device is not None:
            # django-otp's own back-off per device (1, 2, 4 … seconds after each wrong code)
            # slows guessing from many addresses, which the per-address throttle cannot.
            allowed, details = device.verify_is_allowed()
            if not allowed:
                seconds = math.ceil((details["locked_until"] - timezone.now()).total_seconds())
                raise ValidationError(self.error_messages["wait"], code="wait", params={"seconds": max(seconds, 1)})
            self.device = django_otp.verify_token(user, device.persistent_id, code)
        if self.device is None:
            throttle.record_failure()
            raise ValidationError(self.wrong, code="wrong")
        throttle.record_success()
        return code
