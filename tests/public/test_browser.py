from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.factories import published_development
from tests.feeds.helpers import revise_and_publish


@pytest.mark.browser
def test_the_timeline_and_a_development_read_well_in_a_browser(page, screenshot, curator, editor):
    development_id = published_development(curator, editor)
    revise_and_publish(
        development_id,
        curator,
        editor,
        note="The test ran in Grodno as well.",
        places=[
            {"name": "Minsk", "country": "BY", "lat": 53.9, "lon": 27.5667},
            {"name": "Grodno", "country": "BY"},
        ],
    )
    published_development(
        curator,
        editor,
        slug="ru-ai",
        title="Russia and China sign an AI memorandum",
        date="2019-03-14",
        kind="memorandum",
        countries=["RU", "CN"],
        topics=["ai"],
        stage="signed",
        summary="The two ministries agreed to share research on artificial intelligence.",
    )

    page.goto("/")
    assert page.locator("ol.timeline li").count() == 2
    assert page.locator('link[rel="alternate"][type="application/atom+xml"]').get_attribute("href") == "/feeds/all.atom"
    screenshot(page, "timeline")

    page.select_option('select[name="country"]', "ru")
    page.click("button[type=submit]")
    expect(page.locator("ol.timeline li h2")).to_have_text(["Russia and China sign an AI memorandum"])
    assert parse_qs(urlsplit(page.url).query) == {"country": ["ru"]}  # the empty fields leave no value

    page.goto("/developments/beltelecom-5g-2021/")
    assert page.locator("h1").inner_text() == "Beltelecom tests 5G with Huawei"
    assert "The test ran in Grodno as well." in page.locator("ol.history").inner_text()
    screenshot(page, "development")
