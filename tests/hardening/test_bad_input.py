"""Bad input everywhere: generated text through the admin, the command layer, the public
pages, the API, the feeds and the digest email — accepted text stored exactly and shown
escaped, refused text answered with a field-level message and nothing recorded, bodies
over the limits answered with a 4xx in the API's error shape."""

import email
import itertools
import json
from email import policy
from xml.etree import ElementTree

import feedparser
import pytest
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from chronicle.api.pagination import encode_cursor
from chronicle.developments import commands
from chronicle.developments.models import DevelopmentRecord, PublicRevision
from chronicle.digests import emails
from chronicle.digests.content import current_digest
from chronicle.digests.models import SentDevelopment
from chronicle.domain.content import MAX_SUMMARY, MAX_TITLE
from chronicle.domain.errors import InvalidContent
from chronicle.eventstore import store
from chronicle.eventstore.models import Event
from chronicle.feeds import rendering
from chronicle.feeds.catalog import Feed
from tests.admin.conftest import ADD_URL, change_url, form_data, step_url
from tests.digests.factories import confirmed_subscriber
from tests.factories import content_data, published_development
from tests.feeds.helpers import revise_and_publish
from tests.hardening.text import SCRIPT, accepted_text, refused_text, sendable_forbidden_character, stored

pytestmark = pytest.mark.django_db

FEW = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ATOM = "{http://www.w3.org/2005/Atom}"
RAW_MARKUP = (SCRIPT, "<img src=x", "</textarea></title>")
numbers = itertools.count()


def title_text():
    return accepted_text.filter(lambda text: len(stored(text)) <= MAX_TITLE)


def assert_escaped(html: str, *texts: str) -> None:
    for text in texts:
        assert escape(text) in html, text
    for markup in RAW_MARKUP:
        assert markup not in html


def feed_entry(development_id):
    """The development's newest entry in the Atom, RSS and JSON feeds: parsed, and its HTML content."""
    files = rendering.render(Feed())
    items = json.loads(files["json"])["items"]
    item = next(item for item in items if item["_chronicle"]["development"] == str(development_id))
    entry_id = item["id"]
    parsed = {}
    for extension in ("atom", "rss"):
        feed = feedparser.parse(files[extension])
        assert not feed.bozo, (extension, feed.get("bozo_exception"))
        assert not any(markup.encode() in files[extension] for markup in RAW_MARKUP)
        parsed[extension] = next(entry for entry in feed.entries if entry.id == entry_id)
    atom = ElementTree.fromstring(files["atom"])  # noqa: S314 (our own feed)
    entry = next(e for e in atom.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}id") == entry_id)
    return parsed, entry.findtext(f"{ATOM}content"), item


def sent_email(subscriber, cutoff):
    """The digest up to `cutoff` as the recipient's mail client reads it: (text, html)."""
    message = emails.digest(subscriber, current_digest(subscriber, cutoff), message_id="<digest@chronicle.test>")
    received = email.message_from_bytes(message.message().as_bytes(), policy=policy.default)
    return received.get_body(("plain",)).get_content(), received.get_body(("html",)).get_content()


# -- accepted text ---------------------------------------------------------------------


@FEW
@given(title=title_text(), summary=accepted_text, name=title_text(), note=accepted_text)
def test_accepted_text_is_stored_as_given_and_shown_escaped_on_every_surface(
    client, curator, editor, title, summary, name, note
):
    number = next(numbers)
    subscriber = confirmed_subscriber(f"reader-{number}@example.org")
    data = content_data(title=title, summary=summary, actors=[{"name": name, "role": "operator"}])
    client.force_login(curator)
    response = client.post(ADD_URL, form_data(data, slug=f"text-{number}"))
    assert response.status_code == 302, response.content.decode()[:2000]
    development_id = commands.development_id_for(f"text-{number}")
    drafted = Event.objects.get(stream_id=development_id).data["content"]
    assert (drafted["title"], drafted["summary"]) == (stored(title), stored(summary))
    assert drafted["actors"][0]["name"] == stored(name)

    commands.submit_development(development_id, actor=curator)
    commands.publish_development(development_id, actor=editor)
    published = store.last_position()
    revise_and_publish(development_id, curator, editor, note=note, stage="implemented")
    title, summary, name, note = stored(title), stored(summary), stored(name), stored(note)

    page = client.get(f"/developments/text-{number}/").content.decode()
    assert_escaped(page, title, summary, name, note)
    assert_escaped(client.get(change_url(development_id)).content.decode(), title, summary, name)

    api = APIClient()
    body = api.get(f"/api/v1/developments/{development_id}/").json()
    assert (body["title"], body["summary"], body["actors"][0]["name"]) == (title, summary, name)
    assert api.get(f"/api/v1/developments/{development_id}/history/").json()["results"][-1]["note"] == note

    parsed, atom_html, item = feed_entry(development_id)
    assert parsed["atom"].title == parsed["rss"].title == item["title"] == f"Correction: {title}"
    for html in (atom_html, item["content_html"]):
        assert_escaped(html, summary, name, note)

    text, html = sent_email(subscriber, published)
    assert title in text and summary in text
    assert_escaped(html, title, summary)
    SentDevelopment.objects.create(subscriber=subscriber, development_id=development_id)
    subscriber.high_water = published
    text, html = sent_email(subscriber, store.last_position())
    assert title in text and note in text
    assert_escaped(html, title, note)


def test_a_summary_saved_unchanged_from_a_browser_records_nothing(client, curator):
    """Browsers send a textarea's line breaks as CRLF; the same text must not count as a change."""
    outcome = commands.draft_development(content_data(summary="First line.\nSecond line."), actor=curator)
    record = DevelopmentRecord.objects.get(pk=outcome.development_id)
    posted = form_data(record.content, version=record.version)
    posted["summary"] = "First line.\r\nSecond line."
    client.force_login(curator)
    response = client.post(change_url(record.pk), posted, follow=True)
    assert "Nothing had changed, so nothing was recorded." in response.content.decode()
    assert Event.objects.count() == 1


# -- refused text ----------------------------------------------------------------------

WHERE = st.sampled_from(
    [
        ("title", "title", lambda text: {"title": text}),
        ("summary", "summary", lambda text: {"summary": text}),
        ("actors[1].name", "actors-0-name", lambda text: {"actors": [{"name": text, "role": "operator"}]}),
        (
            "sources[1].quote",
            "sources-0-quote",
            lambda text: {"sources": [{"title": "Report", "publisher": "BelTA", "quote": text}]},
        ),
    ]
)


@FEW
@given(refused=refused_text(sendable_forbidden_character), where=WHERE)
def test_refused_text_is_a_field_error_in_the_admin_and_the_command_layer_and_nothing_is_recorded(
    client, curator, refused, where
):
    text, place = refused
    field, input_name, overrides = where
    data = content_data(**overrides(text))
    events = Event.objects.count()
    with pytest.raises(InvalidContent) as raised:
        commands.draft_development(data, actor=curator)
    assert list(raised.value.errors) == [field]
    assert f"at character {place};" in raised.value.errors[field][0]

    client.force_login(curator)
    response = client.post(ADD_URL, form_data(data))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was saved" in html or "errorlist" in html
    # The message sits right before the input it names (Django renders errors above fields).
    field_html = html[: html.index(f'name="{input_name}"')]
    error = field_html[field_html.rindex('<ul class="errorlist') :]
    assert "character" in error or "Null characters are not allowed" in error, error
    assert Event.objects.count() == events


@pytest.mark.parametrize(("field", "limit"), [("title", MAX_TITLE), ("summary", MAX_SUMMARY)])
def test_a_100_kb_field_is_a_form_error_naming_the_limit_not_a_truncation(client, curator, field, limit):
    client.force_login(curator)
    response = client.post(ADD_URL, form_data(content_data(**{field: "Ünïcode<b>" * 10_200})))
    assert response.status_code == 200
    assert f"is 102000 characters long; the limit is {limit}." in response.content.decode()
    assert not Event.objects.exists()


def test_a_correction_note_with_a_control_character_is_refused_and_nothing_is_recorded(client, curator, editor):
    development_id = published_development(curator, editor)
    current = DevelopmentRecord.objects.get(pk=development_id).content
    commands.revise_development(development_id, {**current, "stage": "implemented"}, actor=curator)
    commands.submit_development(development_id, actor=curator)
    record = DevelopmentRecord.objects.get(pk=development_id)
    events = Event.objects.count()
    client.force_login(editor)
    response = client.post(
        step_url(development_id, "publish-correction"),
        {"version": record.version, "note": "Fixed\x1b[31m the date."},
        follow=True,
    )
    assert "note: contains a control character (U+001B) at character 6; remove it." in response.content.decode()
    assert Event.objects.count() == events


def test_text_recorded_before_the_rule_still_gives_valid_feeds(curator, editor):
    """Events are never rewritten, so the feeds still leave out what XML cannot carry."""
    development_id = published_development(curator, editor)
    revision = PublicRevision.objects.get(development_id=development_id)
    revision.content = {**revision.content, "title": "Beltelecom\ufffe & <b>Huawei</b>\x01"}
    revision.save()
    parsed, _, item = feed_entry(development_id)
    assert parsed["atom"].title == parsed["rss"].title == item["title"] == "Beltelecom & <b>Huawei</b>"


# -- the API -----------------------------------------------------------------------------


@pytest.fixture
def api(settings):
    settings.DIGEST_SUBSCRIBE_RATE = "10000/hour"
    return APIClient()


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(email_text=accepted_text | refused_text().map(lambda refused: refused[0]), topic=accepted_text)
def test_any_text_in_a_subscription_is_accepted_or_a_400_with_its_field(api, email_text, topic):
    body = json.dumps({"email": email_text, "topics": [topic]})  # a surrogate as a \ud800 escape
    response = api.post("/api/v1/subscriptions/", body, content_type="application/json")
    error = error_of(response, 400)
    assert {"email", "topics"} & set(error["fields"]) or error["code"] == "parse_error"


@pytest.mark.parametrize(
    "body",
    [
        '{"email": "reader@example.org", "topics": ["\\ud800"]}',
        '{"\\udc00": "reader@example.org"}',
        "[" * 100_000,
    ],
    ids=["surrogate-value", "surrogate-key", "deep-nesting"],
)
def test_json_no_field_could_hold_is_a_400_parse_error(api, body):
    error = error_of(api.post("/api/v1/subscriptions/", body, content_type="application/json"), 400)
    assert error["code"] == "parse_error"


@pytest.mark.parametrize("content_type", ["application/json", "multipart/form-data"])
def test_a_body_over_the_upload_limit_is_a_413_in_the_api_error_shape(api, settings, content_type):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    data = {"email": "reader@example.org", "frequency": "x" * 100_000}
    if content_type == "application/json":
        response = api.post("/api/v1/subscriptions/", json.dumps(data), content_type=content_type)
    else:
        response = api.post("/api/v1/subscriptions/", data)
    error = error_of(response, 413)
    assert error["code"] == "too_large" and "100000 bytes" in error["message"]


def test_a_form_with_too_many_fields_is_a_400_in_the_api_error_shape(api, settings):
    body = "&".join(f"field{number}=1" for number in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = api.post("/api/v1/subscriptions/", body, content_type="application/x-www-form-urlencoded")
    assert error_of(response, 400)["code"] == "too_many_fields"


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("/api/v1/actors/", encode_cursor("name", ["Beltelecom\x00"])),
        ("/api/v1/actors/", encode_cursor("name", ["\ud800"])),
        ("/api/v1/developments/?ordering=-updated&", None),
    ],
    ids=["nul", "surrogate", "time-out-of-range"],
)
def test_a_forged_cursor_is_a_400_not_a_database_error(api, curator, editor, path, cursor):
    published_development(curator, editor)
    if cursor is None:
        cursor = encode_cursor("-updated", ["0001-01-01T00:00:00+14:00", "00000000-0000-0000-0000-000000000000"])
    separator = "" if path.endswith("&") else "?"
    response = api.get(f"{path}{separator}cursor={cursor}")
    assert "cursor" in error_of(response, 400)["fields"]
