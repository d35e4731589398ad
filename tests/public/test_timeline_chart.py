"""The chart above the public timeline: what it draws follows the page's filters."""

import re
from datetime import date

import pytest

from chronicle.developments.models import PublicDevelopment
from chronicle.public import charts, views
from tests.factories import published_development

pytestmark = pytest.mark.django_db

MARK = re.compile(
    r'<a href="/developments/(?P<slug>[^/]+)/" class="(?P<classes>[^"]+)" aria-label="(?P<label>[^"]+)">'
    r'<title>[^<]*</title><rect x="(?P<x>[\d.]+)" y="[\d.]+" width="(?P<width>[\d.]+)"'
)
BIN = re.compile(r'<(?:a href="(?P<href>[^"]+)" class="bin"|g class="bin").*?<title>(?P<title>[^<]+)</title>')

DATES = {
    "exact": "2019-03-14",
    "year-only": "2016",
    "approximate": "2017~",
    "uncertain": "2018?",
    "interval": "2015-05-01/2015-06-30",
    "open-ended": "../2015-06-18",
}


@pytest.fixture
def chronicle(curator, editor):
    for slug, text in DATES.items():
        published_development(curator, editor, slug=f"dated-{slug}", title=f"Dated {slug}", date=text)
    published_development(
        curator, editor, slug="ru-ai", title="Russia AI memorandum", date="2020-02", countries=["RU"], kind="memorandum"
    )


def marks(response) -> dict[str, dict]:
    return {found["slug"]: found.groupdict() for found in MARK.finditer(response.content.decode())}


def x(day: date, first: date = date(2015, 1, 1), last: date = date(2020, 12, 31)) -> float:
    return charts.PLOT_LEFT + (day - first).days / ((last - first).days + 1) * (charts.PLOT_RIGHT - charts.PLOT_LEFT)


def test_the_chart_draws_one_mark_per_development_over_its_date_span(client, chronicle):
    response = client.get("/")
    drawn = marks(response)
    assert set(drawn) == {f"dated-{slug}" for slug in DATES} | {"ru-ai"}

    def span(slug: str) -> tuple[float, float]:
        mark = drawn[slug]
        return float(mark["x"]), float(mark["x"]) + float(mark["width"])

    assert span("dated-year-only") == (
        pytest.approx(x(date(2016, 1, 1)), abs=0.01),
        pytest.approx(x(date(2017, 1, 1)), abs=0.02),
    )
    assert span("dated-interval") == (
        pytest.approx(x(date(2015, 5, 1)), abs=0.01),
        pytest.approx(x(date(2015, 7, 1)), abs=0.02),
    )
    assert span("dated-approximate") == (
        pytest.approx(x(date(2017, 1, 1)), abs=0.01),
        pytest.approx(x(date(2018, 1, 1)), abs=0.02),
    )
    assert span("dated-open-ended") == (charts.PLOT_LEFT, pytest.approx(x(date(2015, 6, 19)), abs=0.02))
    exact_start, exact_end = span("dated-exact")
    assert (exact_start + exact_end) / 2 == pytest.approx((x(date(2019, 3, 14)) + x(date(2019, 3, 15))) / 2, abs=0.01)

    assert drawn["dated-exact"]["classes"] == "mark exact"
    assert drawn["dated-year-only"]["classes"] == "mark period"
    assert drawn["dated-approximate"]["classes"] == "mark period approximate"
    assert drawn["dated-uncertain"]["classes"] == "mark period uncertain"
    assert drawn["dated-open-ended"]["classes"] == "mark exact open-start"
    assert drawn["dated-interval"]["classes"] == "mark exact"
    page = response.content.decode()
    assert "7 developments, one mark each, 2015–2020; 2 with an approximate or uncertain date; 1 open-ended." in page
    assert "approximate (~): dashed" in page and "uncertain (?): dotted" in page


def test_the_text_alternative_lists_what_the_chart_shows(client, chronicle):
    page = client.get("/").content.decode()
    table = page[page.index('<details class="chart-data">') : page.index("</details>")]
    rows = re.findall(
        r'<tr><td>([^<]+)</td><th scope="row"><a href="/developments/([^/]+)/">[^<]+</a></th><td>([^<]+)</td>', table
    )
    assert {slug: drawn for _, slug, drawn in rows}["dated-uncertain"] == (
        "a pale bar over the whole period it may mean; dotted outline: uncertain"
    )
    assert len(rows) == 7


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("country=ru", {"ru-ai"}),
        ("kind=memorandum", {"ru-ai"}),
        ("q=uncert", {"dated-uncertain"}),
        ("topic=ai", set()),
        ("year=2015", {"dated-interval", "dated-open-ended"}),
        ("year=2016", {"dated-year-only"}),
    ],
)
def test_the_chart_follows_the_filters(client, chronicle, query, expected):
    response = client.get(f"/?{query}")
    assert set(marks(response)) == expected
    assert ('<figure class="chart">' in response.content.decode()) == bool(expected)


def test_many_developments_are_counted_per_year_with_links_to_each_year(client, chronicle, monkeypatch):
    monkeypatch.setattr(charts, "MAX_MARKS", 3)
    response = client.get("/?country=cn")
    page = response.content.decode()
    assert not marks(response)
    assert "6 developments counted per year, 2015–2019; 2 with an approximate or uncertain date; 1 open-ended." in page
    assert [(found["href"], found["title"]) for found in BIN.finditer(page)] == [
        ("?country=cn&amp;year=2015", "2015: 1 dated within, 1 may fall in it"),
        ("?country=cn&amp;year=2016", "2016: 1 dated within, 0 may fall in it"),
        ("?country=cn&amp;year=2017", "2017: 0 dated within, 1 may fall in it"),
        ("?country=cn&amp;year=2018", "2018: 0 dated within, 1 may fall in it"),
        ("?country=cn&amp;year=2019", "2019: 1 dated within, 0 may fall in it"),
    ]


def test_the_database_counts_as_the_layout_would(chronicle, curator, editor):
    """Counts per period come from one query grouped by date; they equal counting every span."""
    for n, text in enumerate(["2016-02-29", "2016-12", "2016-11-30/2017-01-02", "2017/..", "2016-05-01%"]):
        published_development(curator, editor, slug=f"more-{n}", date=text)
    developments = PublicDevelopment.objects.all()
    by_database = charts.aggregate(views.span_groups(developments))
    one_by_one = charts.aggregate(charts.groups_of(charts.span_of(d.date) for d in developments))
    for unit_chart in (by_database, one_by_one):
        assert unit_chart.unit == "year"
    assert [(b.label, b.within, b.maybe) for b in by_database.bins] == [
        (b.label, b.within, b.maybe) for b in one_by_one.bins
    ]
    assert (by_database.total, by_database.qualified, by_database.open_ended) == (12, 3, 2)
