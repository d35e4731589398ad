"""Partners' webhook endpoints and the log of every delivery attempt.

An endpoint keeps its own cursor in the public change stream (`position`): every public
event up to it was delivered, refused for good (a 4xx), or did not match its filters. A
worker claims an endpoint with a conditional UPDATE (`claimed_until`, a lease) before
sending, so each endpoint gets its events one at a time, in position order, and a worker
that dies only delays its endpoints until the lease runs out.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Status(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    DISABLED = "disabled", "Disabled after failing"


class Endpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhook_endpoints",
        help_text="Told by email when the endpoint is disabled. Empty for an operator's endpoint.",
    )
    url = models.URLField("URL", max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100, editable=False, help_text="whsec_…, shown to the owner once.")
    countries = models.JSONField(default=list, blank=True, help_text="Only events of these countries; empty: all.")
    topics = models.JSONField(default=list, blank=True, help_text="Only events on these topics; empty: all.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    disabled_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    position = models.BigIntegerField(default=0, help_text="Every public event up to here has been dealt with.")
    attempts = models.PositiveIntegerField(default=0, help_text="Failed attempts at the next event.")
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="No attempt before this (backing off).")
    failing_since = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    claim = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "webhook endpoint"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "position"], name="webhook_endpoint_due")]

    def __str__(self) -> str:
        return self.url


class Outcome(models.TextChoices):
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed, will retry"
    REFUSED = "refused", "Refused, not retried"


class Delivery(models.Model):
    """One attempt to deliver one event to one endpoint."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    position = models.BigIntegerField()
    webhook_id = models.CharField(max_length=64, help_text="The same on every attempt at this event.")
    event_type = models.CharField(max_length=100)
    attempt = models.PositiveIntegerField()
    attempted_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField()

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-attempted_at", "-id"]
        indexes = [models.Index(fields=["endpoint", "-attempted_at"], name="webhook_delivery_log")]

    def __str__(self) -> str:
        return f"#{self.position} to {self.endpoint_id}: {self.outcome}"


class Dispatch(models.Model):
    """Whether a delivery pass is already waiting in the broker, so a burst of
    publications queues one pass instead of one per publication."""

    name = models.CharField(max_length=20, primary_key=True)
    queued = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.name}: {'queued' if self.queued else 'idle'}"
