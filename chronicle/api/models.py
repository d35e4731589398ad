"""API keys for partners.

A key is shown once, when it is created; only its SHA-256 digest is stored. Keys are 240
random bits, so a fast unsalted digest is enough (as for GitHub or Stripe tokens) and lets
authentication look a key up in one indexed query. The public prefix names the key in
logs and in the admin without revealing it.

Not djangorestframework-api-key: what it would bring (a prefix and a hashed secret, expiry,
revocation, an admin) is what this small model already does, and switching would mean
issuing every partner a new key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

KEY_SCHEME = "chr"
# last_used_at is a hint for the admin, not an audit log: refresh it at most this often.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def revoke(self, now=None) -> int:
        """Revoke those of these keys not revoked yet; how many that was. This process refuses
        them at once, others within API_KEY_CACHE_SECONDS."""
        revoking = self.filter(revoked_at__isnull=True)
        prefixes = list(revoking.values_list("prefix", flat=True))
        revoked = revoking.update(revoked_at=now or timezone.now())
        ApiKey.forget(prefixes)
        return revoked


class ApiKey(models.Model):
    name = models.CharField(max_length=100, help_text="What the key is for, e.g. “Acme research dashboard”.")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_keys")
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    hashed_key = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Leave empty for a key that does not expire.")
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({KEY_SCHEME}_{self.prefix}…)"

    @classmethod
    def find(cls, prefix: str) -> ApiKey | None:
        """The key with this prefix, with its owner, as this process read it from the database
        at most API_KEY_CACHE_SECONDS ago: a partner's requests cost no query or round trip
        for it, and a key revoked in another process (or whose owner was deactivated) is
        refused within that time."""
        now = time.monotonic()
        recent = _recent_lookups.get(prefix)
        if recent is not None and now - recent[0] < settings.API_KEY_CACHE_SECONDS:
            return recent[1]
        key = cls.objects.select_related("owner").filter(prefix=prefix).first()
        if key is None:
            _recent_lookups.pop(prefix, None)
        else:
            _recent_lookups[prefix] = (now, key)
        return key

    @staticmethod
    def forget(prefixes) -> None:
        """Drop this process's lookups of these keys, so a revocation here takes effect at once."""
        for prefix in prefixes:
            _recent_lookups.pop(prefix, None)

    @classmethod
    def issue(cls, *, name: str, owner, expires_at=None) -> tuple[ApiKey, str]:
        """Create a key; return it with the secret, which is never retrievable again."""
        key = cls(name=name, owner=owner, expires_at=expires_at)
        return key, key.save_with_new_secret()

    def save_with_new_secret(self) -> str:
        """Save this new key with a secret of its own; return the secret (only its digest is stored)."""
        self.prefix = secrets.token_hex(4)
        secret = secrets.token_urlsafe(30)
        self.hashed_key = digest(secret)
        self.save()
        return f"{KEY_SCHEME}_{self.prefix}_{secret}"

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.hashed_key, digest(secret))

    def problem(self, now=None) -> str:
        """Why the key cannot be used now, or "" if it can."""
        now = now or timezone.now()
        if self.revoked_at is not None:
            return "This API key was revoked."
        if self.expires_at is not None and self.expires_at <= now:
            return "This API key has expired."
        if not self.owner.is_active:
            return "The owner of this API key is deactivated."
        return ""

    def note_use(self, now=None) -> None:
        now = now or timezone.now()
        if self.last_used_at is None or now - self.last_used_at >= LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now

    @property
    def status(self) -> str:
        return self.problem().removeprefix("This API key ").rstrip(".") or "active"


# prefix → (when this process read it, the key): as many as there are keys.
_recent_lookups: dict[str, tuple[float, ApiKey]] = {}


def parse_key(text: str) -> tuple[str, str] | None:
    """(prefix, secret) of a key as sent by a client, or None if it is not shaped like one."""
    scheme, _, rest = text.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != KEY_SCHEME or len(prefix) != 8 or not secret:
        return None
    return prefix, secret
