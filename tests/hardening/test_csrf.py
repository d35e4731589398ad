"""Every form refuses a POST without its CSRF token (403) and accepts it with the token.

The one exception is the unsubscribe link: mail clients POST to it without a session or
token (RFC 8058 one-click), so its signed token is the authorisation. A cross-site page
cannot know that token, which is what a CSRF token would add.
"""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from chronicle.api.models import ApiKey
from chronicle.developments.models import DevelopmentRecord
from chronicle.digests import tokens
from chronicle.digests.models import Subscriber, SubscriberState
from chronicle.eventstore.models import Event
from tests.admin.conftest import form_data
from tests.factories import content_data, published_development

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser_client():
    return Client(enforce_csrf_checks=True)


def csrf_token(client, page: str) -> str:
    """Open `page` as a browser would and return the token its forms carry."""
    assert client.get(page).status_code == 200
    return client.cookies["csrftoken"].value


def test_the_admin_sign_in_form_needs_its_token(browser_client, editor):
    credentials = {"username": "eddie-editor", "password": "correct-horse-battery"}
    token = csrf_token(browser_client, "/admin/login/")
    refused = browser_client.post("/admin/login/", credentials)
    assert refused.status_code == 403
    assert "_auth_user_id" not in browser_client.session

    signed_in = browser_client.post("/admin/login/", {**credentials, "csrfmiddlewaretoken": token})
    assert signed_in.status_code == 302
    assert browser_client.session["_auth_user_id"] == str(editor.pk)


def test_the_admin_development_form_and_workflow_buttons_need_the_token(browser_client, curator, editor):
    development_id = published_development(curator, editor)
    editor.user_permissions.add(Permission.objects.get(codename="view_developmentrecord"))  # as in "Editors"
    browser_client.force_login(editor)
    change = f"/admin/developments/developmentrecord/{development_id}/change/"
    token = csrf_token(browser_client, change)
    version = DevelopmentRecord.objects.get(pk=development_id).version
    events = Event.objects.count()

    retract = f"/admin/developments/developmentrecord/{development_id}/workflow/retract/"
    assert browser_client.post(retract, {"version": version, "note": "A hoax."}).status_code == 403
    revision = form_data(content_data(title="Revised"), version=version)
    assert browser_client.post(change, revision).status_code == 403
    add = form_data(content_data(), slug="sneaked-in")
    assert browser_client.post("/admin/developments/developmentrecord/add/", add).status_code == 403
    assert Event.objects.count() == events

    response = browser_client.post(retract, {"version": version, "note": "A hoax.", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert DevelopmentRecord.objects.get(pk=development_id).workflow == "retracted"


def test_the_admin_list_actions_need_the_token(browser_client, superuser):
    root = superuser
    key, _ = ApiKey.issue(name="dashboard", owner=root)
    browser_client.force_login(root)
    token = csrf_token(browser_client, "/admin/api/apikey/")
    action = {"action": "revoke", "_selected_action": [key.pk]}

    assert browser_client.post("/admin/api/apikey/", action).status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None

    assert browser_client.post("/admin/api/apikey/", {**action, "csrfmiddlewaretoken": token}).status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_the_subscribe_confirm_and_preferences_forms_need_the_token(browser_client):
    token = csrf_token(browser_client, "/subscribe/")
    form = {"email": "reader@example.org", "frequency": "weekly"}
    assert browser_client.post("/subscribe/", form).status_code == 403
    assert not Subscriber.objects.exists()
    response = browser_client.post("/subscribe/", {**form, "csrfmiddlewaretoken": token})
    assert response.status_code == 200 and "reader@example.org" in response.content.decode()
    subscriber = Subscriber.objects.get()

    confirm = tokens.path(tokens.CONFIRM, subscriber)
    assert browser_client.post(confirm).status_code == 403
    assert Subscriber.objects.get().state == SubscriberState.PENDING
    assert browser_client.post(confirm, {"csrfmiddlewaretoken": token}).status_code == 200
    assert Subscriber.objects.get().state == SubscriberState.CONFIRMED

    manage = tokens.path(tokens.MANAGE, subscriber)
    daily = {"frequency": "daily", "topics": ["5g"]}
    assert browser_client.post(manage, daily).status_code == 403
    assert Subscriber.objects.get().frequency == "weekly"
    assert browser_client.post(manage, {**daily, "csrfmiddlewaretoken": token}).status_code == 200
    assert Subscriber.objects.get().frequency == "daily"


def test_one_click_unsubscribe_needs_no_csrf_token_but_the_signed_link(browser_client):
    subscriber = Subscriber.objects.create(email="reader@example.org", state=SubscriberState.CONFIRMED)
    link = tokens.path(tokens.UNSUBSCRIBE, subscriber)

    forged = browser_client.post(link[:-3] + "xyz/", {"List-Unsubscribe": "One-Click"})
    assert forged.status_code == 404
    assert Subscriber.objects.get().state == SubscriberState.CONFIRMED

    # A mail client, RFC 8058: no session, no CSRF token.
    assert browser_client.post(link, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert Subscriber.objects.get().state == SubscriberState.UNSUBSCRIBED


def test_the_api_refuses_a_signed_in_post_without_the_token(browser_client, editor):
    browser_client.force_login(editor)
    token = csrf_token(browser_client, "/admin/")
    refused = browser_client.post("/api/v1/developments/", {}, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied" and "CSRF" in refused.json()["error"]["message"]
    # With the token the request reaches the view, which reads only.
    allowed = browser_client.post("/api/v1/developments/", {}, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert allowed.status_code == 405
