import json
from datetime import UTC, datetime

import feedparser
import jsonschema
import pytest
import time_machine

from chronicle.developments import commands
from chronicle.feeds import publishing, rendering
from chronicle.feeds.catalog import Feed
from tests.factories import published_development
from tests.feeds.helpers import revise_and_publish

pytestmark = pytest.mark.django_db

PUBLISHED = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
CORRECTED = datetime(2024, 3, 5, 16, 30, tzinfo=UTC)
GRODNO = [{"name": "Grodno", "country": "BY"}]


# JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/): what a reader needs. feedparser's
# released versions (6.0.x) read only XML feeds, so JSON is checked against this instead.
JSON_FEED = {
    "type": "object",
    "required": ["version", "title", "items"],
    "properties": {
        "version": {"const": "https://jsonfeed.org/version/1.1"},
        "title": {"type": "string", "minLength": 1},
        "home_page_url": {"type": "string", "format": "uri"},
        "feed_url": {"type": "string", "format": "uri"},
        "authors": {"type": "array", "items": {"type": "object", "required": ["name"]}},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "url", "title", "content_html", "date_published", "date_modified"],
                "properties": {
                    "id": {"type": "string"},
                    "url": {"type": "string"},
                    "title": {"type": "string"},
                    "content_html": {"type": "string"},
                    "date_published": {"type": "string", "format": "date-time"},
                    "date_modified": {"type": "string", "format": "date-time"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}


def parsed(path="all"):
    files = rendering.render(Feed.from_path(path))
    jsonschema.validate(json.loads(files["json"]), JSON_FEED, format_checker=jsonschema.FormatChecker())
    return {extension: feedparser.parse(files[extension]) for extension in ("atom", "rss")}, files


def test_atom_rss_and_json_parse_without_errors(curator, editor):
    development_id = published_development(curator, editor)
    feeds, files = parsed()
    for extension, feed in feeds.items():
        assert not feed.bozo, (extension, feed.get("bozo_exception"))
        assert feed.version == {"atom": "atom10", "rss": "rss20"}[extension]
        assert [entry.id for entry in feed.entries] == [f"urn:uuid:{development_id}"]
    assert [item["id"] for item in json.loads(files["json"])["items"]] == [f"urn:uuid:{development_id}"]


def test_feeds_carry_the_required_elements(curator, editor, settings):
    with time_machine.travel(PUBLISHED, tick=False):
        development_id = published_development(curator, editor)
    feeds, files = parsed("countries/by")
    atom, rss = feeds["atom"], feeds["rss"]

    assert atom.feed.id == f"{settings.SITE_URL}/feeds/countries/by.atom"
    assert atom.feed.title == "Chronicle — Belarus"
    assert atom.feed.author == "Chronicle"
    assert atom.feed.updated_parsed[:6] == (2024, 3, 1, 9, 0, 0)
    links = [(link.rel, link.href) for link in atom.feed.links]
    assert links[0] == ("self", f"{settings.SITE_URL}/feeds/countries/by.atom")
    assert ("alternate", f"{settings.SITE_URL}/?country=by") in links
    # RSS <link> is the page, not the feed itself; its self link is the RSS file.
    assert rss.feed.link == f"{settings.SITE_URL}/?country=by"
    assert ("self", f"{settings.SITE_URL}/feeds/countries/by.rss") in [(link.rel, link.href) for link in rss.feed.links]
    assert rss.feed.description and rss.feed.updated_parsed[:6] == (2024, 3, 1, 9, 0, 0)

    entry = atom.entries[0]
    assert entry.id == f"urn:uuid:{development_id}"
    assert entry.link == f"{settings.SITE_URL}/developments/beltelecom-5g-2021/"
    assert entry.updated_parsed[:6] == entry.published_parsed[:6] == (2024, 3, 1, 9, 0, 0)
    content = entry.content[0].value
    for fact in ("Beltelecom ran a 5G test network", "Date: June 2021", "Belarus, China", "Huawei (supplier)"):
        assert fact in content
    assert '<a href="https://example.org/report" rel="noopener nofollow">Beltelecom report</a>. Beltelecom.' in content
    assert rss.entries[0].id == f"urn:uuid:{development_id}"
    assert rss.entries[0].published_parsed[:6] == (2024, 3, 1, 9, 0, 0)
    item = json.loads(files["json"])["items"][0]
    assert item["date_modified"] == "2024-03-01T09:00:00+00:00"
    assert item["url"] == entry.link


def test_a_correction_moves_updated_and_opens_with_its_note(curator, editor):
    with time_machine.travel(PUBLISHED, tick=False):
        development_id = published_development(curator, editor)
    with time_machine.travel(CORRECTED, tick=False):
        revise_and_publish(development_id, curator, editor, note="The test ran in Grodno, not Minsk.", places=GRODNO)
    feeds, files = parsed()
    entry = feeds["atom"].entries[0]
    assert entry.updated_parsed[:6] == (2024, 3, 5, 16, 30, 0)
    assert entry.published_parsed[:6] == (2024, 3, 1, 9, 0, 0)
    assert entry.content[0].value.startswith("<p>Correction (2024-03-05): The test ran in Grodno, not Minsk.</p>")
    assert feeds["atom"].feed.updated_parsed[:6] == (2024, 3, 5, 16, 30, 0)
    assert feeds["rss"].entries[0].description.startswith("<p>Correction (2024-03-05)")
    assert json.loads(files["json"])["items"][0]["content_html"].startswith("<p>Correction (2024-03-05)")


def test_an_update_shows_as_an_update_above_earlier_corrections(curator, editor):
    development_id = published_development(curator, editor)
    revise_and_publish(development_id, curator, editor, note="Typo in the title.", title="Beltelecom tests 5G")
    revise_and_publish(development_id, curator, editor, note="The network is live.", kind="update", stage="implemented")
    content = parsed()[0]["atom"].entries[0].content[0].value
    assert content.index("Update (") < content.index("Correction (")
    assert "The network is live." in content and "Typo in the title." in content


def test_a_retraction_keeps_the_entry_marked_with_its_reason(curator, editor):
    development_id = published_development(curator, editor)
    commands.retract_development(development_id, "The source was a hoax.", actor=editor)
    entry = parsed()[0]["atom"].entries[0]
    assert entry.id == f"urn:uuid:{development_id}"
    assert entry.title.startswith("Retracted: ")
    assert entry.content[0].value.startswith("<p>Retracted: The source was a hoax.</p>")


def test_markup_in_user_text_still_gives_valid_escaped_feeds(curator, editor):
    # Characters XML cannot carry are refused at the door (tests/hardening/test_bad_input.py).
    title = "<script>alert(1)</script> Beltelecom & Huawei"
    development_id = published_development(curator, editor, title=title)
    revise_and_publish(development_id, curator, editor, note="Fixed the <b>date</b>.", date="2021-07")
    feeds, files = parsed()
    for extension in ("atom", "rss"):
        assert not feeds[extension].bozo, feeds[extension].get("bozo_exception")
        assert b"<script>" not in files[extension]
        assert b"&lt;script&gt;" in files[extension]
    entry = feeds["atom"].entries[0]
    assert entry.title == "<script>alert(1)</script> Beltelecom & Huawei"
    assert "Fixed the &lt;b&gt;date&lt;/b&gt;." in entry.content[0].value
    item = json.loads(files["json"])["items"][0]
    assert "<script>" not in item["content_html"] and "<b>" not in item["content_html"]


def test_regenerating_gives_identical_bytes_and_leaves_files_alone(curator, editor, feeds_root):
    published_development(curator, editor)
    assert rendering.render(Feed()) == rendering.render(Feed())
    publishing.regenerate("all")
    before = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in feeds_root.glob("all.*")}
    assert publishing.regenerate("all") is False
    after = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in feeds_root.glob("all.*")}
    assert before == after and len(after) == 3


def test_a_feed_holds_the_newest_entries_up_to_the_limit(curator, editor, settings):
    settings.FEEDS_MAX_ENTRIES = 2
    slugs = ["first", "second", "third"]
    for day, slug in enumerate(slugs, start=1):
        with time_machine.travel(datetime(2024, 4, day, tzinfo=UTC), tick=False):
            published_development(curator, editor, slug=slug)
    links = [entry.link.rsplit("/", 2)[-2] for entry in parsed()[0]["atom"].entries]
    assert links == ["third", "second"]


def test_an_empty_feed_is_valid_and_dated_without_the_clock(db):
    feeds, files = parsed("topics/postal")
    assert not feeds["atom"].bozo and feeds["atom"].entries == []
    assert feeds["atom"].feed.updated_parsed[:3] == (1970, 1, 1)
    assert rendering.render(Feed(topic="postal")) == files
