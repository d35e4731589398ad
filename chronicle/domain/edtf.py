"""The subset of EDTF (ISO 8601-2, levels 0 and 1) that Chronicle accepts.

    2005            a year                  2010-03       a month
    1992-01-20      a day                   2021~ 2021?   approximate / uncertain (% = both)
    201X 2021-XX    unspecified digits      2021-06-01/2021-06-04   an interval
    ../2021 2021/.. open-ended interval     /2021 2021/   interval with an unknown end

A date is stored exactly as entered; `parse` derives the earliest and latest calendar days
it can mean, which is what filtering and ordering use.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from .errors import InvalidDate

EARLIEST = date(1, 1, 1)
LATEST = date(9999, 12, 31)

_DATE = re.compile(r"^(?P<year>\d{2}[\dX]{2})(?:-(?P<month>\d{2}|XX)(?:-(?P<day>\d{2}|XX))?)?(?P<qualifier>[~?%])?$")


@dataclass(frozen=True)
class EdtfDate:
    text: str
    earliest: date
    latest: date
    approximate: bool = False
    uncertain: bool = False

    @property
    def is_interval(self) -> bool:
        return "/" in self.text

    @property
    def is_open_ended(self) -> bool:
        """Bounded on one side only: ../2015-06-18 (by then), 2015/.. (from then on)."""
        start, _, end = self.text.partition("/")
        return self.is_interval and (start in ("", "..") or end in ("", ".."))


def parse(text: str) -> EdtfDate:
    """Parse `text`; raise InvalidDate with a curator-readable message if it is not valid."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidDate("A date is required, e.g. 2021, 2021-06 or 2021-06-04.")
    return _parse(text)


@lru_cache(maxsize=4096)  # a rebuild parses every development's dates; most repeat
def _parse(text: str) -> EdtfDate:
    if text != text.strip():
        raise InvalidDate(f"“{text}” has spaces around it; enter the date alone.")
    if "/" in text:
        return _parse_interval(text)
    earliest, latest, approximate, uncertain = _parse_single(text, text)
    return EdtfDate(text, earliest, latest, approximate, uncertain)


def is_valid(text: str) -> bool:
    try:
        parse(text)
    except InvalidDate:
        return False
    return True


def _parse_interval(text: str) -> EdtfDate:
    start_text, _, end_text = text.partition("/")
    if "/" in end_text:
        raise InvalidDate(f"“{text}” has more than one “/”; an interval is START/END.")
    if start_text in ("", "..") and end_text in ("", ".."):
        raise InvalidDate(f"“{text}” has neither a start nor an end.")
    approximate = uncertain = False
    earliest, latest = EARLIEST, LATEST
    if start_text not in ("", ".."):
        earliest, _, start_approx, start_uncertain = _parse_single(start_text, text)
        approximate |= start_approx
        uncertain |= start_uncertain
    if end_text not in ("", ".."):
        _, latest, end_approx, end_uncertain = _parse_single(end_text, text)
        approximate |= end_approx
        uncertain |= end_uncertain
    if earliest > latest:
        raise InvalidDate(f"“{text}” ends before it starts.")
    return EdtfDate(text, earliest, latest, approximate, uncertain)


def _parse_single(part: str, whole: str) -> tuple[date, date, bool, bool]:
    match = _DATE.match(part)
    if not match:
        raise InvalidDate(
            f"“{whole}” is not a date Chronicle understands; use YYYY, YYYY-MM or YYYY-MM-DD, "
            "optionally followed by ~ (approximate) or ? (uncertain), or an interval START/END."
        )
    year, month, day, qualifier = match.group("year", "month", "day", "qualifier")
    if "X" in year and month is not None:
        raise InvalidDate(f"“{whole}”: a year with unspecified digits cannot have a month.")
    if month == "XX" and day not in (None, "XX"):
        raise InvalidDate(f"“{whole}”: an unspecified month cannot have a specific day.")
    if "X" in year:
        if re.fullmatch(r"\d+X+", year) is None:
            raise InvalidDate(f"“{whole}”: only the last digits of a year can be unspecified (X).")
        first_year = max(int(year.replace("X", "0")), 1)
        last_year = int(year.replace("X", "9"))
        return date(first_year, 1, 1), date(last_year, 12, 31), *_qualifiers(qualifier)
    year_number = int(year)
    if year_number == 0:
        raise InvalidDate(f"“{whole}”: year 0000 is not supported.")
    if month is None or month == "XX":
        return date(year_number, 1, 1), date(year_number, 12, 31), *_qualifiers(qualifier)
    month_number = int(month)
    if not 1 <= month_number <= 12:
        raise InvalidDate(f"“{whole}”: month {month} does not exist.")
    last_day = calendar.monthrange(year_number, month_number)[1]
    if day is None or day == "XX":
        return (
            date(year_number, month_number, 1),
            date(year_number, month_number, last_day),
            *_qualifiers(qualifier),
        )
    day_number = int(day)
    if not 1 <= day_number <= last_day:
        raise InvalidDate(f"“{whole}”: day {day} does not exist in {year}-{month}.")
    the_day = date(year_number, month_number, day_number)
    return the_day, the_day, *_qualifiers(qualifier)


def _qualifiers(qualifier: str | None) -> tuple[bool, bool]:
    return qualifier in ("~", "%"), qualifier in ("?", "%")


@dataclass(frozen=True)
class Bound:
    """One end of a date as entered: the days it can mean and how precisely it names them."""

    earliest: date
    latest: date
    precision: str  # "year", "month" or "day"
    approximate: bool = False
    uncertain: bool = False


def bounds(text: str) -> tuple[Bound | None, Bound | None]:
    """The start and the end of a valid date (a single date is both); None for an open or
    unknown end. Raises InvalidDate like `parse`."""
    parse(text)
    if "/" not in text:
        bound = _bound(text, text)
        return bound, bound
    start_text, _, end_text = text.partition("/")
    start = None if start_text in ("", "..") else _bound(start_text, text)
    end = None if end_text in ("", "..") else _bound(end_text, text)
    return start, end


def _bound(part: str, whole: str) -> Bound:
    earliest, latest, approximate, uncertain = _parse_single(part, whole)
    match = _DATE.match(part)
    assert match is not None  # _parse_single accepted it
    month, day = match.group("month", "day")
    precision = "day" if day not in (None, "XX") else "month" if month not in (None, "XX") else "year"
    return Bound(earliest, latest, precision, approximate, uncertain)


# -- writing a date for people --------------------------------------------------------------

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_QUALIFIER_WORDS = {"~": "approximate", "?": "uncertain", "%": "approximate and uncertain"}


@dataclass(frozen=True)
class _Part:
    year: str
    month: int | None
    day: int | None
    qualifier: str

    def words(self, *, with_year: bool = True, with_month: bool = True) -> str:
        if "X" in self.year:
            if self.year.count("X") == 1:
                return f"{self.year.replace('X', '0')}s"
            return f"{self.year.replace('X', '0')}–{self.year.replace('X', '9')}"
        year = str(int(self.year))
        words = []
        if self.day is not None:
            words.append(str(self.day))
        if self.month is not None and with_month:
            words.append(MONTHS[self.month - 1])
        if with_year:
            words.append(year)
        return " ".join(words)


def _split(part: str) -> _Part:
    match = _DATE.match(part)
    if match is None:
        raise InvalidDate(part)
    year, month, day, qualifier = match.group("year", "month", "day", "qualifier")
    return _Part(
        year,
        int(month) if month not in (None, "XX") else None,
        int(day) if day not in (None, "XX") and month != "XX" else None,
        qualifier or "",
    )


def _with_qualifier(words: str, qualifier: str) -> str:
    return f"{words} ({_QUALIFIER_WORDS[qualifier]})" if qualifier else words


def _range(start: _Part, end: _Part) -> str:
    """An exact interval, written as short as it stays clear: 1-4 June 2021 (with an en dash)."""
    if "X" in start.year or "X" in end.year:
        return f"{start.words()} – {end.words()}"
    same_year = start.year == end.year
    same_precision = (start.month is None) == (end.month is None) and (start.day is None) == (end.day is None)
    if same_year and same_precision and start.month is not None:
        if start.month == end.month and start.day is not None:
            return f"{start.day}–{end.words()}"
        if start.day is None:
            return f"{MONTHS[start.month - 1]}–{end.words()}"
        return f"{start.words(with_year=False)} – {end.words()}"
    if start.month is None and end.month is None:
        return f"{start.words()}–{end.words()}"
    return f"{start.words()} – {end.words()}"


def humanize(text: str) -> str:
    """The date as a reader would write it, in English: "20 January 1992",
    "June 2021 (approximate)", "1-4 June 2021" (en dash), "between 2016 and 2021, uncertain",
    "before 18 June 2015", "2010s". Text that is not a valid date is returned unchanged."""
    if not is_valid(text):
        return text
    if "/" not in text:
        part = _split(text)
        return _with_qualifier(part.words(), part.qualifier)
    start_text, _, end_text = text.partition("/")
    if start_text in ("", ".."):
        end = _split(end_text)
        words = f"before {end.words()}" if start_text == ".." else f"until {end.words()} (start unknown)"
        return _with_qualifier(words, end.qualifier)
    if end_text in ("", ".."):
        start = _split(start_text)
        words = f"after {start.words()}" if end_text == ".." else f"from {start.words()} (end unknown)"
        return _with_qualifier(words, start.qualifier)
    start, end = _split(start_text), _split(end_text)
    if not start.qualifier and not end.qualifier:
        return _range(start, end)
    if start.qualifier == end.qualifier:
        return f"between {start.words()} and {end.words()}, {_QUALIFIER_WORDS[start.qualifier]}"
    first, last = _with_qualifier(start.words(), start.qualifier), _with_qualifier(end.words(), end.qualifier)
    return f"between {first} and {last}"


def html_datetime(text: str) -> str | None:
    """The date in the form HTML's <time datetime> accepts (a year, month or day), or None
    when it has no such form (intervals, unspecified digits)."""
    if "/" in text or "X" in text or not is_valid(text):
        return None
    return text.rstrip("~?%")
