"""Subscribers, the digest ledger, and what each subscriber was sent."""

import uuid

from django.db import models


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


class SubscriberState(models.TextChoices):
    PENDING = "pending", "Waiting for confirmation"
    CONFIRMED = "confirmed", "Confirmed"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    DISABLED = "disabled", "Disabled after failed deliveries"


class Subscriber(models.Model):
    """One email address and what it wants. Only confirmed subscribers receive digests."""

    email = models.EmailField(unique=True, help_text="Stored in lower case, so an address is subscribed once.")
    topics = models.JSONField(default=list, blank=True, help_text="Topic slugs; empty means every topic.")
    countries = models.JSONField(default=list, blank=True, help_text="ISO country codes; empty means every country.")
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.WEEKLY)
    state = models.CharField(max_length=20, choices=SubscriberState.choices, default=SubscriberState.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    high_water = models.BigIntegerField(
        default=0, help_text="Event position up to which this subscriber has had everything in scope."
    )
    last_digest_at = models.DateTimeField(null=True, blank=True)
    permanent_failures = models.PositiveIntegerField(
        default=0, help_text="Permanent delivery failures in a row; the address is disabled after a few."
    )

    class Meta:
        ordering = ["email"]
        indexes = [models.Index(fields=["frequency", "state"], name="subscriber_frequency_state")]

    def __str__(self) -> str:
        return self.email


class DigestState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Claimed by a worker"
    SENT = "sent", "Sent"
    NOTHING_NEW = "nothing_new", "Nothing new"
    SKIPPED = "skipped", "Skipped (no longer subscribed)"
    FAILED = "failed", "Failed permanently"


FINISHED_STATES = (DigestState.SENT, DigestState.NOTHING_NEW, DigestState.SKIPPED, DigestState.FAILED)


class Digest(models.Model):
    """The ledger: one row per subscriber and period, the unit that is sent exactly once.

    A worker claims rows with a conditional UPDATE (pending, or sending with an expired
    lease) and acts only on those it won; each row is marked sent right after the SMTP server
    accepted the message. The id is the message's Message-ID, so a resend after a crash
    in that tiny window can be recognised as a duplicate by the receiving side.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="digests")
    period = models.CharField(max_length=12, help_text="2025-01-14 for a daily digest, 2025-W03 for a weekly one.")
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    cutoff_position = models.BigIntegerField(help_text="The digest covers events up to this position.")
    from_position = models.BigIntegerField(null=True, blank=True, help_text="The subscriber's high-water mark.")
    content_hash = models.CharField(max_length=64, blank=True)
    new_count = models.PositiveIntegerField(default=0)
    change_count = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=20, choices=DigestState.choices, default=DigestState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True, editable=False, help_text="Names the worker's claim.")
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = "digest"
        verbose_name_plural = "digest ledger"
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["subscriber", "period"], name="digest_once_per_period")]
        indexes = [models.Index(fields=["period", "state"], name="digest_period_state")]

    def __str__(self) -> str:
        return f"{self.period} digest for subscriber #{self.subscriber_id}"


class SentDevelopment(models.Model):
    """A development a subscriber was sent, so later corrections reach them too."""

    # A digest records dozens of these at once, right after the SMTP server accepted it;
    # without a database-level constraint the insert skips a trigger per row (deleting a
    # subscriber still cascades, through the ORM).
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="sent_developments", db_constraint=False
    )
    development_id = models.UUIDField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "development_id"], name="sent_development_once"),
        ]

    def __str__(self) -> str:
        return f"{self.development_id} to subscriber #{self.subscriber_id}"
