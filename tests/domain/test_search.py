import pytest

from chronicle.domain import search

TITLE = "Beltelecom tests 5G in the Kopylsky district"
SUMMARY = "Белтелеком испытал сеть 5G в Копыльском районе; Huawei supplied the equipment."


@pytest.mark.parametrize(
    "query",
    ["Kopyl", "kopylsky", "KOPYL", "копыль", "КОПЫЛЬСК", "белтел", "5g", "huawei equip", "Beltelecom, tests!"],
)
def test_words_are_found_by_their_beginning_in_any_case_and_script(query):
    assert search.matches(query, TITLE, SUMMARY)


@pytest.mark.parametrize("query", ["opyl", "пыль", "kopyl moscow", "elecom", "tests5g"])
def test_a_query_word_must_begin_a_word_of_the_text(query):
    assert not search.matches(query, TITLE, SUMMARY)


def test_no_match_spans_the_title_and_the_summary():
    assert search.matches("district", TITLE, SUMMARY)
    assert not search.matches("district белтелеком", "x", "y")
    assert search.document("A b", "c") == " a b | c "


def test_composed_and_decomposed_letters_are_the_same_letter():
    decomposed = "Копыльскии\u0306"  # и + combining breve: й
    assert search.matches("копыльский", decomposed, "")


def test_terms_are_deduplicated_and_punctuation_is_not_a_word():
    assert search.terms("5G, 5g — Kopyl?") == ["5g", "kopyl"]
    assert search.terms("?!") == []
