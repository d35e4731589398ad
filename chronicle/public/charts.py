"""Chart layout in plain Python: date spans in, geometry out; templates only draw it.

The timeline chart draws one mark per development over the days its date can mean, in
lanes so marks never overlap. When there are too many for that, it counts developments
per period instead: those dated within a period, and those that may fall in it (an
approximate, uncertain, open-ended or longer span), which are counted in every period
they may fall in. A figure chart draws a measure's figures as points over the periods
they cover, on a value axis, a bound ("more than", "less than") with an arrow away from
its value. Coordinates are in SVG user units of the chart's view box.
"""

from __future__ import annotations

import calendar
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from chronicle.domain import edtf

WIDTH = 700
MARGIN = 20  # room for the first and last tick labels
PLOT_LEFT, PLOT_RIGHT = MARGIN, WIDTH - MARGIN
LANE_HEIGHT, LANE_GAP = 12, 4
MIN_MARK = 5  # a single day is still wide enough to see and to click
MAX_MARKS = 250
MAX_LANES = 24
BAR_AREA = 150
AXIS_HEIGHT = 28
OPEN_ARROW = 7
LATEST_DAY = date(9999, 12, 31)


@dataclass(frozen=True)
class Span:
    """The days a date can mean; None for an open (or unknown) end."""

    earliest: date | None
    latest: date | None
    exact: bool = True  # every known end names a day
    approximate: bool = False
    uncertain: bool = False

    @property
    def qualified(self) -> bool:
        return self.approximate or self.uncertain


def span_of(text: str) -> Span:
    start, end = edtf.bounds(text)
    known = [bound for bound in (start, end) if bound is not None]
    return Span(
        earliest=start.earliest if start else None,
        latest=end.latest if end else None,
        exact=all(bound.precision == "day" and bound.earliest == bound.latest for bound in known),
        approximate=any(bound.approximate for bound in known),
        uncertain=any(bound.uncertain for bound in known),
    )


@dataclass(frozen=True)
class Dated:
    """One development to chart: where its mark links and what it is called."""

    key: str
    title: str
    when: str
    span: Span


@dataclass(frozen=True)
class Group:
    """`count` developments sharing one span, as a database can count them."""

    earliest: date | None
    latest: date | None
    qualified: bool
    count: int


@dataclass(frozen=True)
class Mark:
    item: Dated
    x: float
    y: float
    width: float
    height: float
    arrows: tuple[str, ...]  # SVG polygon points of the open ends' arrow heads

    @property
    def classes(self) -> str:
        span = self.item.span
        names = ["mark", "exact" if span.exact else "period"]
        names += ["approximate"] * span.approximate + ["uncertain"] * span.uncertain
        names += ["open-start"] * (span.earliest is None) + ["open-end"] * (span.latest is None)
        return " ".join(names)

    @property
    def drawn_as(self) -> str:
        """How the mark shows the date, for the chart's text alternative."""
        span = self.item.span
        parts = ["a bar over the exact days" if span.exact else "a pale bar over the whole period it may mean"]
        if span.approximate:
            parts.append("dashed outline: approximate")
        if span.uncertain:
            parts.append("dotted outline: uncertain")
        if span.earliest is None:
            parts.append("open start: fades out to the left")
        if span.latest is None:
            parts.append("open end: fades out to the right")
        return "; ".join(parts)


@dataclass(frozen=True)
class Bin:
    start: date
    end: date
    unit: str
    within: int  # dated within this period
    maybe: int  # may fall in it
    x: float
    width: float
    within_y: float
    within_height: float
    maybe_y: float
    maybe_height: float

    @property
    def label(self) -> str:
        return period_label(self.start, self.unit)

    @property
    def year(self) -> int | None:
        """The year to filter by, when the period is one."""
        return self.start.year if self.unit == "year" else None


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


class _TimeAxis:
    """A chart's time axis: its ticks reach 5 px below the line, their labels 18 px."""

    axis_y: float

    @property
    def tick_end(self) -> float:
        return self.axis_y + 5

    @property
    def label_y(self) -> float:
        return self.axis_y + 18


@dataclass
class Chart(_TimeAxis):
    first: date
    last: date
    unit: str
    total: int
    qualified: int
    open_ended: int
    height: float
    axis_y: float
    ticks: list[Tick]
    marks: list[Mark] = field(default_factory=list)
    bins: list[Bin] = field(default_factory=list)

    width = WIDTH
    plot_left = PLOT_LEFT
    plot_right = PLOT_RIGHT

    @property
    def aggregated(self) -> bool:
        return not self.marks


# -- scale -------------------------------------------------------------------------------


class _Scale:
    def __init__(self, first: date, last: date):
        self.first, self.last = first, last
        self.days = (last - first).days + 1

    def x(self, day: date) -> float:
        return round(PLOT_LEFT + (day - self.first).days / self.days * (PLOT_RIGHT - PLOT_LEFT), 2)

    def x_after(self, day: date) -> float:
        """The x where the day ends."""
        return round(PLOT_LEFT + ((day - self.first).days + 1) / self.days * (PLOT_RIGHT - PLOT_LEFT), 2)


def _extent(groups: Iterable[Group]) -> tuple[date, date, str]:
    """The whole years (or, for under three years, months) the known ends fall in, and the unit."""
    known = [day for group in groups for day in (group.earliest, group.latest) if day is not None]
    low, high = min(known), max(known)
    years = high.year - low.year + 1
    unit = "month" if years <= 2 else "year" if years <= 80 else "decade"
    if unit == "decade":
        return date(low.year - low.year % 10 or 1, 1, 1), date(min(high.year - high.year % 10 + 9, 9999), 12, 31), unit
    return date(low.year, 1, 1), date(high.year, 12, 31), unit


def _periods(first: date, last: date, unit: str) -> list[tuple[date, date]]:
    periods = []
    start = first
    while start <= last:
        if unit == "month":
            end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
        elif unit == "year":
            end = date(start.year, 12, 31)
        else:
            end = date(min(start.year - start.year % 10 + 9, 9999), 12, 31)
        periods.append((start, end))
        if end.year == 9999 and end.month == 12:
            break
        start = end + timedelta(days=1)
    return periods


def period_label(start: date, unit: str) -> str:
    if unit == "month":
        return f"{calendar.month_name[start.month]} {start.year}"
    if unit == "decade":
        return f"{start.year}s"
    return str(start.year)


def _ticks(scale: _Scale, unit: str) -> list[Tick]:
    if unit == "month":
        months = _periods(scale.first, scale.last, "month")
        step = 1 if len(months) <= 12 else 3
        return [
            Tick(
                scale.x(start),
                f"{calendar.month_abbr[start.month]} {start.year}"
                if start.month == 1
                else calendar.month_abbr[start.month],
            )
            for index, (start, _) in enumerate(months)
            if index % step == 0
        ]
    years = scale.last.year - scale.first.year + 1
    step = next(step for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if years / step <= 10)
    first = scale.first.year + (-scale.first.year) % step
    return [Tick(scale.x(date(year, 1, 1)), str(year)) for year in range(first, scale.last.year + 1, step)]


# -- the timeline ------------------------------------------------------------------------


def timeline(items: Sequence[Dated]) -> Chart | None:
    """One mark per item in lanes, or counts per period if they would not fit."""
    if not items:
        return None
    groups = groups_of(item.span for item in items)
    if len(items) > MAX_MARKS:
        return aggregate(groups)
    first, last, unit = _extent(groups)
    scale = _Scale(first, last)
    placed: list[tuple[Dated, float, float, int]] = []
    lane_ends: list[float] = []
    for item, x0, x1 in sorted(
        (_extent_x(item, scale) for item in items), key=lambda found: (found[1], found[2], found[0].key)
    ):
        lane = next((lane for lane, end in enumerate(lane_ends) if end + 2 <= x0), len(lane_ends))
        if lane == len(lane_ends):
            if lane == MAX_LANES:
                return aggregate(groups)
            lane_ends.append(x1)
        lane_ends[lane] = x1
        placed.append((item, x0, x1, lane))
    marks = [
        Mark(
            item,
            x0,
            y := 4 + lane * (LANE_HEIGHT + LANE_GAP),
            round(x1 - x0, 2),
            LANE_HEIGHT,
            _arrows(item.span, x0, x1, y),
        )
        for item, x0, x1, lane in placed
    ]
    axis_y = 4 + len(lane_ends) * (LANE_HEIGHT + LANE_GAP) + 4
    return Chart(
        first,
        last,
        unit,
        total=len(items),
        qualified=sum(item.span.qualified for item in items),
        open_ended=sum(item.span.earliest is None or item.span.latest is None for item in items),
        height=axis_y + AXIS_HEIGHT,
        axis_y=axis_y,
        ticks=_ticks(scale, unit),
        marks=marks,
    )


def _extent_x(item: Dated, scale: _Scale) -> tuple[Dated, float, float]:
    span = item.span
    x0 = scale.x(span.earliest) if span.earliest else PLOT_LEFT
    x1 = scale.x_after(span.latest) if span.latest else PLOT_RIGHT
    if x1 - x0 < MIN_MARK:
        middle = min(max((x0 + x1) / 2, PLOT_LEFT + MIN_MARK / 2), PLOT_RIGHT - MIN_MARK / 2)
        x0, x1 = round(middle - MIN_MARK / 2, 2), round(middle + MIN_MARK / 2, 2)
    return item, x0, x1


def _arrows(span: Span, x0: float, x1: float, y: float) -> tuple[str, ...]:
    top, middle, bottom = y, y + LANE_HEIGHT / 2, y + LANE_HEIGHT
    arrows = []
    if span.earliest is None:
        arrows.append(f"{x0},{middle} {x0 + OPEN_ARROW},{top} {x0 + OPEN_ARROW},{bottom}")
    if span.latest is None:
        arrows.append(f"{x1},{middle} {x1 - OPEN_ARROW},{top} {x1 - OPEN_ARROW},{bottom}")
    return tuple(arrows)


def groups_of(spans: Iterable[Span]) -> list[Group]:
    counts = Counter((span.earliest, span.latest, span.qualified) for span in spans)
    return [Group(earliest, latest, qualified, count) for (earliest, latest, qualified), count in counts.items()]


def aggregate(groups: Sequence[Group]) -> Chart | None:
    """Counts per period: solid for developments dated within it, hatched for those that
    may fall in it (counted in each period they may fall in)."""
    groups = [group for group in groups if group.count]
    if not groups:
        return None
    first, last, unit = _extent(groups)
    scale = _Scale(first, last)
    periods = _periods(first, last, unit)
    starts = [start for start, _ in periods]
    within = [0] * len(periods)
    maybe = [0] * len(periods)
    for group in groups:
        low = 0 if group.earliest is None else _index(starts, group.earliest)
        high = len(periods) - 1 if group.latest is None else _index(starts, group.latest)
        if low == high and not group.qualified and group.earliest and group.latest:
            within[low] += group.count
        else:
            for index in range(low, high + 1):
                maybe[index] += group.count
    tallest = max(w + m for w, m in zip(within, maybe, strict=True))
    per_development = BAR_AREA / tallest
    baseline = 4 + BAR_AREA
    bins = []
    for (start, end), solid, hatched in zip(periods, within, maybe, strict=True):
        if not solid and not hatched:
            continue
        x0, x1 = scale.x(start), scale.x_after(end)
        solid_height = round(solid * per_development, 2)
        hatched_height = round(hatched * per_development, 2)
        bins.append(
            Bin(
                start,
                end,
                unit,
                solid,
                hatched,
                x0,
                round(max(x1 - x0 - 1, 1), 2),
                round(baseline - solid_height, 2),
                solid_height,
                round(baseline - solid_height - hatched_height, 2),
                hatched_height,
            )
        )
    return Chart(
        first,
        last,
        unit,
        total=sum(group.count for group in groups),
        qualified=sum(group.count for group in groups if group.qualified),
        open_ended=sum(group.count for group in groups if group.earliest is None or group.latest is None),
        height=baseline + AXIS_HEIGHT,
        axis_y=baseline,
        ticks=_ticks(scale, unit),
        bins=bins,
    )


def _index(starts: list[date], day: date) -> int:
    """The period `day` falls in (clamped to the chart)."""
    return max(bisect_right(starts, day) - 1, 0)


# -- figures -----------------------------------------------------------------------------

FIGURE_WIDTH = 440  # narrower than the timeline: the chart shares the row with its table
FIGURE_LEFT = MARGIN + 58  # room for the value axis' labels
FIGURE_RIGHT = FIGURE_WIDTH - MARGIN
FIGURE_HEIGHT = 170
FIGURE_TOP = 14  # room for a lower bound's arrow
BOUND_ARROW = 22


@dataclass(frozen=True)
class Observation:
    """One published figure of a measure: its value for a period, and where it comes from."""

    key: str  # the development that reports it
    value: Decimal
    qualifier: str  # exact, more-than, less-than, about
    period: Span
    value_text: str  # "more than $8.4 billion"
    when: str  # the period written for people
    source: str
    source_url: str
    current: bool = False  # given by the development whose page shows the chart


@dataclass(frozen=True)
class Point:
    observation: Observation
    x: float
    y: float
    x0: float  # the period it covers
    x1: float
    arrow: str  # SVG path of a bound's arrow, "" for other qualifiers

    @property
    def classes(self) -> str:
        span = self.observation.period
        names = ["point", self.observation.qualifier] + ["current"] * self.observation.current
        names += ["open-start"] * (span.earliest is None) + ["open-end"] * (span.latest is None)
        return " ".join(names)


@dataclass
class FigureChart(_TimeAxis):
    key: tuple[str, str]  # what it measures, and the unit or currency
    measure: str
    first: date
    last: date
    points: list[Point]
    ticks: list[Tick]
    value_ticks: list[Tick]  # x holds the y coordinate
    axis_y: float = FIGURE_TOP + FIGURE_HEIGHT
    width = FIGURE_WIDTH
    plot_left = FIGURE_LEFT
    plot_right = FIGURE_RIGHT

    @property
    def height(self) -> float:
        return self.axis_y + AXIS_HEIGHT


def figure(key: tuple[str, str], measure: str, observations: Sequence[Observation], value_label) -> FigureChart | None:
    """A measure's observations over time: each a point over the period it covers. A "more
    than" value is a lower bound, drawn with an arrow up; "less than" an arrow down.
    `value_label(number)` writes a value axis label."""
    if not observations:
        return None
    first, last, _ = _extent(groups_of(observation.period for observation in observations))
    scale = _Scale(first, last)
    left, right = FIGURE_LEFT, FIGURE_RIGHT
    values = [observation.value for observation in observations]
    low = min(min(values), Decimal(0))
    step = _nice_step((max(values) - low) / 4 or Decimal(1))
    high = low + step * 4
    while high < max(values):
        high += step

    def y(value: Decimal) -> float:
        return round(FIGURE_TOP + float((high - value) / (high - low)) * FIGURE_HEIGHT, 2)

    def x(day: date) -> float:  # the timeline's scale, fitted into this chart's plot
        return round(left + (scale.x(day) - PLOT_LEFT) * (right - left) / (PLOT_RIGHT - PLOT_LEFT), 2)

    points = []
    for observation in sorted(observations, key=lambda o: (o.period.latest or LATEST_DAY, o.value)):
        span = observation.period
        x0 = x(span.earliest) if span.earliest else left
        x1 = x(span.latest + timedelta(days=1)) if span.latest and span.latest < LATEST_DAY else right
        middle = x1 if span.earliest is None else x0 if span.latest is None else round((x0 + x1) / 2, 2)
        top = y(observation.value)
        direction = {"more-than": -1, "less-than": 1}.get(observation.qualifier, 0)
        arrow = _bound_arrow(middle, top, direction) if direction else ""
        points.append(Point(observation, middle, top, x0, x1, arrow))
    value_ticks = [Tick(y(low + step * n), value_label(low + step * n)) for n in range(int((high - low) / step) + 1)]
    ticks = [Tick(x(date(int(tick.label), 1, 1)), tick.label) for tick in _ticks(scale, "year")]
    return FigureChart(key, measure, first, last, points, ticks, value_ticks)


def _bound_arrow(x: float, y: float, direction: int) -> str:
    """A line from the value up (-1) or down (1), with an arrow head: the value is a bound."""
    tip = round(y + direction * BOUND_ARROW, 2)
    back = round(tip - direction * 5, 2)
    return f"M{x},{y} V{tip} M{x - 4},{back} L{x},{tip} L{x + 4},{back}"


def _nice_step(rough: Decimal) -> Decimal:
    magnitude = Decimal(10) ** rough.adjusted()
    return next(
        factor * magnitude
        for factor in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))
        if factor * magnitude >= rough
    )
