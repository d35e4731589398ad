"""A staff member's second factors, as django-otp devices: one authenticator app (TOTP) and one
set of single-use backup codes."""

from __future__ import annotations

from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.db import transaction
from django.utils.safestring import mark_safe
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

BACKUP_CODES = 10
QR_CODE_PIXELS = 200


def authenticator(user, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=confirmed).first()


def authenticator_to_set_up(user) -> TOTPDevice:
    """The authenticator being set up: unconfirmed until its first code, and the same one on
    every visit, so reloading the page does not change the key someone already scanned."""
    return authenticator(user, confirmed=False) or TOTPDevice.objects.create(
        user=user, name="Authenticator app", confirmed=False
    )


def backup_codes(user) -> StaticDevice | None:
    return StaticDevice.objects.devices_for_user(user, confirmed=True).first()


def new_backup_codes(user) -> list[str]:
    """Replaces the user's backup codes (the old ones stop working); returns them to show once."""
    with transaction.atomic():
        device = backup_codes(user) or StaticDevice.objects.create(user=user, name="Backup codes")
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def device_for_code(user, code: str) -> Device | None:
    """The device that checks `code`: six digits are the authenticator's, anything else is a
    backup code. Asking only that one keeps a mistyped code from counting against the other."""
    return authenticator(user) if code.isdigit() and len(code) == 6 else backup_codes(user)


def key_text(device: TOTPDevice) -> str:
    """The secret key as authenticator apps take it typed in: base32, in groups of four."""
    key = b32encode(device.bin_key).decode()
    return " ".join(key[start : start + 4] for start in range(0, len(key), 4))


def qr_code_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// address as an inline SVG QR code (dark on white, in any theme)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathFillImage)
    svg = image.get_image()
    svg.set("width", str(QR_CODE_PIXELS))
    svg.set("height", str(QR_CODE_PIXELS))
    svg.set("role", "img")
    svg.set("aria-label", "QR code of the key below, for your authenticator app")
    # Drawn here from the code's modules: nothing in it is user-written.
    return mark_safe(image.to_string(encoding="unicode"))  # noqa: S308
