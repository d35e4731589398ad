"""Where each feed file stands against the event log.

Positions are positions of public events (`PublicRevision.position`). They let a burst of
publications coalesce into one regeneration per feed, and let the periodic pass find
feeds that missed an event (a broker outage, a lost task) without rebuilding all of them.
"""

from django.db import models


class FeedState(models.Model):
    path = models.CharField(max_length=80, primary_key=True, help_text='"all", "countries/by", "topics/5g"')
    built_position = models.BigIntegerField(default=0, help_text="Every public event up to here is in the files.")
    queued = models.BooleanField(default=False, help_text="A regeneration task is waiting in the broker.")

    def __str__(self) -> str:
        return f"{self.path} at #{self.built_position}"


class FeedsCursor(models.Model):
    """The public events up to `position` have had their feeds checked by the periodic pass."""

    name = models.CharField(max_length=40, primary_key=True)
    position = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} at #{self.position}"
