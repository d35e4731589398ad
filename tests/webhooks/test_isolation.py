"""A slow or dead endpoint delays nothing but itself; a burst of publications queues one pass."""

import threading
import time

from chronicle.webhooks import delivery, endpoints
from chronicle.webhooks.models import Dispatch
from tests.services import wait_for


def test_public_events_queue_one_delivery_pass_after_commit(receiver, publish, django_capture_on_commit_callbacks):
    endpoints.register(receiver().url)
    with django_capture_on_commit_callbacks(execute=True):
        publish("one")
    assert Dispatch.objects.get(name=delivery.PASS).queued
    sent = []
    from chronicle.webhooks import tasks

    original = tasks.deliver_webhooks.apply_async
    tasks.deliver_webhooks.apply_async = lambda *args, **kwargs: sent.append(args)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            publish("two")
        assert sent == []  # the pass already waiting will deliver it
        delivery.deliver_due()  # the pass runs: the flag comes down first
        with django_capture_on_commit_callbacks(execute=True):
            publish("three")
        assert len(sent) == 1
    finally:
        tasks.deliver_webhooks.apply_async = original


def test_without_active_endpoints_publishing_queues_nothing(publish, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        publish("one")
    assert not Dispatch.objects.filter(queued=True).exists()


def test_a_slow_endpoint_holds_up_neither_other_endpoints_nor_publishing(transactional_db, receiver, publish, settings):
    settings.WEBHOOKS_CONCURRENCY = 4
    settings.WEBHOOKS_TIMEOUT_SECONDS = 2
    slow = receiver(default=200, answers=[(200, 4)])
    fast = [receiver() for _ in range(3)]
    for hooks in [slow, *fast]:
        _, hooks.secret = endpoints.register(hooks.url)
    publish("one")

    started = time.monotonic()
    worker = threading.Thread(target=delivery.deliver_due)
    worker.start()
    wait_for(lambda: slow.arrived, 5, lambda: "the delivery pass never reached the slow endpoint")
    publishing = time.monotonic()
    publish("two")  # while the slow endpoint still holds its attempt
    published_in = time.monotonic() - publishing
    worker.join()
    finished = time.monotonic() - started

    for hooks in fast:
        assert hooks.accepted()[0].at - started < 1.5, "a fast endpoint waited for the slow one"
        assert hooks.unverified == []
    assert published_in < 1.0
    assert finished >= settings.WEBHOOKS_TIMEOUT_SECONDS  # the slow attempt ran into its time limit
    assert slow.accepted() == [] or slow.accepted()[0].at - started >= 2
