"""In chromium: the page's "Cite this" links give citations, and the history's links open each memento."""

import json
from datetime import UTC, datetime

import bibtexparser
import pytest
import rispy
import time_machine

from tests.factories import published_development
from tests.feeds.helpers import revise_and_publish

pytestmark = pytest.mark.browser


def test_cite_this_and_the_history_links_work_in_a_browser(page, curator, editor):
    with time_machine.travel(datetime(2024, 5, 1, 9, tzinfo=UTC), tick=False):
        development_id = published_development(curator, editor, title="Beltelecom tests 5G with ZTE")
    with time_machine.travel(datetime(2024, 6, 1, 9, tzinfo=UTC), tick=False):
        revise_and_publish(development_id, curator, editor, note="The supplier was Huawei.", title="With Huawei")

    page.goto("/developments/beltelecom-5g-2021/")
    assert page.get_by_role("heading", name="Cite this").is_visible()
    formats = page.locator(".cite-formats a")
    assert formats.all_inner_texts() == ["BibTeX", "RIS", "CSL-JSON"]
    texts = {}
    for link in formats.all():
        response = page.request.get(link.get_attribute("href"))
        assert response.ok
        texts[link.inner_text()] = response.text()
    [entry] = bibtexparser.parse_string(texts["BibTeX"]).entries
    assert entry.fields_dict["title"].value == "{With Huawei}"
    assert rispy.loads(texts["RIS"])[0]["publisher"] == "Chronicle"
    assert json.loads(texts["CSL-JSON"])[0]["URL"] == entry.fields_dict["url"].value

    history = page.locator(".history a[rel=memento]")
    assert history.count() == 2
    history.first.click()
    page.wait_for_url("**as_of=2024-05-01T09*")
    assert page.locator("h1").inner_text() == "Beltelecom tests 5G with ZTE"
    assert "as it was on 1 May 2024" in page.locator(".memento").inner_text()
    # The memento's own "Cite this" cites that version.
    bib = page.request.get(page.locator(".cite-formats a", has_text="BibTeX").get_attribute("href")).text()
    assert bibtexparser.parse_string(bib).entries[0].fields_dict["title"].value == "{Beltelecom tests 5G with ZTE}"

    page.get_by_role("link", name="Read the current version").click()
    page.wait_for_url(lambda url: "as_of" not in url)
    page.locator(".history a[rel=memento]").nth(1).click()
    page.wait_for_url("**as_of=2024-06-01T09*")
    assert page.locator("h1").inner_text() == "With Huawei"
