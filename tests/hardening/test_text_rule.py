"""The plain-text rule of the domain (chronicle/domain/content.py), without a database:
accepted text is stored exactly, refused text is named by field and character, limits are
answered with a message instead of a truncation, and no input of any JSON shape gets past
`Content.from_dict` as anything but Content or InvalidContent."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chronicle.domain import development as domain
from chronicle.domain.content import MAX_SUMMARY, MAX_TITLE, Content
from chronicle.domain.errors import InvalidContent
from tests.factories import content_data
from tests.hardening.text import accepted_text, refused_text, stored

TEXT_FIELDS = st.sampled_from(
    [
        ("title", lambda text: {"title": text}),
        ("summary", lambda text: {"summary": text}),
        ("actors[1].name", lambda text: {"actors": [{"name": text, "role": "operator"}]}),
        ("sources[1].quote", lambda text: {"sources": [{"title": "Report", "publisher": "BelTA", "quote": text}]}),
        ("places[1].name", lambda text: {"places": [{"name": text, "country": "BY"}]}),
    ]
)


@settings(max_examples=200)
@given(text=accepted_text, where=TEXT_FIELDS)
def test_accepted_text_is_stored_exactly_and_survives_its_stored_form(text, where):
    field, overrides = where
    content = Content.from_dict(content_data(**overrides(text)))
    stored_form = json.loads(json.dumps(content.to_dict(), ensure_ascii=False))
    assert Content.from_dict(stored_form) == content
    if field == "title":
        assert content.title == stored(text)
    elif field == "summary":
        assert content.summary == stored(text)
    elif field.startswith("actors"):
        assert content.actors[0].name == stored(text)
    elif field.startswith("sources"):
        assert content.sources[0].quote == stored(text)
    else:
        assert content.places[0].name == stored(text)


@settings(max_examples=200)
@given(refused=refused_text(), where=TEXT_FIELDS)
def test_a_forbidden_character_is_refused_on_its_field_naming_the_character_and_place(refused, where):
    text, place = refused
    field, overrides = where
    with pytest.raises(InvalidContent) as raised:
        Content.from_dict(content_data(**overrides(text)))
    assert set(raised.value.errors) == {field}
    (message,) = raised.value.errors[field]
    assert f"U+{ord(text[place - 1]):04X}" in message and f"at character {place};" in message


@pytest.mark.parametrize(("field", "limit"), [("title", MAX_TITLE), ("summary", MAX_SUMMARY)])
def test_text_over_its_limit_is_refused_with_its_length_never_truncated(field, limit):
    assert Content.from_dict(content_data(**{field: "я" * limit}))
    with pytest.raises(InvalidContent) as raised:
        Content.from_dict(content_data(**{field: "<b>" * 34_000}))  # ~100 kB
    assert raised.value.errors == {field: [f"is 102000 characters long; the limit is {limit}."]}


def test_line_breaks_from_a_browser_and_from_a_file_are_the_same_text():
    from_browser = Content.from_dict(content_data(summary="First line.\r\nSecond line.\rThird."))
    from_file = Content.from_dict(content_data(summary="First line.\nSecond line.\nThird."))
    assert from_browser == from_file


@settings(max_examples=50)
@given(refused=refused_text())
def test_a_workflow_note_follows_the_same_rule(refused):
    text, place = refused
    content = Content.from_dict(content_data())
    state = domain.fold([*domain.draft("by-test-2021", content, actor="1")])
    state = domain.fold([*domain.draft("by-test-2021", content, actor="1"), *domain.submit(state, actor="1")])
    with pytest.raises(InvalidContent) as raised:
        domain.request_changes(state, text, actor="2")
    assert f"at character {place};" in raised.value.errors["note"][0]
    (event,) = domain.request_changes(state, "Check\u200f the <b>date</b> 🇧🇾\r\nplease ", actor="2")
    assert event.comment == "Check\u200f the <b>date</b> 🇧🇾\nplease"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
FIELDS = st.sampled_from(list(Content.__dataclass_fields__))
PART_FIELDS = st.sampled_from(["name", "role", "value", "currency", "unit", "measures", "country", "lat", "lon"])


@settings(max_examples=300)
@given(
    replaced=st.dictionaries(FIELDS, JSON, max_size=4),
    part=st.sampled_from(["actors", "amounts", "places", "sources"]),
    item=st.dictionaries(PART_FIELDS, JSON, max_size=4),
)
def test_any_json_shape_gives_content_or_field_errors_never_a_crash(replaced, part, item):
    data = content_data(**replaced)
    if part not in replaced:
        data[part] = [{**(data[part] or [{}])[0], **item}] if data.get(part) else [item]
    try:
        content = Content.from_dict(data)
    except InvalidContent as invalid:
        assert invalid.errors and all(isinstance(m, str) for ms in invalid.errors.values() for m in ms)
    else:
        assert Content.from_dict(content.to_dict()) == content
