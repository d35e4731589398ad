"""The whole story: a corrected record imported over the seed chronicle reaches every surface."""

import json
from datetime import UTC, datetime

import bibtexparser
import feedparser
import pytest
import rispy
import time_machine
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from chronicle.developments import commands
from chronicle.developments.models import PublicRevision
from chronicle.feeds import rendering
from chronicle.feeds.catalog import Feed, affected_feeds
from tests.feeds.helpers import assert_valid_atom

pytestmark = pytest.mark.django_db

SEED = settings.BASE_DIR / "fixtures" / "seed_chronicle.json"
LOADED = datetime(2024, 5, 1, 9, tzinfo=UTC)
CORRECTED = datetime(2024, 6, 1, 9, tzinfo=UTC)


def test_a_correction_note_in_an_import_reaches_feeds_api_mementos_and_citations(tmp_path, capsys):
    with time_machine.travel(LOADED, tick=False):
        call_command("load_chronicle", str(SEED))
    document = json.loads(SEED.read_text())
    record = document["developments"][0]
    old_title, new_title = record["title"], f"{record['title']} (corrected)"
    document["developments"][0] = {**record, "title": new_title, "correction_note": "The title left out a word."}
    changed = tmp_path / "corrected.json"
    changed.write_text(json.dumps(document))
    with time_machine.travel(CORRECTED, tick=False):
        call_command("load_chronicle", str(changed))
    assert "1 corrected, 0 updated" in capsys.readouterr().out
    slug, development_id = record["key"], commands.development_id_for(record["key"])

    correction = PublicRevision.objects.get(development_id=development_id, kind="corrected")
    paths = affected_feeds([correction])
    assert {"all", *(f"countries/{code.lower()}" for code in record["countries"])} <= set(paths)
    for path in paths:
        files = rendering.render(Feed.from_path(path))
        assert_valid_atom(files["atom"])
        for extension in ("atom", "rss"):
            parsed = feedparser.parse(files[extension])
            assert not parsed.bozo, (path, extension)
            [entry] = [entry for entry in parsed.entries if entry.title == f"Correction: {new_title}"]
            assert entry.id != f"urn:uuid:{development_id}", (path, extension)  # a new entry
        items = json.loads(files["json"])["items"]
        assert [item["_chronicle"]["kind"] for item in items if item["title"] == f"Correction: {new_title}"] == [
            "corrected"
        ]

    api = APIClient()
    detail = api.get(f"/api/v1/developments/{development_id}/").json()
    assert detail["last_revision"]["kind"] == "corrected"
    assert detail["last_revision"]["note"] == "The title left out a word."

    page = f"/developments/{slug}/"
    gate = api.get(page, HTTP_ACCEPT_DATETIME="Sat, 11 May 2024 12:00:00 GMT")
    assert gate.status_code == 302
    memento = api.get(gate["Location"])
    assert memento["Memento-Datetime"] == "Wed, 01 May 2024 09:00:00 GMT"
    assert old_title in memento.content.decode() and new_title not in memento.content.decode()
    timemap = api.get(f"{page}timemap/").content.decode()
    assert timemap.count('rel="first memento"') == 1 and timemap.count('rel="last memento"') == 1

    [bib] = bibtexparser.parse_string(api.get(f"{page}cite.bib").content.decode()).entries
    assert bib.fields_dict["version"].value.startswith("revision")
    [ris] = rispy.loads(api.get(f"{page}cite.ris").content.decode())
    assert ris["title"] == new_title
    csl = json.loads(api.get(f"{page}cite.json").content)
    assert csl[0]["URL"] == ris["urls"][0] == bib.fields_dict["url"].value
