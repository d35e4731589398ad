import pytest
from hypothesis import given
from hypothesis import strategies as st

from chronicle.domain.content import Content
from chronicle.domain.errors import InvalidContent
from tests.factories import content_data


def errors_for(**overrides):
    with pytest.raises(InvalidContent) as raised:
        Content.from_dict(content_data(**overrides))
    return raised.value.errors


def test_valid_content_round_trips_through_its_stored_form():
    content = Content.from_dict(content_data())
    assert Content.from_dict(content.to_dict()) == content


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": "  "}, "title", "is required"),
        ({"countries": ["XX"]}, "countries", "“XX” is not an ISO 3166-1"),
        ({"countries": []}, "countries", "at least one"),
        ({"topics": ["weather"]}, "topics", "“weather” is not a known topic"),
        ({"kind": "party"}, "kind", "“party” is not one of"),
        ({"date": "2021-13"}, "date", "month 13 does not exist"),
        ({"amounts": [{"value": "lots", "currency": "USD", "measures": "x"}]}, "amounts[1].value", "not a number"),
        ({"amounts": [{"value": "1", "currency": "XYZ", "measures": "x"}]}, "amounts[1].currency", "ISO 4217"),
        (
            {"amounts": [{"value": "1", "currency": "USD", "measures": "x", "qualifier": "roughly"}]},
            "amounts[1].qualifier",
            "“roughly” is not one of: exact, more-than, less-than, about",
        ),
        (
            {"amounts": [{"value": "1", "currency": "USD", "measures": "x", "period": "2021-13"}]},
            "amounts[1].period",
            "month 13 does not exist",
        ),
        (
            {"amounts": [{"value": "1", "currency": "USD", "measures": "x", "period": 2021}]},
            "amounts[1].period",
            "EDTF",
        ),
        ({"sources": [{"title": "t", "publisher": "p", "url": "javascript:alert(1)"}]}, "sources[1].url", "http"),
        ({"sources": [{"title": "t"}]}, "sources[1]", "publisher or an author"),
        ({"places": [{"name": "Minsk", "country": "BY", "lat": 91, "lon": 0}]}, "places[1]", "latitude"),
        ({"title": "x" * 301}, "title", "limit is 300"),
    ],
)
def test_each_bad_field_gets_a_message_a_curator_understands(overrides, field, message):
    errors = errors_for(**overrides)
    assert any(message in text for text in errors[field]), errors


def test_an_amount_is_exact_unless_qualified_and_may_state_its_period():
    amounts = [
        {"value": "500", "unit": "jobs", "measures": "jobs created", "qualifier": "more-than", "period": "2019/2021"},
        {"value": "200000000", "currency": "USD", "measures": "loan"},
    ]
    content = Content.from_dict(content_data(amounts=amounts))
    assert [(a.qualifier, a.period) for a in content.amounts] == [("more-than", "2019/2021"), ("exact", "")]
    assert content.to_dict()["amounts"][1] == {**amounts[1], "qualifier": "exact"}
    assert Content.from_dict(content.to_dict()) == content


def test_all_problems_are_reported_at_once():
    errors = errors_for(title="", countries=["ZZ"], topics=["nope"], date="soon")
    assert {"title", "countries", "topics", "date"} <= set(errors)


def test_country_codes_are_normalised_and_deduplicated():
    content = Content.from_dict(content_data(countries=["by", "BY", "cn"]))
    assert content.countries == ("BY", "CN")


@given(st.text(max_size=200))
def test_any_title_is_stored_as_text_without_control_characters(title):
    try:
        content = Content.from_dict(content_data(title=title))
    except InvalidContent as error:
        assert set(error.errors) == {"title"}
    else:
        assert "<" not in title or "<" in content.title  # HTML is kept as text, not stripped
        assert not any(ord(c) < 32 and c not in "\t\n\r" for c in content.title)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"date_basis": "guessed"}, "date_basis", "“guessed” is not one of"),
        ({"date_basis": ["given"]}, "date_basis", "is not one of"),
        ({"date": "../2015-06-18", "date_basis": "given"}, "date_basis", "is open-ended, so its basis is “bounded”"),
        ({"date": "2015-06", "date_basis": "bounded"}, "date_basis", "needs an open-ended date"),
        ({"related": "treaty-2015"}, "related", "must be a list"),
        ({"related": ["Treaty 2015"]}, "related", "is not a slug"),
    ],
)
def test_date_basis_and_related_are_checked(overrides, field, message):
    errors = errors_for(**overrides)
    assert any(message in text for text in errors[field]), errors


@pytest.mark.parametrize(
    ("date", "basis"), [("../2015-06-18", "bounded"), ("2015/..", "bounded"), ("2021-03-16", "inferred"), ("2021", "")]
)
def test_a_date_states_how_it_is_known(date, basis):
    content = Content.from_dict(content_data(date=date, date_basis=basis))
    assert (content.date, content.date_basis) == (date, basis)


def test_related_slugs_and_date_basis_survive_the_stored_form():
    content = Content.from_dict(
        content_data(date="../2015-06-18", date_basis="bounded", related=["treaty-2015", "visit-2015", "treaty-2015"])
    )
    assert content.related == ("treaty-2015", "visit-2015")
    assert Content.from_dict(content.to_dict()) == content


def test_content_without_date_basis_or_related_is_stored_as_before_they_existed():
    from chronicle.domain.content import content_from_stored

    stored = Content.from_dict(content_data()).to_dict()
    assert "date_basis" not in stored and "related" not in stored
    content = content_from_stored(stored)
    assert (content.date_basis, content.related) == ("", ())


@pytest.mark.parametrize(
    ("date", "basis", "words"),
    [
        ("../2015-06-18", "bounded", "happened by this date"),
        ("2015/..", "bounded", "happened from this date"),
        ("2021-05?", "inferred", "Worked out from the source's own date"),
        ("2021", "given", "The source gives this date"),
        ("2021", "", ""),
    ],
)
def test_the_date_basis_reads_as_a_sentence(date, basis, words):
    from chronicle.domain.content import date_basis_phrase

    phrase = date_basis_phrase(date, basis)
    assert words in phrase and (phrase == "") == (words == "")


@pytest.mark.parametrize(
    ("amount", "phrase"),
    [
        ({"value": "8400000000", "currency": "USD", "qualifier": "more-than"}, "more than $8.4 billion"),
        ({"value": "3100000000", "currency": "USD"}, "$3.1 billion"),
        ({"value": "200000000", "currency": "USD", "qualifier": "exact"}, "$200 million"),
        ({"value": "100000000", "unit": "rubles", "qualifier": "more-than"}, "more than 100 million rubles"),
        (
            {"value": "3000000000", "unit": "(currency not named)", "qualifier": "more-than"},
            "more than 3 billion (currency not named)",
        ),
        ({"value": "250000", "currency": "BYN", "qualifier": "about"}, "about 250,000 BYN"),
        ({"value": "13", "unit": "%", "qualifier": "more-than"}, "more than 13%"),
        ({"value": "1.235", "unit": "Gbit/s"}, "1.235 Gbit/s"),
        ({"value": "112.5", "unit": "km²", "qualifier": "less-than"}, "less than 112.5 km²"),
        ({"value": "500", "unit": "jobs"}, "500 jobs"),
    ],
)
def test_an_amount_reads_as_a_reader_says_it_with_its_qualifier(amount, phrase):
    from chronicle.domain.content import amount_phrase

    assert amount_phrase(amount) == phrase
