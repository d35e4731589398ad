"""A reader of `position > cursor` never skips an event, even while many processes append
at once (a lower position never becomes visible after a higher one was read)."""

import subprocess
import sys

import pytest

from chronicle.developments import commands
from chronicle.eventstore.models import Event
from tests.services import ROOT, shared_database_url, tail_the_log, worker_environment

WRITERS = 8
DEVELOPMENTS_EACH = 40  # two events each


@pytest.mark.postgres
def test_a_tailing_reader_sees_every_event_exactly_once_in_order(transactional_db):
    names = [f"writer-{n}" for n in range(WRITERS)]
    for name in names:
        commands.system_user(name)  # created up front: the writers must not race on it
    env = worker_environment({"DATABASE_URL": shared_database_url()})
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.eventstore.writer", name, str(DEVELOPMENTS_EACH)],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
        )
        for name in names
    ]
    expected = WRITERS * DEVELOPMENTS_EACH * 2
    seen = tail_the_log(writers, expected)
    errors = [writer.stderr.read().decode() for writer in writers if writer.wait() != 0]
    assert errors == []
    committed = list(Event.objects.order_by("position").values_list("position", flat=True))
    assert len(committed) == expected
    assert seen == committed  # every committed event, once each, in position order
