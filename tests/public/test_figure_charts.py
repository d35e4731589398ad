"""Figures as charts: a measure's published figures over time, on a development's page and in
the Figures view, each point linked to its source, the numbers in a table beside the chart."""

import re

import pytest

from tests.factories import published_development

pytestmark = pytest.mark.django_db

POINT = re.compile(
    r'<a href="/developments/(?P<slug>[^/]+)/#sources" class="(?P<classes>[^"]+)" aria-label="(?P<label>[^"]+)">'
)
ROW = re.compile(r"<tr(?: class=\"current\")?><td>([^<]+)</td><td>([^<]+)</td><td><a href=\"([^\"]+)\"")


def trade(value: str, period: str, qualifier: str = "exact") -> dict:
    return {"value": value, "currency": "USD", "measures": "trade volume", "qualifier": qualifier, "period": period}


@pytest.fixture
def figures(curator, editor):
    published_development(
        curator,
        editor,
        slug="trade-2015",
        title="Trade in 2015",
        kind="indicator",
        date="2015",
        amounts=[trade("3100000000", "2015")],
        sources=[{"title": "Customs report 2015", "publisher": "Customs", "url": "https://example.org/customs-2015"}],
    )
    published_development(
        curator,
        editor,
        slug="trade-2024",
        title="Trade in 2024",
        kind="indicator",
        date="2024",
        amounts=[trade("8400000000", "2024", "more-than"), {**trade("40", "2024"), "currency": "", "unit": "%"}],
        sources=[{"title": "An article", "publisher": "A newspaper"}],
    )


def test_a_development_page_charts_the_measures_it_gives_figures_of(client, figures):
    page = client.get("/developments/trade-2024/").content.decode()
    section = page[page.index('<section class="chart figures"') : page.index("</section>")]
    assert "<strong>trade volume (USD)</strong>: 2 figures, 2015–2024" in section
    assert "<strong>trade volume (%)</strong>: 1 figure, 2024" in section
    points = [found.groupdict() for found in POINT.finditer(section)]
    assert [(p["slug"], p["classes"]) for p in points[:2]] == [
        ("trade-2015", "point exact"),
        ("trade-2024", "point more-than current"),
    ]
    assert points[1]["label"] == "more than $8.4 billion, 2024 — source: An article"
    # The numbers beside it, each with its source: the source's own address when it has one.
    assert ROW.findall(section)[:2] == [
        ("2015", "$3.1 billion", "https://example.org/customs-2015"),
        ("2024", "more than $8.4 billion", "/developments/trade-2024/#sources"),
    ]
    assert "more than: a lower bound" in section
    assert 'id="sources"' in page


def test_the_figures_view_charts_every_measure_of_the_filtered_figures(client, figures):
    page = client.get("/?kind=indicator").content.decode()
    assert page.count('<figure class="chart figure-chart">') == 2
    assert [found["slug"] for found in POINT.finditer(page)] == ["trade-2015", "trade-2024", "trade-2024"]
    only_2024 = client.get("/?kind=indicator&year=2024").content.decode()
    assert [found["slug"] for found in POINT.finditer(only_2024)] == ["trade-2024", "trade-2024"]


def test_no_figures_no_chart(client, figures, curator, editor):
    published_development(curator, editor, slug="a-test", date="2021-06")  # an amount without a period
    assert 'class="chart figures"' not in client.get("/developments/a-test/").content.decode()
    assert 'class="chart figures"' not in client.get("/").content.decode()
