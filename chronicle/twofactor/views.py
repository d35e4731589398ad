"""The admin's two-factor pages. Each is wrapped by the admin site (urls.py): staff only,
never cached, CSRF-protected."""

from __future__ import annotations

from functools import partial

import django_otp
from django.conf import settings
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import user_has_device

from . import devices
from .forms import CodeForm


def _page(request, template: str, title: str, **context) -> TemplateResponse:
    context = {**admin.site.each_context(request), "title": title, "next": _next(request), **context}
    return TemplateResponse(request, f"admin/two_factor/{template}.html", context)


def _next(request) -> str:
    """Where to go once done: the page asked for, if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("admin:index")


def _submitted(request):
    return request.POST if request.method == "POST" else None


def _signed_in(request, device) -> None:
    # A new session id for the session that now has both factors, as Django gives one at the password.
    request.session.cycle_key()
    django_otp.login(request, device)


def verify(request):
    """The code step, after the password: a code from the authenticator app, or a backup code."""
    if request.user.is_verified() or not user_has_device(request.user):
        return HttpResponseRedirect(_next(request))
    form = CodeForm(_submitted(request), request=request, device_for=partial(devices.device_for_code, request.user))
    if form.is_valid():
        _signed_in(request, form.device)
        return HttpResponseRedirect(_next(request))
    return _page(request, "verify", "Enter your code", form=form)


def set_up(request):
    """Setting up an authenticator app: scan the QR code (or type the key), confirm with the
    first code it shows, then take the backup codes."""
    if devices.authenticator(request.user):
        return redirect("two_factor:overview")
    device = devices.authenticator_to_set_up(request.user)
    form = CodeForm(
        _submitted(request),
        request=request,
        device_for=lambda code: device,
        wrong="That code is not right. Enter the 6-digit code the app shows now for Chronicle;"
        " if it keeps failing, check that your phone's clock is set automatically.",
    )
    del form.fields["code"].widget.attrs["autofocus"]  # the steps to read come first
    if form.is_valid():
        form.device.confirmed = True
        form.device.save(update_fields=["confirmed"])
        _signed_in(request, form.device)
        return _backup_codes_page(request, first=True)
    return _page(
        request,
        "set_up",
        "Set up two-factor sign-in",
        form=form,
        qr_code=devices.qr_code_svg(device),
        key=devices.key_text(device),
        required=settings.ADMIN_REQUIRE_TWO_FACTOR,
    )


def overview(request):
    """Whether the account signs in with two factors, and its backup codes left."""
    backup_codes = devices.backup_codes(request.user)
    return _page(
        request,
        "overview",
        "Two-factor sign-in",
        authenticator=devices.authenticator(request.user),
        backup_codes_left=backup_codes.token_set.count() if backup_codes else 0,
        required=settings.ADMIN_REQUIRE_TWO_FACTOR,
    )


@require_POST
def new_backup_codes(request):
    """New backup codes, shown once; the old ones stop working."""
    if not devices.authenticator(request.user):
        return redirect("two_factor:set_up")
    return _backup_codes_page(request, first=False)


def _backup_codes_page(request, *, first: bool) -> TemplateResponse:
    codes = devices.new_backup_codes(request.user)
    return _page(request, "backup_codes", "Your backup codes", codes=codes, first=first)
