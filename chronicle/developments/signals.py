from django.dispatch import Signal

# Sent after the transaction that recorded public events (published, corrected, updated,
# retracted) has committed; `events` is the list of RecordedEvent. Feeds and digests
# listen here, so publishing never waits for them.
public_events_committed = Signal()
