from collections.abc import Callable
from typing import NamedTuple

from django.dispatch import Signal

from chronicle.libpq import Statement

# Sent inside the transaction that records public events (published, corrected, updated,
# retracted), before it commits, with the same arguments as `public_events_committed`
# (positions in `revisions` may still be pending). Each receiver returns a list of
# `WithPublication`: its statement runs in that transaction, so it commits with the
# publication or not at all, without a round trip of its own; `then` is called with the
# statement's rows once the transaction has committed (what it raises is logged: the
# publication stands). Feeds mark the feeds to regenerate here, and webhooks check for an
# endpoint to wake.
public_events_recording = Signal()


class WithPublication(NamedTuple):
    statement: Statement
    then: Callable[[list[tuple]], None]


# Sent after the transaction that recorded public events has committed; `events` is the list
# of RecordedEvent, `revisions` the public revisions they made (PublicRevision rows as
# written), `public_before` each development's public content before them (None if it had
# none). Listeners never make publishing wait, and need not read back what was just written.
public_events_committed = Signal()
