import re
from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from chronicle.digests import delivery, tokens
from chronicle.digests.models import Digest, Subscriber, SubscriberState
from tests.digests.factories import confirmed_subscriber
from tests.factories import published_development

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]


def link_in(message, path_prefix):
    return re.search(rf"https?://[^\s]+({path_prefix}[^\s]+/)", message.body).group(1)


def subscribe_on_the_page(client, django_capture_on_commit_callbacks, email, **choices):
    data = {"email": email, "frequency": "daily", **choices}
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/subscribe/", data)


def test_double_opt_in_from_the_page_to_the_first_digest(client, django_capture_on_commit_callbacks, curator, editor):
    published_development(curator, editor, slug="before-subscribing")
    assert b"Subscribe" in client.get("/subscribe/").content

    response = subscribe_on_the_page(client, django_capture_on_commit_callbacks, "Reader@Example.org", topics=["5g"])

    assert response.status_code == 200 and b"Check your inbox" in response.content
    (confirmation,) = mail.outbox
    assert confirmation.to == ["reader@example.org"]
    assert confirmation.subject == "Confirm your Chronicle digest subscription"
    subscriber = Subscriber.objects.get()
    assert (subscriber.state, subscriber.topics) == (SubscriberState.PENDING, ["5g"])

    # Unconfirmed addresses get nothing else.
    published_development(curator, editor, slug="while-pending")
    delivery.run_pass("daily", date(2030, 1, 1))
    assert len(mail.outbox) == 1 and not Digest.objects.exists()

    confirm_path = link_in(confirmation, "/subscribe/confirm/")
    page = client.get(confirm_path)
    assert b"Confirm my subscription" in page.content
    assert Subscriber.objects.get().state == SubscriberState.PENDING  # a link scanner's GET confirms nothing
    confirmed = client.post(confirm_path).content.decode()
    assert "You are subscribed" in confirmed
    assert "Your first digest comes with the next daily pass (every day at 06:00 UTC)" in confirmed
    assert "every development published, corrected or updated since you confirmed" in confirmed
    assert Subscriber.objects.get().state == SubscriberState.CONFIRMED

    published_development(curator, editor, slug="after-confirming", title="After confirming")
    delivery.run_pass("daily", date(2030, 1, 2))
    digest = mail.outbox[-1]
    assert digest.to == ["reader@example.org"]
    assert "After confirming" in digest.body and "While pending" not in digest.body
    assert "/subscribe/manage/" in digest.body


def test_a_known_address_gets_the_same_answer_and_at_most_one_email_an_hour(client, django_capture_on_commit_callbacks):
    with time_machine.travel("2030-01-01 08:00Z", tick=False) as clock:
        first = subscribe_on_the_page(client, django_capture_on_commit_callbacks, "reader@example.org")
        again = subscribe_on_the_page(client, django_capture_on_commit_callbacks, "reader@example.org", topics=["ai"])
        other = subscribe_on_the_page(client, django_capture_on_commit_callbacks, "other@example.org")
        assert first.content.replace(b"reader", b"other") == again.content.replace(b"reader", b"other")
        assert again.content.replace(b"reader", b"other") == other.content
        assert [m.to for m in mail.outbox] == [["reader@example.org"], ["other@example.org"]]
        assert Subscriber.objects.get(email="reader@example.org").topics == ["ai"]  # unconfirmed: replaced

        clock.shift(timedelta(minutes=61))
        subscribe_on_the_page(client, django_capture_on_commit_callbacks, "reader@example.org")
        assert len(mail.outbox) == 3


def test_subscribing_a_confirmed_address_changes_nothing_and_sends_a_link_to_its_preferences(
    client, django_capture_on_commit_callbacks
):
    subscriber = confirmed_subscriber("reader@example.org", topics=["5g"])

    subscribe_on_the_page(client, django_capture_on_commit_callbacks, "reader@example.org", topics=["postal"])

    subscriber.refresh_from_db()
    assert (subscriber.state, subscriber.topics) == (SubscriberState.CONFIRMED, ["5g"])
    (message,) = mail.outbox
    manage_path = link_in(message, "/subscribe/manage/")
    assert b"reader@example.org" in client.get(manage_path).content


def test_the_preferences_page_changes_scope_and_frequency(client):
    subscriber = confirmed_subscriber("reader@example.org", topics=["5g"])
    path = tokens.path(tokens.MANAGE, subscriber)

    response = client.post(path, {"topics": ["ai", "postal"], "frequency": "weekly"})

    assert b"Saved" in response.content
    subscriber.refresh_from_db()
    assert (subscriber.topics, subscriber.countries, subscriber.frequency) == (["ai", "postal"], [], "weekly")


def test_links_expire_and_are_bound_to_their_purpose_and_address(client):
    subscriber = Subscriber.objects.create(email="reader@example.org")
    with time_machine.travel("2030-01-01 08:00Z", tick=False) as clock:
        confirm_path = tokens.path(tokens.CONFIRM, subscriber)
        manage_token = tokens.make(tokens.MANAGE, subscriber)
        # A preferences link is no confirmation link.
        assert client.get(f"/subscribe/confirm/{manage_token}/").status_code == 404
        assert client.get(confirm_path).status_code == 200
        clock.shift(timedelta(days=4))
        response = client.get(confirm_path)
        assert response.status_code == 404 and b"invalid or has expired" in response.content

    # Bound to the address: the same id with another address no longer accepts it.
    path = tokens.path(tokens.MANAGE, subscriber)
    Subscriber.objects.filter(pk=subscriber.pk).update(email="someone-else@example.org")
    assert client.get(path).status_code == 404
    assert client.get("/subscribe/manage/forged-token/").status_code == 404


def test_a_confirmation_link_from_before_an_unsubscribe_does_not_sign_the_address_up_again(
    client, django_capture_on_commit_callbacks, settings
):
    settings.DIGEST_CONFIRMATION_INTERVAL = 0
    subscribe_on_the_page(client, django_capture_on_commit_callbacks, "reader@example.org")
    old_link = link_in(mail.outbox[-1], "/subscribe/confirm/")
    client.post(old_link)
    client.post(tokens.path(tokens.UNSUBSCRIBE, Subscriber.objects.get()))
    # Someone else asks for the address again; the old link must not confirm it for its owner.
    subscribe_on_the_page(client, django_capture_on_commit_callbacks, "reader@example.org", topics=["ai"])

    assert client.post(old_link).status_code == 404
    assert Subscriber.objects.get().state == SubscriberState.PENDING
    # The owner's new confirmation link works.
    assert "You are subscribed" in client.post(link_in(mail.outbox[-1], "/subscribe/confirm/")).content.decode()


def test_links_do_not_carry_the_address_and_links_already_sent_keep_working(client):
    subscriber = confirmed_subscriber("reader.name@example.org")
    for purpose in (tokens.CONFIRM, tokens.MANAGE, tokens.UNSUBSCRIBE):
        token = tokens.make(purpose, subscriber)
        payload = signing.b64_decode(token.split(":")[0].lstrip(".").encode())
        assert b"reader" not in payload and "reader" not in token
    # The earlier format named the address: unsubscribe links in delivered digests still work,
    # an earlier confirmation link does not.
    legacy = signing.dumps([subscriber.pk, subscriber.email], salt="chronicle.digests.unsubscribe")
    assert b"You are unsubscribed" in client.post(f"/unsubscribe/{legacy}/").content
    legacy_confirm = signing.dumps([subscriber.pk, subscriber.email], salt="chronicle.digests.confirm")
    assert client.get(f"/subscribe/confirm/{legacy_confirm}/").status_code == 404


def test_a_burst_of_page_posts_to_plus_addresses_of_one_mailbox_sends_one_confirmation(
    django_capture_on_commit_callbacks, settings
):
    assert settings.DIGEST_SUBSCRIBE_RATE == "20/hour"
    statuses = []
    for number in range(40):
        # From one address, then from many: each limit holds on its own.
        client = Client(REMOTE_ADDR="192.0.2.66" if number < 25 else f"198.51.100.{number}")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/subscribe/", {"email": f"Victim+{number}@Example.org", "frequency": "daily"})
        statuses.append(response.status_code)
    assert statuses[:20] == [200] * 20 and set(statuses[20:]) == {429}
    assert "Too many subscription requests" in response.content.decode()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["victim+0@example.org"]


def test_the_api_limits_requests_per_mailbox_across_client_addresses(django_capture_on_commit_callbacks):
    statuses = []
    for number in range(25):
        client = Client(REMOTE_ADDR=f"198.51.100.{number}")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(API, {"email": f"victim+{number}@example.org"}, content_type="application/json")
        statuses.append(response.status_code)
    assert statuses[:20] == [202] * 20 and set(statuses[20:]) == {429}
    assert response.json()["error"]["code"] == "throttled"
    assert len(mail.outbox) == 1


def test_one_click_unsubscribe_needs_no_page_session_or_csrf_token(curator, editor):
    subscriber = confirmed_subscriber("reader@example.org")
    published_development(curator, editor, slug="news")
    delivery.run_pass("daily", date(2030, 1, 1))
    url = mail.outbox[0].message()["List-Unsubscribe"].strip("<>")
    path = url.removeprefix("http://127.0.0.1:8000")
    mail_client = Client(enforce_csrf_checks=True)

    response = mail_client.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.state == SubscriberState.UNSUBSCRIBED and subscriber.unsubscribed_at


def test_unsubscribing_by_get_only_shows_a_button(client):
    subscriber = confirmed_subscriber("reader@example.org")
    path = tokens.path(tokens.UNSUBSCRIBE, subscriber)

    response = client.get(path)

    assert b"<button" in response.content
    subscriber.refresh_from_db()
    assert subscriber.state == SubscriberState.CONFIRMED
    assert b"You are unsubscribed" in client.post(path).content


def test_a_malformed_page_submission_is_shown_again_with_errors(client):
    response = client.post("/subscribe/", {"email": "not-an-address", "frequency": "hourly", "topics": ["nope"]})
    assert response.status_code == 200
    assert b"Enter a valid email address" in response.content
    assert not Subscriber.objects.exists()


# -- API ---------------------------------------------------------------------------------

API = "/api/v1/subscriptions/"


def test_the_api_accepts_new_and_known_addresses_alike(client, django_capture_on_commit_callbacks):
    confirmed_subscriber("known@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        new = client.post(API, {"email": "new@example.org", "topics": ["5g"], "countries": ["by"]}, "application/json")
        known = client.post(API, {"email": "known@example.org", "frequency": "daily"}, "application/json")

    assert new.status_code == known.status_code == 202
    assert new.json() == known.json()
    subscriber = Subscriber.objects.get(email="new@example.org")
    assert (subscriber.countries, subscriber.frequency, subscriber.state) == (["BY"], "weekly", "pending")
    assert sorted(m.subject for m in mail.outbox) == [
        "Confirm your Chronicle digest subscription",
        "Your Chronicle digest subscription",
    ]


def test_the_api_explains_bad_input_field_by_field(client):
    response = client.post(
        API,
        {"email": "nope", "topics": ["5g", "astrology"], "countries": ["XX"], "frequency": "hourly"},
        "application/json",
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["message"]
    assert set(error["fields"]) == {"email", "topics", "countries", "frequency"}
    assert not Subscriber.objects.exists()


def test_the_api_throttles_a_client_that_subscribes_too_often(client, settings):
    settings.DIGEST_SUBSCRIBE_RATE = "3/hour"
    answers = [client.post(API, {"email": f"r{n}@example.org"}, "application/json").status_code for n in range(4)]
    assert answers == [202, 202, 202, 429]


def test_the_endpoint_is_documented_with_examples():
    document = SchemaGenerator().get_schema(request=None, public=True)
    operation = document["paths"][API]["post"]
    assert {"202", "400", "429"} <= set(operation["responses"])
    assert operation["requestBody"]["content"]["application/json"]["examples"]


# -- admin -------------------------------------------------------------------------------


def test_staff_can_preview_a_subscribers_next_digest_without_touching_the_ledger(client, editor, curator):
    editor.email = "eddie@example.org"
    editor.is_superuser = True
    editor.save()
    subscriber = confirmed_subscriber("reader@example.org")
    published_development(curator, editor, slug="news", title="Something new")
    client.force_login(editor)

    response = client.post(
        reverse("admin:digests_subscriber_changelist"),
        {"action": "send_preview", "_selected_action": [subscriber.pk]},
        follow=True,
    )

    assert b"would get now (1 new" in response.content
    (preview,) = mail.outbox
    assert preview.to == ["eddie@example.org"]
    assert preview.subject.startswith("[Preview]") and "Something new" in preview.body
    assert "List-Unsubscribe" not in preview.message()
    assert "/unsubscribe/" not in preview.body
    assert not Digest.objects.exists()
    assert Subscriber.objects.get().high_water == subscriber.high_water


def test_an_address_longer_than_rfc_5321_allows_is_refused_on_the_page_and_in_the_api(
    client, django_capture_on_commit_callbacks
):
    too_long = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".org"  # 312 characters
    assert len(too_long) > 254
    page = subscribe_on_the_page(client, django_capture_on_commit_callbacks, too_long)
    assert page.status_code in (200, 400)
    assert "at most 254 characters" in page.content.decode()
    api = client.post(
        "/api/v1/subscriptions/", {"email": too_long, "frequency": "daily"}, content_type="application/json"
    )
    assert api.status_code == 400
    assert "at most 254 characters" in api.json()["error"]["fields"]["email"][0]
    assert not Subscriber.objects.exists() and not mail.outbox


def test_mail_is_dated_in_utc_not_in_an_unknown_zone(client, django_capture_on_commit_callbacks):
    subscribe_on_the_page(client, django_capture_on_commit_callbacks, "reader@example.org")
    (confirmation,) = mail.outbox
    assert confirmation.message()["Date"].endswith("+0000")
