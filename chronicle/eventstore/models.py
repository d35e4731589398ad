from django.db import models


class Event(models.Model):
    """One recorded event. Append-only: the database rejects UPDATE and DELETE."""

    position = models.BigAutoField(primary_key=True, help_text="Global order of the log.")
    event_id = models.UUIDField(unique=True, editable=False)
    stream_id = models.UUIDField(db_index=False)
    version = models.PositiveIntegerField(help_text="1, 2, … within the stream.")
    type = models.CharField(max_length=100)
    schema_version = models.PositiveSmallIntegerField(default=1)
    data = models.JSONField()
    metadata = models.JSONField()
    recorded_at = models.DateTimeField(help_text="Transaction time (UTC).")

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["stream_id", "version"], name="event_stream_version_unique"),
        ]
        indexes = [models.Index(fields=["type", "position"], name="event_type_position")]

    def __str__(self) -> str:
        return f"#{self.position} {self.type} v{self.version}"


class Seal(models.Model):
    """The tamper-evident seal of the event at `position` (see `sealing`). Not a foreign key:
    a seal must outlive an event removed behind the triggers, so that it shows."""

    position = models.BigIntegerField(primary_key=True)
    seal = models.CharField(max_length=64, help_text="SHA-256 (hex) over the previous seal and this event.")
    sealed_at = models.DateTimeField()

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"#{self.position} {self.seal}"
