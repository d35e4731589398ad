"""Deliveries by the Standard Webhooks spec, checked by a real receiver on loopback."""

from datetime import timedelta

from django.core import mail
from django.utils import timezone

from chronicle.developments import commands
from chronicle.webhooks import delivery, endpoints
from chronicle.webhooks.models import Delivery, Endpoint, Outcome, Status
from tests.factories import content_data
from tests.services import wait_for


def register(receiver, **options):
    endpoint, secret = endpoints.register(receiver.url, **options)
    receiver.secret = secret
    return endpoint


def deliver_until(condition, explain, timeout=10):
    """Run delivery passes, as the worker would, until `condition` holds."""

    def delivered() -> bool:
        delivery.deliver_due()
        return condition()

    wait_for(delivered, timeout, explain, interval=0.02)


def test_publication_correction_and_retraction_arrive_signed_in_order(receiver, publish, publisher, settings):
    hooks = receiver()
    register(hooks)
    development = publish("beltelecom-5g")
    commands.revise_development(development, content_data(title="Beltelecom tests 5G"), actor=publisher)
    commands.submit_development(development, actor=publisher)
    commands.publish_correction(development, "The title was wrong.", actor=publisher)
    commands.retract_development(development, "It never happened.", actor=publisher)

    tally = delivery.deliver_due()

    assert hooks.unverified == []  # every request passed the standardwebhooks library's check
    assert (tally.delivered, tally.failed) == (3, 0)
    types = [request.payload["type"] for request in hooks.accepted()]
    assert types == ["development.published", "development.corrected", "development.retracted"]
    positions = hooks.positions()
    assert positions == sorted(positions)
    data = hooks.accepted()[1].payload["data"]
    assert data["development_id"] == str(development)
    assert data["kind"] == "corrected" and data["note"] == "The title was wrong."
    assert data["links"]["development"] == f"{settings.SITE_URL}/api/v1/developments/{development}/"
    assert data["links"]["page"] == f"{settings.SITE_URL}/developments/beltelecom-5g/"
    assert data["links"]["events"] == f"{settings.SITE_URL}/api/v1/events/?after={data['position'] - 1}"
    assert delivery.deliver_due().delivered == 0  # nothing twice


def test_an_endpoint_hears_of_events_from_its_registration_on(receiver, publish):
    hooks = receiver()
    publish("before")
    register(hooks)
    publish("after")
    delivery.deliver_due()
    assert [request.payload["data"]["slug"] for request in hooks.accepted()] == ["after"]


def test_a_receiver_that_fails_then_recovers_gets_each_event_once_per_success_with_the_same_id(receiver, publish):
    hooks = receiver(answers=[503, 500, (200, 0), 429, 200])
    endpoint = register(hooks)
    first, second = publish("first"), publish("second")

    deliver_until(
        lambda: len(hooks.accepted()) == 2, lambda: f"answers so far: {[request.status for request in hooks.requests]}"
    )

    assert [request.status for request in hooks.requests] == [503, 500, 200, 429, 200]
    ids = [request.webhook_id for request in hooks.requests]
    assert ids[0] == ids[1] == ids[2] != ids[3] == ids[4]  # same event, same id, on every retry
    assert [r.payload["data"]["development_id"] for r in hooks.accepted()] == [str(first), str(second)]
    log = list(Delivery.objects.filter(endpoint=endpoint).order_by("id").values_list("attempt", "outcome"))
    assert log == [(1, "failed"), (2, "failed"), (3, "delivered"), (1, "failed"), (2, "delivered")]
    endpoint.refresh_from_db()
    assert (endpoint.attempts, endpoint.failing_since, endpoint.next_attempt_at) == (0, None, None)


def test_retries_back_off_exponentially_and_wait_for_their_time(receiver, publish, settings):
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 60
    hooks = receiver(default=503)
    endpoint = register(hooks)
    publish("one")
    before = timezone.now()
    delivery.deliver_due()
    delivery.deliver_due()  # not due yet: no second attempt
    endpoint.refresh_from_db()
    assert len(hooks.requests) == 1
    assert endpoint.attempts == 1
    assert timedelta(seconds=59) < endpoint.next_attempt_at - before < timedelta(seconds=62)
    assert [delivery.backoff_seconds(n) for n in (1, 2, 3)] == [60, 120, 240]
    settings.WEBHOOKS_RETRY_MAX_SECONDS = 100
    assert delivery.backoff_seconds(3) == 100


def test_a_4xx_is_recorded_and_not_retried(receiver, publish):
    hooks = receiver(answers=[410])
    endpoint = register(hooks)
    publish("refused")
    publish("next")
    delivery.deliver_due()
    delivery.deliver_due()
    assert [request.status for request in hooks.requests] == [410, 200]
    assert Delivery.objects.get(endpoint=endpoint, status_code=410).outcome == Outcome.REFUSED


def test_an_endpoint_failing_for_a_day_is_disabled_and_its_owner_told(receiver, publish, partner):
    hooks = receiver(default=503)
    endpoint = register(hooks, owner=partner)
    publish("one")
    delivery.deliver_due()
    # A day of failures later:
    Endpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=1, seconds=1), next_attempt_at=None
    )
    delivery.deliver_due()
    endpoint.refresh_from_db()
    assert endpoint.status == Status.DISABLED
    assert "503" in endpoint.disabled_reason
    assert [message.to for message in mail.outbox] == [["hooks@acme.example"]]
    assert endpoint.url in mail.outbox[0].body
    attempts = len(hooks.requests)
    delivery.deliver_due()
    assert len(hooks.requests) == attempts  # a disabled endpoint is left alone

    hooks.default = 200
    endpoints.set_paused(endpoint, False)  # the owner resumes it: nothing was lost
    delivery.deliver_due()
    assert [request.payload["data"]["slug"] for request in hooks.accepted()] == ["one"]


def test_filters_by_country_and_topic(receiver, publish):
    russia, ai, everything = receiver(), receiver(), receiver()
    register(russia, countries=["ru"])
    register(ai, topics=["ai"])
    register(everything)
    publish("by-cn-5g")  # BY, CN; 5g
    publish("ru-ai", countries=["RU"], topics=["ai"])
    publish("ru-5g", countries=["RU", "BY"])
    delivery.deliver_due()
    slugs = {name: [r.payload["data"]["slug"] for r in hooks.accepted()] for name, hooks in
             {"russia": russia, "ai": ai, "everything": everything}.items()}  # fmt: skip
    assert slugs == {"russia": ["ru-ai", "ru-5g"], "ai": ["ru-ai"], "everything": ["by-cn-5g", "ru-ai", "ru-5g"]}


def test_replay_from_a_position_sends_the_same_events_again_with_the_same_ids(receiver, publish):
    hooks = receiver()
    endpoint = register(hooks)
    publish("one")
    publish("two")
    delivery.deliver_due()
    first_round = [(r.webhook_id, r.payload["data"]["position"]) for r in hooks.accepted()]
    endpoints.replay(endpoint, first_round[0][1])  # everything after the first
    delivery.deliver_due()
    assert [(r.webhook_id, r.payload["data"]["position"]) for r in hooks.accepted()] == [*first_round, first_round[1]]


def test_a_paused_endpoint_gets_what_was_published_meanwhile_when_resumed(receiver, publish):
    hooks = receiver()
    endpoint = register(hooks)
    endpoints.set_paused(endpoint, True)
    publish("while-paused")
    delivery.deliver_due()
    assert hooks.requests == []
    endpoints.set_paused(endpoint, False)
    delivery.deliver_due()
    assert [r.payload["data"]["slug"] for r in hooks.accepted()] == ["while-paused"]


def test_a_redirect_is_not_followed(receiver, publish):
    hooks = receiver(answers=[301])
    endpoint = register(hooks)
    publish("one")
    delivery.deliver_due()
    assert [r.status for r in hooks.requests] == [301]
    assert Delivery.objects.get(endpoint=endpoint).outcome == Outcome.REFUSED


def test_a_dead_endpoint_is_a_failure_to_retry(receiver, publish, settings):
    # A retry due later than this pass could take, however slow the machine.
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 60
    hooks = receiver()
    endpoint = register(hooks)
    hooks.stop()  # nothing listens there any more
    publish("one")
    tally = delivery.deliver_due()
    assert tally.failed == 1
    log = Delivery.objects.get(endpoint=endpoint)
    assert log.outcome == Outcome.FAILED and log.status_code is None and "refused" in log.error.lower()
    endpoint.refresh_from_db()
    assert endpoint.next_attempt_at > timezone.now() + timedelta(seconds=30)
