"""Citations of one version of a development, read back by independent parsers."""

import json
from datetime import UTC, datetime

import bibtexparser
import pytest
import rispy
import time_machine
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON

from tests.factories import published_development
from tests.feeds.helpers import revise_and_publish

pytestmark = pytest.mark.django_db

PUBLISHED = datetime(2024, 5, 1, 9, tzinfo=UTC)
CORRECTED = datetime(2024, 6, 1, 9, tzinfo=UTC)
ACCESSED = datetime(2026, 3, 2, 12, tzinfo=UTC)
PAGE = "http://testserver/developments/beltelecom-5g-2021/"
FIRST = f"{PAGE}?as_of=2024-05-01T09%3A00%3A00.000000Z"
SECOND = f"{PAGE}?as_of=2024-06-01T09%3A00%3A00.000000Z"
TITLE = "Beltelecom & Huawei test 5G {at 100%} in Minsk_1"


@pytest.fixture
def corrected(curator, editor):
    with time_machine.travel(PUBLISHED, tick=False):
        development_id = published_development(curator, editor, title="Beltelecom tests 5G with ZTE")
    with time_machine.travel(CORRECTED, tick=False):
        revise_and_publish(development_id, curator, editor, note="The supplier was Huawei.", title=TITLE)
    return development_id


@pytest.fixture(autouse=True)
def accessed():
    with time_machine.travel(ACCESSED, tick=False):
        yield


def test_bibtex_names_the_version_its_memento_and_both_dates(client, corrected):
    response = client.get("/developments/beltelecom-5g-2021/cite.bib")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/x-bibtex")
    library = bibtexparser.parse_string(response.content.decode())
    assert not library.failed_blocks
    [entry] = library.entries
    fields = {field.key: field.value for field in entry.fields}
    assert entry.entry_type == "online"
    assert fields["title"] == r"{Beltelecom \& Huawei test 5G \{at 100\%\} in Minsk\_1}"
    assert fields["publisher"] == "Chronicle"
    assert fields["version"] == "revision 6 (correction), recorded 2024-06-01T09:00:00Z"
    assert fields["url"] == SECOND
    assert fields["urldate"] == "2026-03-02"
    assert fields["date"] == "2024-06-01"
    assert fields["eventdate"] == "2021-06"


def test_ris_names_the_same_in_its_own_tags(client, corrected):
    response = client.get("/developments/beltelecom-5g-2021/cite.ris")
    assert response["Content-Type"].startswith("application/x-research-info-systems")
    [entry] = rispy.loads(response.content.decode())
    assert entry["type_of_reference"] == "ELEC"
    assert entry["title"] == TITLE
    assert entry["publisher"] == "Chronicle"
    assert entry["urls"] == [SECOND]
    assert entry["access_date"] == "2026/03/02"
    assert entry["date"] == "2024/06/01"
    assert entry["edition"] == "revision 6 (correction), recorded 2024-06-01T09:00:00Z"
    assert "EDTF 2021-06" in entry["notes"][0]


def test_csl_json_renders_in_a_bundled_citation_style(client, corrected):
    response = client.get("/developments/beltelecom-5g-2021/cite.json")
    assert response["Content-Type"].startswith("application/vnd.citationstyles.csl+json")
    items = json.loads(response.content)
    assert items[0]["event-date"] == {"date-parts": [[2021, 6]], "raw": "2021-06"}
    source = CiteProcJSON(items)
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, source, formatter.plain)
    bibliography.register(Citation([CitationItem(items[0]["id"])]))
    [rendered] = [str(entry) for entry in bibliography.bibliography()]
    assert TITLE in rendered
    assert "Chronicle" in rendered
    assert SECOND in rendered
    assert "(2024)" in rendered and "Accessed: March 2, 2026" in rendered


def test_an_earlier_version_is_cited_with_its_own_title_and_memento(client, corrected):
    [entry] = rispy.loads(
        client.get("/developments/beltelecom-5g-2021/cite.ris?as_of=2024-05-15T00:00:00Z").content.decode()
    )
    assert entry["title"] == "Beltelecom tests 5G with ZTE"
    assert entry["urls"] == [FIRST]
    assert entry["edition"].startswith("revision 3 (published)")
    assert client.get("/developments/beltelecom-5g-2021/cite.ris?as_of=never").status_code == 400
    assert client.get("/developments/beltelecom-5g-2021/cite.ris?as_of=2001-01-01T00:00:00Z").status_code == 404


@pytest.mark.parametrize(
    "media_type, extension",
    [
        ("application/x-bibtex", "bib"),
        ("application/x-research-info-systems", "ris"),
        ("application/vnd.citationstyles.csl+json", "json"),
    ],
)
def test_the_api_detail_answers_the_same_citations_by_content_negotiation(client, corrected, media_type, extension):
    for query in ("", "?as_of=2024-05-15T00:00:00Z"):
        from_api = client.get(f"/api/v1/developments/{corrected}/{query}", HTTP_ACCEPT=media_type)
        assert from_api.status_code == 200
        assert from_api["Content-Type"].startswith(media_type)
        assert "accept" in [word.strip().lower() for word in from_api["Vary"].split(",")]
        from_page = client.get(f"/developments/beltelecom-5g-2021/cite.{extension}{query}")
        assert from_api.content == from_page.content
    assert client.get(f"/api/v1/developments/{corrected}/").json()["title"] == TITLE
    missing = client.get("/api/v1/developments/no-such-development/", HTTP_ACCEPT=media_type)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_the_page_offers_cite_this_with_the_three_formats(client, corrected):
    page = client.get(PAGE).content.decode()
    assert "Cite this" in page
    for label in ("BibTeX", "RIS", "CSL-JSON"):
        assert f">{label}</a>" in page
    assert "/developments/beltelecom-5g-2021/cite.bib?as_of=2024-06-01T09%3A00%3A00.000000Z" in page
    earlier = client.get(FIRST).content.decode()
    assert "/developments/beltelecom-5g-2021/cite.ris?as_of=2024-05-01T09%3A00%3A00.000000Z" in earlier
