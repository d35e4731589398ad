"""/api/v1/webhooks/: a partner registers, lists, pauses, replays and deletes their endpoints."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from chronicle.api.models import ApiKey
from chronicle.webhooks import delivery
from chronicle.webhooks.models import Endpoint, Status

API = "/api/v1/webhooks/"


def test_registering_shows_the_secret_once_and_deliveries_verify_with_it(
    client, partner, partner_headers, receiver, publish
):
    auth = partner_headers
    hooks = receiver()
    response = client.post(API, {"url": hooks.url, "countries": ["BY"]}, content_type="application/json", headers=auth)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["status"] == "active" and body["countries"] == ["BY"]
    assert Endpoint.objects.get().owner == partner
    hooks.secret = body["secret"]

    listed = client.get(API, headers=auth).json()["results"]
    assert [item["id"] for item in listed] == [body["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in client.get(f"{API}{body['id']}/", headers=auth).json()

    publish("one")
    delivery.deliver_due()
    assert hooks.unverified == [] and len(hooks.accepted()) == 1


def test_pause_resume_replay_and_delete(client, partner_headers, receiver, publish):
    auth = partner_headers
    hooks = receiver()
    created = client.post(API, {"url": hooks.url}, content_type="application/json", headers=auth).json()
    hooks.secret = created["secret"]
    address = f"{API}{created['id']}/"

    paused = client.patch(address, {"paused": True}, content_type="application/json", headers=auth)
    assert paused.json()["status"] == "paused"
    publish("one")
    delivery.deliver_due()
    assert hooks.requests == []
    assert client.patch(address, {"paused": False}, content_type="application/json", headers=auth).json()["status"] == (
        "active"
    )
    delivery.deliver_due()
    assert len(hooks.accepted()) == 1

    replay = client.post(f"{address}replay/", {"after": 0}, content_type="application/json", headers=auth)
    assert replay.status_code == 202 and replay.json()["position"] == 0
    delivery.deliver_due()
    assert len(hooks.accepted()) == 2
    assert hooks.accepted()[0].webhook_id == hooks.accepted()[1].webhook_id

    assert client.delete(address, headers=auth).status_code == 204
    assert not Endpoint.objects.exists()


def test_a_partner_sees_and_touches_only_their_own_endpoints(client, partner_headers, django_user_model, receiver):
    auth = partner_headers
    other = django_user_model.objects.create_user("other-partner", password="x-long-pass")
    _, other_key = ApiKey.issue(name="Other", owner=other)
    other_auth = {"authorization": f"Api-Key {other_key}"}
    created = client.post(API, {"url": receiver().url}, content_type="application/json", headers=auth).json()
    address = f"{API}{created['id']}/"
    assert client.get(API, headers=other_auth).json()["results"] == []
    for response in (
        client.get(address, headers=other_auth),
        client.patch(address, {"paused": True}, content_type="application/json", headers=other_auth),
        client.delete(address, headers=other_auth),
        client.post(f"{address}replay/", {"after": 0}, content_type="application/json", headers=other_auth),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert Endpoint.objects.get().status == Status.ACTIVE


def test_without_an_api_key_the_answer_is_401_in_json(client, db):
    response = client.get(API)
    assert response.status_code == 401
    assert response.json()["error"]["message"]
    assert client.post(API, {"url": "https://example.org/"}, content_type="application/json").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.org/hooks"}, "url"),
        ({"url": "not a url"}, "url"),
        ({}, "url"),
        ({"url": "http://127.0.0.1:9/", "countries": ["XX"]}, "countries"),
        ({"url": "http://127.0.0.1:9/", "topics": ["nonsense"]}, "topics"),
        ({"url": "http://127.0.0.1:9/", "countries": "BY"}, "countries"),
    ],
)
def test_bad_registrations_are_refused_field_by_field(client, partner_headers, body, field):
    auth = partner_headers
    response = client.post(API, body, content_type="application/json", headers=auth)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]
    assert not Endpoint.objects.exists()


def test_bad_pause_and_replay_bodies_are_refused(client, partner_headers, receiver):
    auth = partner_headers
    created = client.post(API, {"url": receiver().url}, content_type="application/json", headers=auth).json()
    address = f"{API}{created['id']}/"
    assert client.patch(address, {"paused": "maybe"}, content_type="application/json", headers=auth).status_code == 400
    replay = client.post(f"{address}replay/", {"after": -1}, content_type="application/json", headers=auth)
    assert replay.status_code == 400 and "after" in replay.json()["error"]["fields"]


def test_the_api_docs_list_the_webhook_operations(client, db):
    schema = client.get("/api/schema/", headers={"accept": "application/json"}).json()
    assert {"/api/v1/webhooks/", "/api/v1/webhooks/{endpoint_id}/", "/api/v1/webhooks/{endpoint_id}/replay/"} <= set(
        schema["paths"]
    )


def test_add_webhook_registers_an_operator_endpoint(receiver, publish, capsys):
    from chronicle.webhooks import signing

    hooks = receiver()
    secret = signing.new_secret()
    hooks.secret = secret
    call_command("add_webhook", hooks.url, "--secret", secret, "--country", "ru", "--topic", "ai")
    assert "Added webhook endpoint" in capsys.readouterr().out
    endpoint = Endpoint.objects.get()
    assert (endpoint.countries, endpoint.topics, endpoint.owner) == (["RU"], ["ai"], None)
    publish("ru-ai", countries=["RU"], topics=["ai"])
    publish("by-only", countries=["BY"])
    call_command("deliver_webhooks")
    assert "1 delivered" in capsys.readouterr().out
    assert [r.payload["data"]["slug"] for r in hooks.accepted()] == ["ru-ai"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["http://127.0.0.1:9/", "--secret", "not-a-secret"], "whsec_"),
        (["http://127.0.0.1:9/", "--secret", "whsec_!!!"], "base64"),
        (["gopher://127.0.0.1/", "--secret", "whsec_" + "A" * 44], "http"),
        (["http://127.0.0.1:9/", "--secret", "whsec_" + "A" * 44, "--owner", "nobody"], "no user"),
    ],
)
def test_add_webhook_refuses_bad_input_with_a_message(db, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("add_webhook", *arguments)
    assert not Endpoint.objects.exists()
