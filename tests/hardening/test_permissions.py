"""Who may do what: every address of the site, for every kind of visitor.

The table has one row per URL pattern; a pattern added to the site without a row here
fails `test_the_table_covers_every_address`. Each case gives what each role gets, in
the order of ROLES:

- a number: that status;
- "login": a redirect to the admin's sign-in page;
- "done": the action took effect (see `effect`);
- "refused": 302 (back to the page with an error) or 403, and nothing changed.

API keys never sign anyone in to the admin; an expired or revoked key is refused with
401 by every API endpoint, never treated as an anonymous request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from chronicle.api.models import ApiKey
from chronicle.developments import commands
from chronicle.developments.models import DevelopmentRecord
from chronicle.digests import tokens
from chronicle.digests.models import Digest, Subscriber, SubscriberState
from chronicle.eventstore.models import Event
from chronicle.webhooks import endpoints as webhook_endpoints
from chronicle.webhooks.models import Delivery
from tests.admin.conftest import form_data
from tests.factories import content_data, member, published_development

ROLES = ("anonymous", "partner", "expired", "revoked", "curator", "editor", "superuser")
KEY_ROLES = ("partner", "expired", "revoked")


def events(w) -> int:
    return Event.objects.count()


@dataclass
class Case:
    method: str
    url: str | Callable[[Any], str]
    expected: str  # one outcome per role, in the order of ROLES
    data: dict | Callable[[Any], dict] = field(default_factory=dict)
    effect: Callable[[Any], Any] = events


def get(url, expected):
    return Case("GET", url, expected)


def post(url, expected, data=None, effect=events):
    return Case("POST", url, expected, data or {}, effect)


STAFF = "login login login login 302 302 302"


def _admin_model_pages(model: str, obj, *, changelist, add, change, delete):
    """The six standard pages of a model admin; `obj(w)` is the id of an object to open."""
    base = f"admin/{model}/"
    return {
        base: [get(f"/{base}", changelist)],
        f"{base}add/": [get(f"/{base}add/", add)],
        f"{base}<path:object_id>/change/": [get(lambda w: f"/{base}{obj(w)}/change/", change)],
        f"{base}<path:object_id>/delete/": [get(lambda w: f"/{base}{obj(w)}/delete/", delete)],
        f"{base}<path:object_id>/history/": [get(lambda w: f"/{base}{obj(w)}/history/", change)],
        # The bare object address redirects to its change page, for whoever may open the admin.
        f"{base}<path:object_id>/": [get(lambda w: f"/{base}{obj(w)}/", STAFF)],
    }


ADMIN_ONLY = "login login login login 403 403 200"
NOBODY = "login login login login 403 403 403"
EDITORS = "login login login login 403 200 200"
PUBLIC = "200 200 200 200 200 200 200"
API = "200 200 401 401 200 200 200"
PARTNER_ONLY = "401 200 401 401 401 401 401"
DEVELOPMENTS = "/admin/developments/developmentrecord/"


def step(name: str, development: str, expected: str, **data):
    return post(
        lambda w: f"{DEVELOPMENTS}{getattr(w, development)}/workflow/{name}/",
        expected,
        lambda w: {"version": DevelopmentRecord.objects.get(pk=getattr(w, development)).version, **data},
    )


def revoked_keys(w) -> int:
    return ApiKey.objects.filter(revoked_at__isnull=False).count()


def sent_mail(w) -> int:
    return len(mail.outbox)


TABLE: dict[str, list[Case]] = {
    # -- public pages and feeds: keys and sessions change nothing --
    "": [get("/", PUBLIC)],
    "favicon.ico": [get("/favicon.ico", PUBLIC)],
    "developments/<slug:slug>/": [get("/developments/beltelecom-5g-2021/", PUBLIC)],
    "developments/<slug:slug>/timemap/": [get("/developments/beltelecom-5g-2021/timemap/", PUBLIC)],
    "developments/<slug:slug>/cite.bib": [get("/developments/beltelecom-5g-2021/cite.bib", PUBLIC)],
    "developments/<slug:slug>/cite.ris": [get("/developments/beltelecom-5g-2021/cite.ris", PUBLIC)],
    "developments/<slug:slug>/cite.json": [get("/developments/beltelecom-5g-2021/cite.json", PUBLIC)],
    r"feeds/^(?P<path>all|countries/[a-z]{2}|topics/[a-z0-9-]+)\.(?P<extension>atom|rss|json)$": [
        get("/feeds/all.atom", PUBLIC)
    ],
    "subscribe/": [get("/subscribe/", PUBLIC)],
    "subscribe/confirm/<str:token>/": [get(lambda w: tokens.path(tokens.CONFIRM, w.subscriber), PUBLIC)],
    "subscribe/manage/<str:token>/": [get(lambda w: tokens.path(tokens.MANAGE, w.subscriber), PUBLIC)],
    "unsubscribe/<str:token>/": [get(lambda w: tokens.path(tokens.UNSUBSCRIBE, w.subscriber), PUBLIC)],
    # -- the partner API --
    "api/v1/developments/": [get("/api/v1/developments/", API)],
    "api/v1/developments/<str:identifier>/": [get("/api/v1/developments/beltelecom-5g-2021/", API)],
    "api/v1/developments/<str:identifier>/history/": [get("/api/v1/developments/beltelecom-5g-2021/history/", API)],
    "api/v1/developments/<str:identifier>/timemap/": [get("/api/v1/developments/beltelecom-5g-2021/timemap/", API)],
    "api/v1/events/": [get("/api/v1/events/?after=0", API)],
    "api/v1/events/head/": [get("/api/v1/events/head/", API)],
    "api/v1/timeline.json": [get("/api/v1/timeline.json", API)],
    "api/v1/topics/": [get("/api/v1/topics/", API)],
    "api/v1/countries/": [get("/api/v1/countries/", API)],
    "api/v1/actors/": [get("/api/v1/actors/", API)],
    "api/schema/": [get("/api/schema/", API)],
    "api/docs/": [get("/api/docs/", API)],
    "api/v1/subscriptions/": [
        post("/api/v1/subscriptions/", "202 202 401 401 202 202 202", {"email": "reader@example.org"})
    ],
    "api/^.*$": [get("/api/v1/nothing-here/", "404 404 404 404 404 404 404")],
    # Webhook endpoints: a partner's own, through their API key only.
    "api/v1/webhooks/": [
        get("/api/v1/webhooks/", PARTNER_ONLY),
        post("/api/v1/webhooks/", "401 201 401 401 401 401 401", {"url": "https://93.184.216.34/hooks"}),
    ],
    "api/v1/webhooks/<uuid:endpoint_id>/": [get(lambda w: f"/api/v1/webhooks/{w.endpoint.pk}/", PARTNER_ONLY)],
    "api/v1/webhooks/<uuid:endpoint_id>/replay/": [
        post(lambda w: f"/api/v1/webhooks/{w.endpoint.pk}/replay/", "401 202 401 401 401 401 401", {"after": 0})
    ],
    # Bulk exports: public (no package has been written in this world).
    "exports/latest/": [get("/exports/latest/", "404 404 404 404 404 404 404")],
    "exports/latest/<str:name>": [get("/exports/latest/developments.csv", "404 404 404 404 404 404 404")],
    # -- the admin: staff only; keys sign nobody in --
    "admin/": [get("/admin/", "login login login login 200 200 200")],
    "admin/login/": [get("/admin/login/", "200 200 200 200 302 302 302")],
    "admin/logout/": [
        get("/admin/logout/", "302 302 302 302 405 405 405"),
        post("/admin/logout/", "302 302 302 302 200 200 200"),
    ],
    "admin/password_change/": [get("/admin/password_change/", "login login login login 200 200 200")],
    "admin/password_change/done/": [get("/admin/password_change/done/", "login login login login 200 200 200")],
    "admin/jsi18n/": [get("/admin/jsi18n/", "login login login login 200 200 200")],
    "admin/autocomplete/": [
        get("/admin/autocomplete/?app_label=api&model_name=apikey&field_name=owner&term=acme", ADMIN_ONLY)
    ],
    "admin/r/<path:content_type_id>/<path:object_id>/": [
        get(lambda w: f"/admin/r/{w.user_type}/{w.users['curator'].pk}/", "login login login login 404 404 404")
    ],
    r"admin/^(?P<app_label>auth|otp_totp|otp_static|eventstore|developments|api|digests|webhooks)/$": [
        get("/admin/developments/", "login login login login 200 200 200"),
        get("/admin/api/", "login login login login 404 200 200"),
        get("/admin/otp_totp/", "login login login login 404 404 200"),
    ],
    "admin/(?P<url>.*)$": [get("/admin/no-such-page/", "login login login login 404 404 404")],
    **_admin_model_pages(
        "auth/group",
        lambda w: w.group.pk,
        changelist=ADMIN_ONLY,
        add=ADMIN_ONLY,
        change=ADMIN_ONLY,
        delete=ADMIN_ONLY,
    ),
    **_admin_model_pages(
        "auth/user",
        lambda w: w.users["curator"].pk,
        changelist=ADMIN_ONLY,
        add=ADMIN_ONLY,
        change=ADMIN_ONLY,
        delete=ADMIN_ONLY,
    ),
    "admin/auth/user/<id>/password/": [
        get(lambda w: f"/admin/auth/user/{w.users['curator'].pk}/password/", ADMIN_ONLY)
    ],
    # The event log: read-only, for audit, even for a superuser.
    **_admin_model_pages(
        "eventstore/event",
        lambda w: w.event.pk,
        changelist=ADMIN_ONLY,
        add=NOBODY,
        change=ADMIN_ONLY,
        delete=NOBODY,
    ),
    # Developments: curators and editors edit; nobody deletes.
    **_admin_model_pages(
        "developments/developmentrecord",
        lambda w: w.published,
        changelist="login login login login 200 200 200",
        add="login login login login 200 200 200",
        change="login login login login 200 200 200",
        delete=NOBODY,
    ),
    "admin/developments/developmentrecord/<path:object_id>/workflow/<slug:step_name>/": [
        step("request-changes", "in_review", "login login login login refused done done", note="Cite a source."),
        step("publish", "in_review", "login login login login refused done done"),
        step(
            "schedule",
            "in_review",
            "login login login login refused done done",
            publish_at=(timezone.now() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M"),
        ),
        step("publish-correction", "revision", "login login login login refused done done", note="Fixed."),
        step("publish-update", "revision", "login login login login refused done done", note="In force."),
        step("retract", "published", "login login login login refused done done", note="A hoax."),
        get(lambda w: f"{DEVELOPMENTS}{w.published}/workflow/retract/", "login login login login 405 405 405"),
    ],
    # Saving through the admin's forms is a command too: drafting and revising.
    f"{DEVELOPMENTS[1:]}add/": [
        get(f"{DEVELOPMENTS}add/", "login login login login 200 200 200"),
        post(f"{DEVELOPMENTS}add/", "login login login login done done done", form_data(content_data(), slug="new")),
    ],
    # API keys: editors (and partner managers) issue and revoke them; never deleted.
    **_admin_model_pages(
        "api/apikey",
        lambda w: w.key.pk,
        changelist=EDITORS,
        add=EDITORS,
        change=EDITORS,
        delete=NOBODY,
    ),
    # Subscribers come in through double opt-in only; the ledger is read-only.
    **_admin_model_pages(
        "digests/subscriber",
        lambda w: w.subscriber.pk,
        changelist=ADMIN_ONLY,
        add=NOBODY,
        change=ADMIN_ONLY,
        delete=ADMIN_ONLY,
    ),
    **_admin_model_pages(
        "digests/digest",
        lambda w: w.digest.pk,
        changelist=ADMIN_ONLY,
        add=NOBODY,
        change=ADMIN_ONLY,
        delete=NOBODY,
    ),
}
TABLE.update(
    {
        # Webhook endpoints come in through the API or add_webhook (which show the secret once).
        **_admin_model_pages(
            "webhooks/endpoint",
            lambda w: w.endpoint.pk,
            changelist=ADMIN_ONLY,
            add=NOBODY,
            change=ADMIN_ONLY,
            delete=ADMIN_ONLY,
        ),
        # The delivery log is read-only.
        **_admin_model_pages(
            "webhooks/delivery",
            lambda w: w.delivery.pk,
            changelist=ADMIN_ONLY,
            add=NOBODY,
            change=ADMIN_ONLY,
            delete=NOBODY,
        ),
    }
)
TABLE.update(
    {
        # Two-factor sign-in: each staff member's own pages (these users have no device, and
        # two factors are not required here: tests/twofactor is about that).
        "admin/two-factor/": [get("/admin/two-factor/", "login login login login 200 200 200")],
        "admin/two-factor/code/": [get("/admin/two-factor/code/", STAFF)],  # no code to give: on to the admin
        "admin/two-factor/set-up/": [get("/admin/two-factor/set-up/", "login login login login 200 200 200")],
        "admin/two-factor/backup-codes/": [
            get("/admin/two-factor/backup-codes/", "login login login login 405 405 405"),
            post("/admin/two-factor/backup-codes/", STAFF),  # no authenticator yet: sent to set one up
        ],
        # Anyone's devices: a superuser removes a lost one; nobody sees a key again.
        **_admin_model_pages(
            "otp_totp/totpdevice",
            lambda w: w.authenticator.pk,
            changelist=ADMIN_ONLY,
            add=ADMIN_ONLY,
            change=ADMIN_ONLY,
            delete=ADMIN_ONLY,
        ),
        "admin/otp_totp/totpdevice/<int:pk>/config/": [
            get(lambda w: f"/admin/otp_totp/totpdevice/{w.authenticator.pk}/config/", NOBODY)
        ],
        "admin/otp_totp/totpdevice/<int:pk>/qrcode/": [
            get(lambda w: f"/admin/otp_totp/totpdevice/{w.authenticator.pk}/qrcode/", NOBODY)
        ],
        **_admin_model_pages(
            "otp_static/staticdevice",
            lambda w: w.backup_codes.pk,
            changelist=ADMIN_ONLY,
            add=ADMIN_ONLY,
            change=ADMIN_ONLY,
            delete=ADMIN_ONLY,
        ),
    }
)
# The admin's list actions and saving an existing development, beside their pages.
TABLE[f"{DEVELOPMENTS[1:]}<path:object_id>/change/"].append(
    post(
        lambda w: f"{DEVELOPMENTS}{w.published}/change/",
        "login login login login done done done",
        lambda w: form_data(
            content_data(title="Revised"), version=DevelopmentRecord.objects.get(pk=w.published).version
        ),
    )
)
TABLE["admin/api/apikey/"].append(
    post(
        "/admin/api/apikey/",
        "login login login login 403 done done",
        lambda w: {"action": "revoke", "_selected_action": [w.key.pk]},
        effect=revoked_keys,
    )
)
TABLE["admin/digests/subscriber/"].append(
    post(
        "/admin/digests/subscriber/",
        "login login login login 403 403 done",
        lambda w: {"action": "send_preview", "_selected_action": [w.subscriber.pk]},
        effect=sent_mail,
    )
)


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def test_the_table_covers_every_address():
    routes = list(_routes(get_resolver().url_patterns))
    assert len(routes) == len(set(routes))
    assert set(routes) - set(TABLE) == set(), "an address without a row in the permission table"
    assert set(TABLE) - set(routes) == set(), "a row for an address the site no longer has"


@pytest.fixture
def world(roles, partner, settings, tmp_path, django_user_model):
    """Everything the table's addresses open, and one visitor of each role."""
    settings.FEEDS_ROOT = tmp_path
    (tmp_path / "all.atom").write_text("<feed xmlns='http://www.w3.org/2005/Atom'/>")
    author = member(django_user_model, "alex-author", roles["Curators"])
    publisher = member(django_user_model, "pat-publisher", roles["Editors"])
    users = {
        "curator": member(django_user_model, "cora-curator", roles["Curators"]),
        "editor": member(django_user_model, "eddie-editor", roles["Editors"]),
        "superuser": member(django_user_model, "root", is_superuser=True, email="root@example.org"),
    }
    key, valid = ApiKey.issue(name="dashboard", owner=partner)
    _, expired = ApiKey.issue(name="old", owner=partner, expires_at=timezone.now() - timedelta(days=1))
    revoked_key, revoked = ApiKey.issue(name="leaked", owner=partner)
    ApiKey.objects.filter(pk=revoked_key.pk).revoke()

    published = published_development(author, publisher)
    in_review = commands.draft_development(content_data(title="In review"), actor=author, slug="in-review")
    commands.submit_development(in_review.development_id, actor=author)
    revision = published_development(author, publisher, slug="with-revision", title="With a revision")
    commands.revise_development(revision, content_data(title="With a revision", stage="signed"), actor=author)
    commands.submit_development(revision, actor=author)

    subscriber = Subscriber.objects.create(email="reader@example.net", state=SubscriberState.CONFIRMED, high_water=0)
    digest = Digest.objects.create(subscriber=subscriber, period="2025-W03", frequency="weekly", cutoff_position=0)
    endpoint, _ = webhook_endpoints.register("https://93.184.216.34/hooks", owner=partner)
    delivery = Delivery.objects.create(
        endpoint=endpoint, position=1, webhook_id="msg_1", event_type="development.published", attempt=1,
        attempted_at=timezone.now(), outcome="delivered", status_code=200, duration_ms=12,
    )  # fmt: skip
    return SimpleNamespace(
        users=users,
        keys={"partner": valid, "expired": expired, "revoked": revoked},
        key=key,
        published=published,
        in_review=in_review.development_id,
        revision=revision,
        subscriber=subscriber,
        digest=digest,
        endpoint=endpoint,
        delivery=delivery,
        group=roles["Curators"],
        event=Event.objects.first(),
        user_type=ContentType.objects.get_for_model(django_user_model).pk,
        authenticator=TOTPDevice.objects.create(user=author, name="Authenticator app"),
        backup_codes=StaticDevice.objects.create(user=author, name="Backup codes"),
    )


class Rollback(Exception):
    pass


def _visit(w, role: str, case: Case):
    client = Client()
    headers = {}
    if role in KEY_ROLES:
        headers["HTTP_AUTHORIZATION"] = f"Api-Key {w.keys[role]}"
    elif role != "anonymous":
        client.force_login(w.users[role])
    url = case.url(w) if callable(case.url) else case.url
    data = case.data(w) if callable(case.data) else case.data
    before = case.effect(w)
    if case.method == "GET":
        response = client.get(url, **headers)
    elif url.startswith("/api/"):
        response = client.post(url, data, content_type="application/json", **headers)
    else:
        response = client.post(url, data, **headers)
    return response, before != case.effect(w)


def _outcome(expected: str, response, changed: bool) -> str:
    """The observed outcome, in the table's vocabulary of `expected`."""
    if expected == "login":
        signed_out = response.status_code == 302 and response["Location"].startswith("/admin/login/")
        return "login" if signed_out and not changed else f"{response.status_code} {response.get('Location', '')}"
    if expected == "done":
        return "done" if changed and response.status_code < 400 else f"{response.status_code} (changed: {changed})"
    if expected == "refused":
        return "refused" if response.status_code in (302, 403) and not changed else f"{response.status_code}"
    return str(response.status_code) if not changed else f"{response.status_code} (changed!)"


@pytest.mark.parametrize("route", list(TABLE))
def test_each_role_gets_what_the_table_says(world, route):
    mismatches = []
    for case in TABLE[route]:
        expected = dict(zip(ROLES, case.expected.split(), strict=True))
        for role in ROLES:
            cache.clear()  # rate limits are not what this table is about
            try:
                with transaction.atomic():
                    response, changed = _visit(world, role, case)
                    raise Rollback  # each role starts from the same state
            except Rollback:
                pass
            observed = _outcome(expected[role], response, changed)
            if observed != expected[role]:
                mismatches.append(f"{case.method} {role}: expected {expected[role]}, got {observed}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("role", ["expired", "revoked"])
def test_an_expired_or_revoked_key_is_refused_with_a_clear_error_everywhere_in_the_api(world, role):
    is_api = re.compile(r"api/(v1|schema|docs)").match
    api_cases = [case for route, cases in TABLE.items() if is_api(route) for case in cases]
    assert {route for route in TABLE if is_api(route)} == set(filter(is_api, _routes(get_resolver().url_patterns)))
    for case in api_cases:
        response, _ = _visit(world, role, case)
        assert response.status_code == 401, case.url
        assert response["WWW-Authenticate"] == "Api-Key"
        if case.url == "/api/docs/":
            continue  # an HTML page for people, whose browser sends no key; the status says it
        # Every endpoint answers JSON but the schema, which answers in the format it serves (YAML).
        body = response.content.decode()
        assert "authentication_failed" in body
        assert ("This API key has expired." if role == "expired" else "This API key was revoked.") in body
