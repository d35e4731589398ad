"""Old events keep working: stored examples of every schema version ever written."""

import copy
import json
from pathlib import Path

import pytest

from chronicle.domain.content import Content
from chronicle.domain.events import EVENT_TYPES, event_from_stored
from chronicle.domain.upcasting import SCHEMA_VERSION, UnknownSchemaVersion, upcast

EXAMPLES = Path(__file__).parent / "stored_events"


def examples(version: int) -> list[dict]:
    return json.loads((EXAMPLES / f"v{version}.json").read_text())


ALL_EXAMPLES = [
    pytest.param(example, id=f"v{version}-{example['example']}")
    for version in range(1, SCHEMA_VERSION + 1)
    for example in examples(version)
]


def test_there_are_examples_of_every_event_type_in_every_version_ever_written():
    assert sorted(path.name for path in EXAMPLES.glob("v*.json")) == [
        f"v{version}.json" for version in range(1, SCHEMA_VERSION + 1)
    ]
    for version in range(1, SCHEMA_VERSION + 1):
        written = examples(version)
        assert {example["schema_version"] for example in written} == {version}
        assert {example["type"] for example in written} == set(EVENT_TYPES)


@pytest.mark.parametrize("example", ALL_EXAMPLES)
def test_every_stored_example_reads_as_a_current_event(example):
    data = upcast(example["type"], example["schema_version"], example["data"])
    event = event_from_stored(example["type"], data, actor="7")
    if "content" in data:
        # The upgraded content is what the current code would write for the same facts.
        assert Content.from_dict(data["content"]).to_dict() == data["content"]
        assert event.content.to_dict() == data["content"]


@pytest.mark.parametrize("example", ALL_EXAMPLES)
def test_upcasting_leaves_the_stored_data_as_it_was(example):
    before = copy.deepcopy(example["data"])
    upcast(example["type"], example["schema_version"], example["data"])
    assert example["data"] == before


def test_version_1_events_read_the_same_as_their_version_2_form():
    current = {example["example"]: example for example in examples(2)}
    for old in examples(1):
        assert upcast(old["type"], 1, old["data"]) == current[old["example"]]["data"], old["example"]


def test_amounts_written_before_qualifiers_existed_read_as_exact_without_a_period():
    drafted = next(example for example in examples(1) if example["example"] == "drafted")
    amounts = upcast("development.drafted", 1, drafted["data"])["content"]["amounts"]
    assert [amount["qualifier"] for amount in amounts] == ["exact", "exact"]
    assert all("period" not in amount for amount in amounts)


def test_an_event_from_a_newer_chronicle_is_refused_with_a_message_naming_it():
    with pytest.raises(UnknownSchemaVersion, match=r"development.drafted event has schema version 99.*upgrade"):
        upcast("development.drafted", 99, {})
