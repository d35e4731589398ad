"""Real Celery workers on Redis: a worker killed in the middle of a batch loses nothing."""

from collections import Counter

import pytest

from chronicle.webhooks import endpoints
from chronicle.webhooks.models import Endpoint
from tests.services import wait_for

pytestmark = pytest.mark.celery

EVENTS = 6


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_only_the_event_in_flight(
    celery_worker, receiver, publish, settings
):
    # The third request hangs long enough for the worker to be killed while it waits.
    hooks = receiver(answers=[200, 200, (200, 4)])
    endpoint, hooks.secret = endpoints.register(hooks.url)
    celery_worker.env.update(
        {
            "WEBHOOKS_ALLOW_PRIVATE_ADDRESSES": "true",
            "WEBHOOKS_TIMEOUT_SECONDS": "3",
            "WEBHOOKS_LEASE_SECONDS": "7",
            "WEBHOOKS_SWEEP_SECONDS": "1",
            "WEBHOOKS_RETRY_BASE_SECONDS": "1",
        }
    )
    for index in range(EVENTS):
        publish(f"development-{index}")  # each commit queues a pass (one waits in Redis)

    celery_worker.start()
    wait_for(lambda: len(hooks.arrived) >= 3, 30, lambda: f"{hooks.arrived}\n{celery_worker.output()}")
    celery_worker.kill()
    in_flight = hooks.arrived[2]

    celery_worker.start(beat=True)  # beat's periodic pass takes over once the claim's lease runs out
    wait_for(
        lambda: len({r.webhook_id for r in hooks.accepted()}) == EVENTS,
        60,
        lambda: f"{[(r.webhook_id, r.status) for r in hooks.requests]}\n{celery_worker.output()[-3000:]}",
    )

    assert hooks.unverified == []
    counts = Counter(request.webhook_id for request in hooks.accepted())
    assert set(counts) == set(hooks.arrived)
    assert {webhook_id: count for webhook_id, count in counts.items() if count > 1} in ({}, {in_flight: 2})
    positions = hooks.positions()
    assert sorted(set(positions)) == sorted(set(positions), key=positions.index)  # first arrivals in order
    # The worker moves the cursor once the receiver has answered: the last move may still be on its way.
    wait_for(lambda: Endpoint.objects.get(pk=endpoint.pk).position == max(positions), 10, celery_worker.output)
    endpoint.refresh_from_db()
    assert endpoint.position == max(positions)
