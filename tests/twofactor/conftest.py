"""Staff with an authenticator app, and the codes it would show."""

import time
from base64 import b32decode

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD


def code(key: bytes, *, steps_ahead: int = 0) -> str:
    """The 6-digit code an authenticator app with `key` shows now (or that many 30-second steps on)."""
    totp = TOTP(key)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def key_from_page(text: str) -> bytes:
    """The key as the set-up page writes it for typing in (base32 in groups of four)."""
    return b32decode("".join(text.split()))


@pytest.fixture
def authenticator(editor):
    """The editor's authenticator app, set up."""
    return TOTPDevice.objects.create(user=editor, name="Authenticator app", confirmed=True)


@pytest.fixture
def sign_in():
    """sign_in(username) posts the password step from an address; returns the client, signed in
    as far as the password goes."""

    def password_step(username="eddie-editor", password=PASSWORD, address="203.0.113.7", next="/admin/"):
        client = Client(REMOTE_ADDR=address)
        client.response = client.post("/admin/login/", {"username": username, "password": password, "next": next})
        return client

    return password_step
