"""The timeline chart's layout: spans in, marks or counts per period out (no database)."""

from datetime import date
from decimal import Decimal

import pytest

from chronicle.public import charts
from chronicle.public.charts import Dated, Span, span_of

LEFT, RIGHT = charts.PLOT_LEFT, charts.PLOT_RIGHT


def x(day: date, first: date, last: date) -> float:
    """Where `day` starts on an axis from the first to the last day (an independent reckoning)."""
    return LEFT + (day - first).days / ((last - first).days + 1) * (RIGHT - LEFT)


def dated(key: str, text: str) -> Dated:
    return Dated(key, f"Development {key}", text, span_of(text))


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("2021-06-04", Span(date(2021, 6, 4), date(2021, 6, 4), exact=True)),
        ("2021", Span(date(2021, 1, 1), date(2021, 12, 31), exact=False)),
        ("2021-06", Span(date(2021, 6, 1), date(2021, 6, 30), exact=False)),
        ("2021~", Span(date(2021, 1, 1), date(2021, 12, 31), exact=False, approximate=True)),
        ("2021-06-04?", Span(date(2021, 6, 4), date(2021, 6, 4), exact=True, uncertain=True)),
        ("2021-06-01/2021-06-04", Span(date(2021, 6, 1), date(2021, 6, 4), exact=True)),
        ("2015/2023", Span(date(2015, 1, 1), date(2023, 12, 31), exact=False)),
        ("2016?/2021?", Span(date(2016, 1, 1), date(2021, 12, 31), exact=False, uncertain=True)),
        ("../2015-06-18", Span(None, date(2015, 6, 18), exact=True)),
        ("2015/..", Span(date(2015, 1, 1), None, exact=False)),
        ("201X", Span(date(2010, 1, 1), date(2019, 12, 31), exact=False)),
    ],
)
def test_a_date_becomes_the_span_of_days_it_may_mean(text, span):
    assert span_of(text) == span


def test_each_development_gets_one_mark_over_its_span():
    items = [
        dated("exact", "2019-03-14"),
        dated("year", "2016"),
        dated("approximate", "2017~"),
        dated("uncertain", "2018?"),
        dated("interval", "2015-05-01/2015-06-30"),
        dated("open", "../2015-06-18"),
    ]
    chart = charts.timeline(items)
    assert not chart.aggregated
    assert (chart.first, chart.last, chart.unit) == (date(2015, 1, 1), date(2019, 12, 31), "year")
    marks = {mark.item.key: mark for mark in chart.marks}
    assert set(marks) == {item.key for item in items}
    first, last = chart.first, chart.last

    year = marks["year"]
    assert year.x == pytest.approx(x(date(2016, 1, 1), first, last), abs=0.01)
    assert year.x + year.width == pytest.approx(x(date(2017, 1, 1), first, last), abs=0.02)
    interval = marks["interval"]
    assert interval.x == pytest.approx(x(date(2015, 5, 1), first, last), abs=0.01)
    assert interval.x + interval.width == pytest.approx(x(date(2015, 7, 1), first, last), abs=0.02)
    # One day is narrower than a mark can be: a MIN_MARK-wide mark centred on it.
    exact = marks["exact"]
    centre = (x(date(2019, 3, 14), first, last) + x(date(2019, 3, 15), first, last)) / 2
    assert (exact.width, exact.x + exact.width / 2) == (charts.MIN_MARK, pytest.approx(centre, abs=0.01))
    # "Before 18 June 2015" runs open from the chart's left edge, with an arrow there.
    open_start = marks["open"]
    assert open_start.x == LEFT
    assert open_start.x + open_start.width == pytest.approx(x(date(2015, 6, 19), first, last), abs=0.02)
    assert len(open_start.arrows) == 1 and open_start.arrows[0].startswith(f"{LEFT},")

    assert marks["exact"].classes == "mark exact"
    assert marks["year"].classes == "mark period"
    assert marks["approximate"].classes == "mark period approximate"
    assert marks["uncertain"].classes == "mark period uncertain"
    assert marks["interval"].classes == "mark exact"
    assert marks["open"].classes == "mark exact open-start"
    assert "dashed outline: approximate" in marks["approximate"].drawn_as
    assert "dotted outline: uncertain" in marks["uncertain"].drawn_as
    assert "open start" in marks["open"].drawn_as
    assert (chart.total, chart.qualified, chart.open_ended) == (6, 2, 1)


def test_an_open_end_runs_to_the_right_edge():
    chart = charts.timeline([dated("from", "2020-03/.."), dated("other", "2022-01-10")])
    mark = next(mark for mark in chart.marks if mark.item.key == "from")
    assert mark.x == pytest.approx(x(date(2020, 3, 1), chart.first, chart.last), abs=0.01)
    assert mark.x + mark.width == RIGHT
    assert mark.classes == "mark period open-end"


def test_overlapping_marks_take_separate_lanes_and_others_share_one():
    items = [dated("a", "2015"), dated("b", "2015-06"), dated("c", "2017"), dated("d", "2016-03-01")]
    marks = {mark.item.key: mark for mark in charts.timeline(items).marks}
    assert marks["a"].y != marks["b"].y
    assert marks["a"].y == marks["c"].y == marks["d"].y
    for one in marks.values():
        for other in marks.values():
            if one is not other and one.y == other.y:
                assert one.x + one.width <= other.x or other.x + other.width <= one.x


def test_a_short_range_is_drawn_by_month():
    chart = charts.timeline([dated("a", "2021-03-04"), dated("b", "2022-11")])
    assert chart.unit == "month"
    assert chart.ticks[0].label == "Jan 2021"


def test_too_many_developments_are_counted_per_year():
    items = [dated(f"in-2016-{n}", "2016-05-0" + str(n % 9 + 1)) for n in range(charts.MAX_MARKS)]
    items += [dated("year", "2017"), dated("approximate", "2018~"), dated("span", "2015/2017")]
    items += [dated("before", "../2015-06-18")]
    chart = charts.timeline(items)
    assert chart.aggregated and chart.unit == "year"
    bins = {bin.label: (bin.within, bin.maybe) for bin in chart.bins}
    assert bins == {
        "2015": (0, 2),  # the 2015/2017 span and "before 18 June 2015" may fall in it
        "2016": (charts.MAX_MARKS, 1),
        "2017": (1, 1),
        "2018": (0, 1),
    }
    in_2016, in_2018 = (next(bin for bin in chart.bins if bin.label == label) for label in ("2016", "2018"))
    assert in_2016.within_height + in_2016.maybe_height == pytest.approx(charts.BAR_AREA)  # the tallest
    assert in_2018.maybe_height == pytest.approx(charts.BAR_AREA / (charts.MAX_MARKS + 1), abs=0.01)
    assert in_2016.year == 2016 and in_2016.x == pytest.approx(x(date(2016, 1, 1), chart.first, chart.last), 0.01)


def test_marks_that_need_too_many_lanes_are_counted_instead():
    items = [dated(str(n), "2020-05-05") for n in range(charts.MAX_LANES + 1)]
    chart = charts.timeline(items)
    assert chart.aggregated and chart.unit == "month"
    assert [(bin.label, bin.within, bin.maybe) for bin in chart.bins] == [("May 2020", charts.MAX_LANES + 1, 0)]


def test_a_chart_of_centuries_counts_per_decade():
    chart = charts.aggregate(charts.groups_of([span_of("1905"), span_of("2021-06-01"), span_of("1990/2005")]))
    assert chart.unit == "decade"
    assert [(bin.label, bin.within, bin.maybe) for bin in chart.bins] == [
        ("1900s", 1, 0),
        ("1990s", 0, 1),
        ("2000s", 0, 1),
        ("2020s", 1, 0),
    ]
    assert all(bin.year is None for bin in chart.bins)


def test_nothing_to_chart():
    assert charts.timeline([]) is None
    assert charts.aggregate([]) is None


def observation(period: str, value: str, qualifier: str = "exact", key: str = "k") -> charts.Observation:
    return charts.Observation(key, Decimal(value), qualifier, span_of(period), value, period, "A report", "")


def test_a_figure_is_a_point_over_its_period_and_a_bound_points_away_from_its_value():
    chart = charts.figure(
        ("trade volume", "USD"),
        "trade volume (USD)",
        [
            observation("2015", "3100000000"),
            observation("2024", "8400000000", "more-than"),
            observation("2020", "5000000000", "less-than"),
            observation("../2018", "4000000000", "about"),
        ],
        lambda number: format(number.normalize(), "f"),
    )
    points = {point.observation.period: point for point in chart.points}
    left, right, top, bottom = charts.FIGURE_LEFT, charts.FIGURE_RIGHT, charts.FIGURE_TOP, chart.axis_y

    def x(day: date) -> float:
        return left + (day - date(2015, 1, 1)).days / ((date(2024, 12, 31) - date(2015, 1, 1)).days + 1) * (
            right - left
        )

    def y(value: int) -> float:
        return bottom - value / 10_000_000_000 * (bottom - top)  # the axis runs from 0 to $10 billion

    in_2015 = points[span_of("2015")]
    assert (in_2015.x0, in_2015.x1) == (
        pytest.approx(x(date(2015, 1, 1)), abs=0.01),
        pytest.approx(x(date(2016, 1, 1)), abs=0.01),
    )
    assert in_2015.x == pytest.approx((in_2015.x0 + in_2015.x1) / 2, abs=0.01)
    assert in_2015.y == pytest.approx(y(3_100_000_000), abs=0.01)
    assert (in_2015.arrow, in_2015.classes) == ("", "point exact")

    lower_bound = points[span_of("2024")]
    assert lower_bound.y == pytest.approx(y(8_400_000_000), abs=0.01)
    assert f"V{round(lower_bound.y - charts.BOUND_ARROW, 2)}" in lower_bound.arrow  # up: at least this much
    upper_bound = points[span_of("2020")]
    assert f"V{round(upper_bound.y + charts.BOUND_ARROW, 2)}" in upper_bound.arrow  # down: at most this much
    before = points[span_of("../2018")]
    assert before.x0 == left and before.x == before.x1 == pytest.approx(x(date(2019, 1, 1)), abs=0.01)
    assert before.classes == "point about open-start"
    assert [tick.label for tick in chart.value_ticks] == ["0", "2500000000", "5000000000", "7500000000", "10000000000"]
