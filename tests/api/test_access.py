"""Who may read: anonymous clients, API keys (valid, expired, revoked), staff; and rate limits."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chronicle.api.models import ApiKey
from chronicle.developments import commands
from tests.api.conftest import error_of
from tests.factories import content_data, member, published_development

LIST = "/api/v1/developments/"


@pytest.fixture
def chronicle(curator, editor):
    published_development(curator, editor, title="Public")
    commands.draft_development(content_data(title="Draft"), actor=curator, slug="a-draft")


def key_header(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Api-Key {secret}"}


def test_the_permission_matrix(api, chronicle, partner, editor):
    _, valid = ApiKey.issue(name="dashboard", owner=partner)
    _, expired = ApiKey.issue(name="old", owner=partner, expires_at=timezone.now() - timedelta(days=1))
    revoked_key, revoked = ApiKey.issue(name="leaked", owner=partner)
    assert ApiKey.objects.filter(pk=revoked_key.pk).revoke()

    anonymous = api.get(LIST)
    with_key = api.get(LIST, **key_header(valid))
    api.force_login(editor)  # staff, signed in to the admin, reading the docs
    staff = api.get(LIST)
    api.logout()
    for response in (anonymous, with_key, staff):
        assert response.status_code == 200
        assert [d["title"] for d in response.json()["results"]] == ["Public"]

    for secret, message in (
        (expired, "This API key has expired."),
        (revoked, "This API key was revoked."),
        ("chr_00000000_guessed", "This API key is not valid."),
        ("not-even-shaped-like-one", "This API key is not valid."),
        (valid[:-1] + ("A" if valid[-1] != "A" else "B"), "This API key is not valid."),
    ):
        response = api.get(LIST, **key_header(secret))
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Api-Key"
        assert error_of(response) == {"code": "authentication_failed", "message": message, "fields": {}}


def test_keys_are_stored_hashed_and_record_their_last_use(api, db, partner):
    key, secret = ApiKey.issue(name="dashboard", owner=partner)
    stored = ApiKey.objects.values_list("prefix", "hashed_key").get()
    assert secret.startswith(f"chr_{key.prefix}_")
    assert secret.split("_", 2)[2] not in "".join(stored)
    assert key.last_used_at is None

    assert api.get(LIST, **key_header(secret)).status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_a_deactivated_owner_locks_their_keys(api, db, partner):
    _, secret = ApiKey.issue(name="dashboard", owner=partner)
    partner.is_active = False
    partner.save()
    assert api.get(LIST, **key_header(secret)).status_code == 401


@pytest.fixture
def low_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anonymous": "2/minute", "partner": "4/minute"},
    }


def test_anonymous_clients_are_throttled_sooner_than_keys_with_retry_after(api, db, partner, low_rates):
    for _ in range(2):
        assert api.get(LIST).status_code == 200
    throttled = api.get(LIST)
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 60
    error = error_of(throttled)
    assert error["code"] == "throttled"
    assert f"retry in {throttled['Retry-After']} second" in error["message"], "the header and the words agree"

    _, secret = ApiKey.issue(name="dashboard", owner=partner)
    statuses = [api.get(LIST, **key_header(secret)).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]


# -- the admin -------------------------------------------------------------------------------


def test_the_admin_creates_a_key_showing_it_once_and_revokes_it(client, partner, superuser):
    client.force_login(superuser)
    response = client.post(
        "/admin/api/apikey/add/",
        {"name": "Acme dashboard", "owner": partner.pk, "expires_at_0": "", "expires_at_1": ""},
    )
    assert response.status_code == 200
    key = ApiKey.objects.get()
    secret = response.context["secret"]
    assert secret.startswith(f"chr_{key.prefix}_") and secret in response.content.decode()
    assert key.matches(secret.split("_", 2)[2])
    assert secret not in client.get(f"/admin/api/apikey/{key.pk}/change/").content.decode()
    assert secret not in client.get("/admin/api/apikey/").content.decode()

    api_response = client.get(LIST, HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert api_response.status_code == 200

    revoked = client.post("/admin/api/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True)
    assert "Revoked 1 key(s); requests with them get 401 within 5 seconds." in revoked.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert client.get(LIST, HTTP_AUTHORIZATION=f"Api-Key {secret}").status_code == 401


# -- who issues keys ------------------------------------------------------------------------


def staff_in(django_user_model, username, group_name):
    from django.contrib.auth.models import Group

    return member(django_user_model, username, Group.objects.get(name=group_name))


@pytest.mark.parametrize("group_name", ["Editors", "Partner managers"])
def test_editors_and_partner_managers_issue_and_revoke_keys(client, db, django_user_model, group_name):
    manager = staff_in(django_user_model, "kim", group_name)
    client.force_login(manager)
    assert "/admin/api/apikey/" in client.get("/admin/").content.decode(), "API keys is on their admin index"
    response = client.post("/admin/api/apikey/add/", {"name": "Acme dashboard", "expires_at_0": "", "expires_at_1": ""})
    assert response.status_code == 200, response.content.decode()[:500]
    secret = response.context["secret"]
    key = ApiKey.objects.get()
    assert key.owner == manager and key.name == "Acme dashboard"
    assert client.get(LIST, HTTP_AUTHORIZATION=f"Api-Key {secret}").status_code == 200

    client.post("/admin/api/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_curators_cannot_issue_keys(client, db, django_user_model):
    client.force_login(staff_in(django_user_model, "cory", "Curators"))
    assert client.get("/admin/api/apikey/add/").status_code == 403
    assert "/admin/api/apikey/" not in client.get("/admin/").content.decode()


def test_the_demo_partner_key_reads_the_api_and_survives_a_second_run(client, db, settings, capsys):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("create_demo_users")
    call_command("create_demo_users")
    lines = [line for line in capsys.readouterr().out.splitlines() if "API key" in line]
    assert len(lines) == 2 and lines[0] == lines[1]
    key = lines[-1].split("API key ")[1].strip()
    assert ApiKey.objects.count() == 1
    response = client.get(LIST, HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 200
    assert response.wsgi_request.user.username == "demo-partner"


@pytest.mark.parametrize("header", ["Bearer x", "Token abc", "Basic dXNlcjpwYXNz", "Api-Key"])
def test_an_authorization_the_api_does_not_take_is_refused_with_401(api, db, header):
    response = api.get(LIST, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    error = error_of(response)
    assert "Authorization: Api-Key <key>" in error["message"]
