import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chronicle.domain import edtf
from chronicle.domain.errors import InvalidDate


@pytest.mark.parametrize(
    ("text", "earliest", "latest"),
    [
        ("2005", date(2005, 1, 1), date(2005, 12, 31)),
        ("2010-03", date(2010, 3, 1), date(2010, 3, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("1992-01-20", date(1992, 1, 20), date(1992, 1, 20)),
        ("2021-06-01/2021-06-04", date(2021, 6, 1), date(2021, 6, 4)),
        ("2015-05/2016-09", date(2015, 5, 1), date(2016, 9, 30)),
        ("2021~", date(2021, 1, 1), date(2021, 12, 31)),
        ("2021?", date(2021, 1, 1), date(2021, 12, 31)),
        ("2021-05%", date(2021, 5, 1), date(2021, 5, 31)),
        ("201X", date(2010, 1, 1), date(2019, 12, 31)),
        ("2021-XX", date(2021, 1, 1), date(2021, 12, 31)),
        ("../2021", edtf.EARLIEST, date(2021, 12, 31)),
        ("2021/", date(2021, 1, 1), edtf.LATEST),
    ],
)
def test_derives_the_span_a_date_can_mean(text, earliest, latest):
    parsed = edtf.parse(text)
    assert (parsed.text, parsed.earliest, parsed.latest) == (text, earliest, latest)


def test_qualifiers_are_kept():
    assert edtf.parse("2021~").approximate and not edtf.parse("2021~").uncertain
    assert edtf.parse("2021?").uncertain and not edtf.parse("2021?").approximate
    assert edtf.parse("2021%").approximate and edtf.parse("2021%").uncertain


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "required"),
        ("2021-13", "month 13 does not exist"),
        ("2021-02-30", "day 30 does not exist"),
        ("2021-06-04/2021-06-01", "ends before it starts"),
        ("June 2021", "not a date Chronicle understands"),
        ("21", "not a date Chronicle understands"),
        ("2021-6", "not a date Chronicle understands"),
        ("../..", "neither a start nor an end"),
        ("2021/2022/2023", "more than one"),
        (" 2021", "spaces"),
        ("0000", "year 0000"),
    ],
)
def test_rejects_what_is_not_edtf_with_a_clear_message(text, message):
    with pytest.raises(InvalidDate, match=message):
        edtf.parse(text)


days = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
qualifiers = st.sampled_from(["", "~", "?", "%"])


@given(days, qualifiers)
def test_a_day_means_exactly_that_day(day, qualifier):
    parsed = edtf.parse(f"{day.isoformat()}{qualifier}")
    assert parsed.earliest == parsed.latest == day


@given(days, qualifiers)
def test_a_month_spans_its_first_to_last_day(day, qualifier):
    parsed = edtf.parse(f"{day.year:04d}-{day.month:02d}{qualifier}")
    assert parsed.earliest == day.replace(day=1)
    assert parsed.latest == day.replace(day=calendar.monthrange(day.year, day.month)[1])
    assert parsed.earliest <= day <= parsed.latest


@given(days, days)
def test_an_interval_spans_from_its_start_to_its_end(a, b):
    start, end = min(a, b), max(a, b)
    parsed = edtf.parse(f"{start.isoformat()}/{end.isoformat()}")
    assert (parsed.earliest, parsed.latest) == (start, end)
    assert (parsed.latest - parsed.earliest) >= timedelta(0)


@given(st.text(max_size=30))
def test_any_text_parses_or_raises_invalid_date(text):
    try:
        parsed = edtf.parse(text)
    except InvalidDate as error:
        assert error.message
    else:
        assert parsed.text == text
        assert parsed.earliest <= parsed.latest


# -- dates written for people -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("2005", "2005"),
        ("2010-03", "March 2010"),
        ("1992-01-20", "20 January 1992"),
        ("2021-06-04", "4 June 2021"),
        ("2021~", "2021 (approximate)"),
        ("2021-06~", "June 2021 (approximate)"),
        ("2021-05?", "May 2021 (uncertain)"),
        ("2021%", "2021 (approximate and uncertain)"),
        ("2021-06-01/2021-06-04", "1–4 June 2021"),
        ("2021-05-30/2021-06-04", "30 May – 4 June 2021"),
        ("2020-12-30/2021-01-02", "30 December 2020 – 2 January 2021"),
        ("2021-05/2021-07", "May–July 2021"),
        ("2015-05/2016-09", "May 2015 – September 2016"),
        ("2021-05/2021-06-04", "May 2021 – 4 June 2021"),
        ("2021/2025", "2021–2025"),
        ("2016?/2021?", "between 2016 and 2021, uncertain"),
        ("2016~/2021~", "between 2016 and 2021, approximate"),
        ("2016?/2021", "between 2016 (uncertain) and 2021"),
        ("../2015-06-18", "before 18 June 2015"),
        ("2021/..", "after 2021"),
        ("/2021", "until 2021 (start unknown)"),
        ("2021-03/", "from March 2021 (end unknown)"),
        ("../2021?", "before 2021 (uncertain)"),
        ("201X", "2010s"),
        ("20XX", "2000–2099"),
        ("2021-XX", "2021"),
        ("2021-06-XX", "June 2021"),
    ],
)
def test_humanize_writes_a_date_as_a_reader_would(text, words):
    assert edtf.humanize(text) == words


@pytest.mark.parametrize("text", ["", "June 2021", "2021-13", "2021-02-30", "2021/2020"])
def test_humanize_leaves_text_that_is_not_a_date_as_it_is(text):
    assert edtf.humanize(text) == text


@given(st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)))
def test_humanize_names_the_day_month_and_year_of_any_day(day):
    words = edtf.humanize(day.isoformat())
    assert words == f"{day.day} {calendar.month_name[day.month]} {day.year}"


@pytest.mark.parametrize(
    ("text", "machine"),
    [("2021", "2021"), ("2021-05?", "2021-05"), ("1992-01-20", "1992-01-20"), ("2021~", "2021")],
)
def test_html_datetime_keeps_the_machine_readable_form(text, machine):
    assert edtf.html_datetime(text) == machine


@pytest.mark.parametrize("text", ["2021-06-01/2021-06-04", "201X", "nonsense"])
def test_html_datetime_has_no_form_for_intervals_and_unspecified_digits(text):
    assert edtf.html_datetime(text) is None
