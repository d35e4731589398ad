from django.dispatch import Signal

# Sent after the transaction that recorded public events (published, corrected, updated,
# retracted) has committed; `events` is the list of RecordedEvent, `revisions` the public
# revisions they made (PublicRevision rows as written), `public_before` each development's
# public content before them (None if it had none). Feeds and webhooks listen here, so
# publishing never waits for them, and need not read back what was just written.
public_events_committed = Signal()
