import json
from datetime import UTC, datetime

import feedparser
import jsonschema
import pytest
import time_machine
from lxml import etree

from chronicle.developments import commands
from chronicle.feeds import publishing, rendering
from chronicle.feeds.catalog import Feed
from tests.factories import published_development
from tests.feeds.helpers import assert_valid_atom, revise_and_publish

pytestmark = pytest.mark.django_db

PUBLISHED = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
CORRECTED = datetime(2024, 3, 5, 16, 30, tzinfo=UTC)
TOMBSTONES = "http://purl.org/atompub/tombstones/1.0"
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
                    "_chronicle": {
                        "type": "object",
                        "required": ["about", "kind", "note", "development", "position"],
                        "properties": {"kind": {"enum": ["published", "corrected", "updated", "retracted"]}},
                    },
                },
            },
        },
    },
}


def parsed(path="all"):
    """The feed's files, each checked: JSON against JSON Feed, Atom against RFC 4287's
    RELAX NG grammar, Atom and RSS read by feedparser without complaint."""
    files = rendering.render(Feed.from_path(path))
    jsonschema.validate(json.loads(files["json"]), JSON_FEED, format_checker=jsonschema.FormatChecker())
    assert_valid_atom(files["atom"])
    feeds = {extension: feedparser.parse(files[extension]) for extension in ("atom", "rss")}
    for extension, feed in feeds.items():
        assert not feed.bozo, (extension, feed.get("bozo_exception"))
    return feeds, files


def test_atom_rss_and_json_parse_without_errors(curator, editor):
    development_id = published_development(curator, editor)
    feeds, files = parsed()
    for extension, feed in feeds.items():
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


def test_a_correction_is_an_entry_of_its_own_and_the_original_stays(curator, editor, settings):
    with time_machine.travel(PUBLISHED, tick=False):
        development_id = published_development(curator, editor)
    with time_machine.travel(CORRECTED, tick=False):
        revise_and_publish(development_id, curator, editor, note="The test ran in Grodno, not Minsk.", places=GRODNO)
    feeds, files = parsed()
    page = f"{settings.SITE_URL}/developments/beltelecom-5g-2021/"
    for extension, feed in feeds.items():
        correction, original = feed.entries
        assert correction.title == "Correction: Beltelecom tests 5G with Huawei", extension
        assert correction.id != original.id == f"urn:uuid:{development_id}"
        assert correction.link == f"{page}#revision-6" and original.link == page
        assert correction.published_parsed[:6] == (2024, 3, 5, 16, 30, 0)
        assert original.published_parsed[:6] == (2024, 3, 1, 9, 0, 0)
        assert original.title == "Beltelecom tests 5G with Huawei"
        assert ("corrected", f"{settings.SITE_URL}/api/docs/") in [(tag.term, tag.scheme) for tag in correction.tags]
    atom = feeds["atom"]
    assert atom.entries[0].updated_parsed[:6] == (2024, 3, 5, 16, 30, 0)
    assert atom.entries[0].content[0].value.startswith("<p>Correction: The test ran in Grodno, not Minsk.</p>")
    assert atom.feed.updated_parsed[:6] == (2024, 3, 5, 16, 30, 0)
    assert feeds["rss"].entries[0].description.startswith("<p>Correction: The test ran in Grodno")
    correction_item, original_item = json.loads(files["json"])["items"]
    assert correction_item["_chronicle"]["kind"] == "corrected"
    assert correction_item["_chronicle"]["note"] == "The test ran in Grodno, not Minsk."
    assert original_item["_chronicle"]["kind"] == "published"
    assert correction_item["date_published"] == "2024-03-05T16:30:00+00:00"


def test_the_original_entry_keeps_its_bytes_after_a_correction(curator, editor):
    with time_machine.travel(PUBLISHED, tick=False):
        development_id = published_development(curator, editor)
    before = parsed()[0]["atom"].entries[0]
    with time_machine.travel(CORRECTED, tick=False):
        revise_and_publish(development_id, curator, editor, note="Grodno, not Minsk.", places=GRODNO)
    after = parsed()[0]["atom"].entries[1]
    assert (after.id, after.title, after.updated, after.content[0].value) == (
        before.id,
        before.title,
        before.updated,
        before.content[0].value,
    )


def test_an_update_is_an_entry_of_its_own_with_its_words(curator, editor):
    development_id = published_development(curator, editor)
    revise_and_publish(development_id, curator, editor, note="Typo in the title.", title="Beltelecom tests 5G")
    revise_and_publish(development_id, curator, editor, note="The network is live.", kind="update", stage="implemented")
    entries = parsed()[0]["rss"].entries
    assert [entry.title for entry in entries] == [
        "Update: Beltelecom tests 5G",
        "Correction: Beltelecom tests 5G",
        "Beltelecom tests 5G with Huawei",
    ]
    assert len({entry.id for entry in entries}) == 3
    assert entries[0].description.startswith("<p>Update: The network is live.</p>")
    assert "stage: Implemented" in entries[0].description


def test_a_retraction_is_an_entry_and_atom_withdraws_the_earlier_ones(curator, editor, settings):
    development_id = published_development(curator, editor)
    revise_and_publish(development_id, curator, editor, note="Grodno, not Minsk.", places=GRODNO)
    with time_machine.travel(CORRECTED, tick=False):
        commands.retract_development(development_id, "The source was a hoax.", actor=editor)
    feeds, files = parsed()
    [retraction] = feeds["atom"].entries
    assert retraction.title == "Retracted: Beltelecom tests 5G with Huawei"
    assert retraction.content[0].value == "<p>Retracted: The source was a hoax.</p>"
    assert "Beltelecom ran a 5G test network" not in retraction.content[0].value

    # RFC 6721 tombstones: one per earlier entry, dated by the retraction, the reason as comment.
    root = etree.fromstring(files["atom"])
    tombstones = root.findall(f"{{{TOMBSTONES}}}deleted-entry")
    rss_entries = feeds["rss"].entries
    assert [entry.title.split(":")[0] for entry in rss_entries] == ["Retracted", "Correction", rss_entries[2].title]
    assert {t.get("ref") for t in tombstones} == {entry.id for entry in rss_entries[1:]}
    assert {t.get("when") for t in tombstones} == {"2024-03-05T16:30:00+00:00"}
    assert {t.findtext(f"{{{TOMBSTONES}}}comment") for t in tombstones} == {"The source was a hoax."}
    # Feed-level extensions precede the entries (RFC 4287's grammar requires it).
    children = [child.tag for child in root]
    assert children.index(f"{{{TOMBSTONES}}}deleted-entry") < children.index("{http://www.w3.org/2005/Atom}entry")
    items = json.loads(files["json"])["items"]
    assert [item["_chronicle"]["kind"] for item in items] == ["retracted", "corrected", "published"]
    assert items[0]["_chronicle"]["note"] == "The source was a hoax."


def test_markup_in_user_text_still_gives_valid_escaped_feeds(curator, editor):
    # Characters XML cannot carry are refused at the door (tests/hardening/test_bad_input.py).
    title = "<script>alert(1)</script> Beltelecom & Huawei"
    development_id = published_development(curator, editor, title=title)
    revise_and_publish(development_id, curator, editor, note="Fixed the <b>date</b>.", date="2021-07")
    feeds, files = parsed()
    for extension in ("atom", "rss"):
        assert b"<script>" not in files[extension]
        assert b"&lt;script&gt;" in files[extension]
    entry = feeds["atom"].entries[0]
    assert entry.title == "Correction: <script>alert(1)</script> Beltelecom & Huawei"
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
