"""Links that carry authority: the signed subscription links, and redirects after sign-in/out."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chronicle.digests import tokens
from chronicle.digests.models import Subscriber, SubscriberState

pytestmark = pytest.mark.django_db


def subscriber(email: str, state=SubscriberState.CONFIRMED, **fields) -> Subscriber:
    return Subscriber.objects.create(email=email, state=state, **fields)


def state_of(email: str) -> str:
    return Subscriber.objects.get(email=email).state


# -- signed subscription links -----------------------------------------------------------------


def test_a_tampered_link_is_refused_on_every_page(client):
    reader = subscriber("reader@example.org")
    for purpose in (tokens.CONFIRM, tokens.MANAGE, tokens.UNSUBSCRIBE):
        token = tokens.make(purpose, reader)
        payload, signature = token[: token.rindex(":")], token[token.rindex(":") + 1 :]
        tampered_signature = f"{payload}:{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
        # The same signature on a payload naming someone else.
        other_payload = signing.dumps([reader.pk + 1, "victim@example.org"], salt=f"chronicle.digests.{purpose}")
        swapped_payload = other_payload[: other_payload.rindex(":")] + ":" + signature
        unsigned = signing.dumps([reader.pk, reader.email], salt="something-else")
        for bad in (tampered_signature, swapped_payload, unsigned, "x"):
            assert tokens.read(purpose, bad) is None
            response = client.post(reverse(f"digests:{purpose}", args=[bad]), {"frequency": "daily"})
            assert response.status_code == 404, (purpose, bad)
    assert state_of("reader@example.org") == SubscriberState.CONFIRMED


def test_a_link_for_one_purpose_does_not_work_for_another(client):
    reader = subscriber("reader@example.org")
    manage_token = tokens.make(tokens.MANAGE, reader)
    assert client.post(f"/unsubscribe/{manage_token}/").status_code == 404
    assert client.post(f"/subscribe/confirm/{manage_token}/").status_code == 404
    assert state_of("reader@example.org") == SubscriberState.CONFIRMED


@pytest.mark.parametrize(
    ("purpose", "max_age_setting"),
    [
        (tokens.CONFIRM, "DIGEST_CONFIRM_LINK_MAX_AGE"),
        (tokens.MANAGE, "DIGEST_MANAGE_LINK_MAX_AGE"),
        (tokens.UNSUBSCRIBE, "DIGEST_UNSUBSCRIBE_LINK_MAX_AGE"),
    ],
)
def test_links_expire(client, settings, purpose, max_age_setting):
    reader = subscriber("reader@example.org", state=SubscriberState.PENDING)
    max_age = getattr(settings, max_age_setting)
    with time_machine.travel(timezone.now() - timedelta(seconds=max_age + 60), tick=False):
        old_path = tokens.path(purpose, reader)
    with time_machine.travel(timezone.now() - timedelta(seconds=max_age - 60), tick=False):
        recent_path = tokens.path(purpose, reader)
    assert client.get(old_path).status_code == 404
    assert client.post(old_path, {"frequency": "daily"}).status_code == 404
    assert state_of("reader@example.org") == SubscriberState.PENDING
    assert client.get(recent_path).status_code == 200


def test_a_link_acts_only_on_its_own_address(client):
    alice = subscriber("alice@example.org")
    bob = subscriber("bob@example.org")
    assert tokens.make(tokens.UNSUBSCRIBE, alice) != tokens.make(tokens.UNSUBSCRIBE, bob)
    assert client.post(tokens.path(tokens.UNSUBSCRIBE, alice)).status_code == 200
    assert state_of("alice@example.org") == SubscriberState.UNSUBSCRIBED
    assert state_of("bob@example.org") == SubscriberState.CONFIRMED

    # A link names the address as well as the row: if the row's address changed, the old
    # address's link no longer works for it.
    carol = subscriber("carol@example.org")
    carols_link = tokens.path(tokens.MANAGE, carol)
    Subscriber.objects.filter(pk=carol.pk).update(email="dave@example.org")
    assert client.get(carols_link).status_code == 404
    assert client.post(carols_link, {"frequency": "daily"}).status_code == 404
    assert Subscriber.objects.get(pk=carol.pk).frequency == "weekly"


def test_an_old_confirmation_link_cannot_resubscribe_or_reset_a_subscriber(client):
    reader = subscriber("reader@example.org", state=SubscriberState.PENDING)
    confirm = tokens.path(tokens.CONFIRM, reader)
    assert client.post(confirm).status_code == 200
    confirmed = Subscriber.objects.get(pk=reader.pk)
    assert confirmed.state == SubscriberState.CONFIRMED

    # Following it again neither moves the digest's starting point nor changes anything.
    Subscriber.objects.filter(pk=reader.pk).update(high_water=41)
    assert client.post(confirm).status_code == 200
    assert Subscriber.objects.get(pk=reader.pk).high_water == 41
    assert Subscriber.objects.get(pk=reader.pk).confirmed_at == confirmed.confirmed_at

    # After unsubscribing, neither the confirmation nor the preferences link brings them back.
    assert client.post(tokens.path(tokens.UNSUBSCRIBE, reader)).status_code == 200
    client.post(confirm)
    client.post(tokens.path(tokens.MANAGE, reader), {"frequency": "daily"})
    assert state_of("reader@example.org") == SubscriberState.UNSUBSCRIBED


# -- no open redirect ----------------------------------------------------------------------------

OFF_SITE = [
    "https://evil.example/",
    "http://evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "https:/evil.example",
    " //evil.example",
    "/%2F%2Fevil.example",
    "javascript:alert(1)",
    "http://testserver@evil.example/",
]


def _stays_on_site(location: str) -> bool:
    """A path on this site: browsers read "//host" and "/\\host" as another host."""
    parts = urlsplit(location)
    return not parts.scheme and not parts.netloc and location.startswith("/") and location[1:2] not in ("/", "\\")


@pytest.mark.parametrize("target", OFF_SITE)
def test_signing_in_never_redirects_off_site(client, staff, target):
    credentials = {"username": "sam-staff", "password": "correct-horse-battery", "next": target}
    response = client.post(f"/admin/login/?next={target}", credentials)
    assert response.status_code == 302
    assert _stays_on_site(response["Location"]), response["Location"]
    assert client.session["_auth_user_id"] == str(staff.pk)

    # Already signed in, the sign-in page sends them on too: still on the site.
    again = client.get("/admin/login/", {"next": target})
    assert again.status_code == 302 and _stays_on_site(again["Location"]), again["Location"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_signing_out_never_redirects_off_site(client, staff, target):
    client.force_login(staff)
    response = client.post("/admin/logout/", {"next": target})
    if _stays_on_site(target):
        # A path on this site, however odd it looks ("/%2F%2Fevil.example"), is followed.
        assert response.status_code == 302 and response["Location"] == target
    else:
        assert response.status_code == 200, "the signed-out page, not a redirect"
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("path", "status", "location"),
    [
        ("//evil.example", 404, None),
        ("/api//evil.example", 404, None),
        ("//evil.example/api", 404, None),
        ("/api/v1/developments", 301, "/api/v1/developments/"),
    ],
)
def test_adding_a_slash_keeps_the_visitor_on_the_site(db, path, status, location):
    # The path as a browser sends it: the test client alone would read a leading "//" as a host.
    response = Client().get(path, PATH_INFO=path)
    assert response.status_code == status
    assert response.get("Location") == location
    if location:
        assert _stays_on_site(location) and Client().get(location).status_code == 200
