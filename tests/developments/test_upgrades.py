"""Every reader of the log sees old events in the current shape."""

import pytest
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection
from django.utils import timezone

from chronicle.developments import commands, projections
from chronicle.domain.upcasting import SCHEMA_VERSION
from chronicle.eventstore.models import Event
from tests.developments.test_projections import busy_log
from tests.factories import content_data, published_development

pytestmark = pytest.mark.django_db


def as_version_1(data: dict) -> dict:
    """The data as Chronicle wrote it before amounts had a qualifier and a period."""
    if "content" not in data:
        return data
    amounts = [
        {key: value for key, value in amount.items() if key not in ("qualifier", "period")}
        for amount in data["content"]["amounts"]
    ]
    return {**data, "content": {**data["content"], "amounts": amounts}}


def replace_log(rows: list[Event]) -> None:
    """Put `rows` in place of the whole log, the way a restore from a dump would."""
    with connection.cursor() as cursor:
        for statement in connection.ops.sql_flush(no_style(), [Event._meta.db_table]):
            cursor.execute(statement)
    Event.objects.bulk_create(rows)


def test_new_events_are_written_at_the_current_schema_version(curator, editor):
    busy_log(curator, editor)
    assert set(Event.objects.values_list("schema_version", flat=True)) == {SCHEMA_VERSION}
    drafted = Event.objects.filter(type="development.drafted").first()
    assert drafted.data["content"]["amounts"] == [
        {"value": "1.235", "unit": "Gbit/s", "measures": "peak download speed", "qualifier": "exact"}
    ]


def copied(row: Event, **changes) -> Event:
    return Event(**{**{k: v for k, v in row.__dict__.items() if not k.startswith("_")}, **changes})


def test_a_rebuild_over_a_log_of_mixed_versions_equals_one_written_in_the_new_version(curator, editor):
    busy_log(curator, editor)
    call_command("rebuild_projections")
    written_new = projections.read_model_snapshot()
    # Every other event as an older Chronicle wrote it: the old shape, at schema version 1.
    replace_log(
        [
            copied(row, schema_version=1, data=as_version_1(row.data)) if index % 2 == 0 else copied(row)
            for index, row in enumerate(Event.objects.order_by("position"))
        ]
    )
    assert set(Event.objects.values_list("schema_version", flat=True)) == {1, SCHEMA_VERSION}
    old_amounts = [
        amount
        for data in Event.objects.filter(schema_version=1, type="development.drafted").values_list("data", flat=True)
        for amount in data["content"]["amounts"]
    ]
    assert old_amounts and all("qualifier" not in amount for amount in old_amounts)

    call_command("rebuild_projections")

    assert projections.read_model_snapshot() == written_new


def test_commands_as_of_and_the_change_stream_read_old_events_in_the_current_shape(curator, editor, client):
    first, _, _ = busy_log(curator, editor)
    replace_log(
        [copied(row, schema_version=1, data=as_version_1(row.data)) for row in Event.objects.order_by("position")]
    )
    call_command("rebuild_projections")

    assert projections.as_of(first, timezone.now()).public.content["amounts"][0]["qualifier"] == "exact"
    stream = client.get("/api/v1/events/?after=0").json()["results"]
    published = [item for item in stream if item["development"]["id"] == str(first) and item["content"]]
    assert published and all(item["content"]["amounts"][0]["qualifier"] == "exact" for item in published)
    # A command folds the old events and appends a new one at the current version.
    amounts = [{"value": "500", "unit": "jobs", "measures": "jobs created", "qualifier": "more-than"}]
    commands.revise_development(first, content_data(title="Pending again", amounts=amounts), actor=curator)
    latest = Event.objects.order_by("-position").first()
    assert latest.schema_version == SCHEMA_VERSION
    assert latest.data["content"]["amounts"][0]["qualifier"] == "more-than"
    assert Event.objects.filter(schema_version=1).count() == Event.objects.count() - 1


def test_the_api_and_the_page_show_an_amounts_qualifier_and_period(curator, editor, client):
    amounts = [
        {"value": "500", "unit": "jobs", "measures": "jobs created", "qualifier": "more-than", "period": "2019/2021"}
    ]
    development_id = published_development(curator, editor, slug="jobs", amounts=amounts)
    (shown,) = client.get(f"/api/v1/developments/{development_id}/").json()["amounts"]
    assert (shown["value"], shown["qualifier"], shown["period"]) == ("500", "more-than", "2019/2021")
    page = client.get("/developments/jobs/").content.decode()
    assert "more than 500 jobs" in page and 'data-edtf="2019/2021">2019–2021</' in page
