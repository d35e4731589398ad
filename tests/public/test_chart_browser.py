"""The timeline chart in chromium: axe-clean, reachable by keyboard, named for screen readers."""

import pytest

from chronicle.public import charts
from tests.accessibility import axe_violations
from tests.factories import published_development

pytestmark = pytest.mark.browser


@pytest.fixture
def chronicle(curator, editor):
    dates = {
        "exact": "2019-03-14",
        "year-only": "2016",
        "approximate": "2017~",
        "uncertain": "2018?",
        "interval": "2015-05-01/2015-06-30",
        "open-ended": "../2015-06-18",
    }
    for slug, text in dates.items():
        published_development(curator, editor, slug=f"dated-{slug}", title=f"Dated {slug}", date=text)


def test_the_chart_is_accessible_and_its_marks_open_developments(page, screenshot, chronicle):
    page.goto("/")
    assert axe_violations(page) == []
    chart = page.locator("figure.chart > svg")
    assert chart.get_attribute("aria-labelledby") == "chart-caption"
    assert page.locator("#chart-caption").inner_text().startswith("6 developments, one mark each, 2015–2019")
    marks = chart.get_by_role("link")
    assert marks.count() == 6
    assert chart.get_by_role("link", name="Dated approximate — 2017 (approximate)").count() == 1

    # Every mark is a stop in the tab order, right after the filter form.
    page.locator(".filters button[type=submit]").focus()
    names = []
    for _ in range(6):
        page.keyboard.press("Tab")
        names.append(page.evaluate("document.activeElement.getAttribute('aria-label')"))
    assert sorted(names) == sorted(marks.evaluate_all("links => links.map(a => a.getAttribute('aria-label'))"))
    screenshot(page, "chart")

    page.locator("details.chart-data summary").click()
    assert page.locator("details.chart-data tbody tr").count() == 6
    assert axe_violations(page) == []

    page.keyboard.press("Shift+Tab")  # back from the table's summary to the last mark
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    page.keyboard.press("Enter")
    page.wait_for_url("**/developments/**")
    assert page.locator("h1").inner_text() == focused.rsplit(" — ", 1)[0]


def test_counts_per_year_are_accessible_and_link_to_the_year(page, screenshot, chronicle, monkeypatch):
    monkeypatch.setattr(charts, "MAX_MARKS", 3)  # the live server runs in this process
    page.goto("/")
    assert axe_violations(page) == []
    bars = page.locator("figure.chart > svg").get_by_role("link")
    assert bars.count() == 5
    screenshot(page, "counts-per-year")
    page.locator("figure.chart > svg").get_by_role("link", name="2016: 1 dated within, 0 may fall in it").click()
    page.wait_for_url("**/?year=2016")
    assert page.locator("ol.timeline li h2").all_inner_texts() == ["Dated year-only"]


def test_figure_charts_are_accessible_and_their_points_lead_to_the_source(page, screenshot, curator, editor):
    def trade(value: str, period: str, qualifier: str = "exact") -> dict:
        return {"value": value, "currency": "USD", "measures": "trade volume", "qualifier": qualifier, "period": period}

    source = {"title": "Customs report", "publisher": "Customs", "url": "https://example.org/customs"}
    for slug, amounts in [
        ("trade-2015", [trade("3100000000", "2015")]),
        ("trade-2019", [trade("5000000000", "2019", "about")]),
        ("trade-2024", [trade("8400000000", "2024", "more-than")]),
    ]:
        published_development(
            curator, editor, slug=slug, title=slug, kind="indicator", date=slug[-4:], amounts=amounts, sources=[source]
        )
    page.goto("/developments/trade-2024/")
    assert axe_violations(page) == []
    chart = page.locator("figure.figure-chart svg")
    assert chart.get_by_role("link").count() == 3
    assert page.locator("figure.figure-chart tbody tr").count() == 3
    screenshot(page, "figure-chart")

    page.goto("/?kind=indicator")
    assert axe_violations(page) == []
    screenshot(page, "figures-view")
    page.locator("figure.figure-chart svg").get_by_role(
        "link", name="about $5 billion, 2019 — source: Customs report"
    ).click()
    page.wait_for_url("**/developments/trade-2019/#sources")
    assert page.locator("#sources").is_visible()
