"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

The secret is `whsec_` + base64 of random bytes; the signature is base64 of the
HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}" under those bytes, sent as
`webhook-signature: v1,<signature>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
SECRET_BYTES = 32


class BadSecret(ValueError):
    pass


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def key(secret: str) -> bytes:
    """The HMAC key of a `whsec_…` secret, or BadSecret."""
    if not secret.startswith(PREFIX):
        raise BadSecret("A signing secret starts with whsec_ followed by base64, e.g. from the API.")
    try:
        raw = base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except ValueError:
        raise BadSecret("The part after whsec_ is not valid base64.") from None
    if not 24 <= len(raw) <= 64:
        raise BadSecret("A signing secret must hold 24 to 64 random bytes (base64 after whsec_).")
    return raw


def signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key(secret), signed, hashlib.sha256).digest()).decode()
