"""The export: a Frictionless Data Package of the public record, cut at one log position."""

import csv
import gzip
import json
import subprocess
import sys
import time
from datetime import timedelta

import frictionless
import pytest
from django.core.management import call_command
from django.utils import timezone

from chronicle.developments import commands
from chronicle.eventstore import store
from chronicle.exports import packages
from tests.factories import content_data
from tests.services import ROOT, shared_database_url, wait_for, worker_environment


def read_csv(directory, name):
    with (directory / name).open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def read_events(directory):
    with gzip.open(directory / "events.ndjson.gz", "rt", encoding="utf-8") as file:
        return [json.loads(line) for line in file]


def assert_valid(directory):
    report = frictionless.validate(directory / "datapackage.json")
    problems = [f"{task.name}: {error.message}" for task in report.tasks for error in task.errors]
    assert report.valid, problems
    return report


def test_the_package_holds_every_published_development_with_its_parts_and_validates(publish, publisher, tmp_path):
    kept = publish("beltelecom-5g", title="Beltelecom tests 5G with Huawei")
    corrected = publish("corrected-one", title="First title", countries=["RU"], topics=["ai"])
    retracted = publish("retracted-one", title="Withdrawn story")
    commands.revise_development(corrected, content_data(title="Second title", countries=["RU"]), actor=publisher)
    commands.submit_development(corrected, actor=publisher)
    commands.publish_correction(corrected, "The title was wrong.", actor=publisher)
    commands.retract_development(retracted, "It never happened.", actor=publisher)
    commands.draft_development(content_data(title="A draft nobody may see"), actor=publisher, slug="draft")

    call_command("export_chronicle", "--output", str(tmp_path / "out"))
    out = tmp_path / "out"

    report = assert_valid(out)
    assert {task.name for task in report.tasks} == {
        "developments",
        "developments-ndjson",
        "sources",
        "actors",
        "amounts",
        "countries",
        "topics",
        "events",
    }
    descriptor = json.loads((out / "datapackage.json").read_text())
    assert descriptor["chronicle"]["position"] == store.last_position()
    assert descriptor["chronicle"]["as_of"].endswith("Z")
    developments = {row["id"]: row for row in read_csv(out, "developments.csv")}
    assert set(developments) == {str(kept), str(corrected), str(retracted)}
    row = developments[str(corrected)]
    assert row["title"] == "Second title"
    assert (row["last_revision_kind"], row["last_revision_note"]) == ("corrected", "The title was wrong.")
    assert developments[str(retracted)]["status"] == "retracted"
    assert developments[str(retracted)]["retraction_reason"] == "It never happened."
    assert developments[str(retracted)]["summary"] == ""

    documents = {doc["id"]: doc for doc in map(json.loads, (out / "developments.ndjson").read_text().splitlines())}
    assert documents[str(corrected)]["last_revision"]["kind"] == "corrected"
    assert documents[str(corrected)]["last_revision"]["position"] == int(row["last_revision_position"])
    assert documents[str(kept)]["sources"][0]["title"] == "Beltelecom report"

    # The many-to-many parts, each in its own table; a tombstone keeps none.
    countries = {(r["development_id"], r["code"]) for r in read_csv(out, "countries.csv")}
    assert countries == {(str(kept), "BY"), (str(kept), "CN"), (str(corrected), "RU")}
    assert {r["name"] for r in read_csv(out, "actors.csv") if r["development_id"] == str(kept)} == {
        "Beltelecom",
        "Huawei",
    }
    assert [r["value"] for r in read_csv(out, "amounts.csv") if r["development_id"] == str(kept)] == ["1.235"]
    assert {r["development_id"] for r in read_csv(out, "sources.csv")} == {str(kept), str(corrected)}
    assert {r["slug"] for r in read_csv(out, "topics.csv") if r["development_id"] == str(corrected)} == {"5g"}

    events = read_events(out)
    assert [event["kind"] for event in events] == ["published"] * 3 + ["corrected", "retracted"]
    assert events[-1]["content"] is None and events[-1]["note"] == "It never happened."
    assert [event["position"] for event in events] == sorted(event["position"] for event in events)


def test_as_of_exports_the_record_as_it_stood_then(publish, publisher, tmp_path):
    development = publish("changing", title="Before")
    published = store.read_stream(development)[-1]
    before = published.recorded_at
    # What follows must be recorded after `before`, or the cut would take it in.
    wait_for(lambda: timezone.now() > before, 5, lambda: "the clock did not move", interval=0.001)
    commands.revise_development(development, content_data(title="After"), actor=publisher)
    commands.submit_development(development, actor=publisher)
    commands.publish_correction(development, "Renamed.", actor=publisher)
    publish("later", title="Published later")

    call_command("export_chronicle", "--output", str(tmp_path), "--as-of", before.isoformat())

    assert_valid(tmp_path)
    rows = read_csv(tmp_path, "developments.csv")
    assert [(row["title"], row["last_revision_kind"]) for row in rows] == [("Before", "published")]
    assert [event["kind"] for event in read_events(tmp_path)] == ["published"]
    descriptor = json.loads((tmp_path / "datapackage.json").read_text())
    assert descriptor["chronicle"]["position"] == published.position


def test_the_command_logs_progress_lines_and_ends_with_a_summary(publish, tmp_path, monkeypatch):
    import io

    monkeypatch.setattr("chronicle.progress.LOG_INTERVAL_SECONDS", 0)
    publish("one")
    publish("two")
    out, err = io.StringIO(), io.StringIO()
    call_command("export_chronicle", "--output", str(tmp_path), stdout=out, stderr=err)
    assert out.getvalue().startswith("Exported 2 developments and 2 public events at position")
    lines = err.getvalue().splitlines()  # not a terminal: plain lines, no bar
    assert lines[-1].startswith("4 of 4 (100%) rows")
    assert "\r" not in err.getvalue()


def test_a_bad_as_of_is_refused_with_a_message(db, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ISO date-time"):
        call_command("export_chronicle", "--output", str(tmp_path), "--as-of", "last tuesday")


PUBLICATIONS_DURING = 25


def test_every_resource_agrees_with_the_cut_while_publications_commit(transactional_db, publish, tmp_path):
    for index in range(30):
        publish(f"before-{index}", title=f"Before the export {index}")
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.exports.publisher", str(PUBLICATIONS_DURING)],
        cwd=ROOT,
        env=worker_environment({"DATABASE_URL": shared_database_url()}),
        stderr=subprocess.PIPE,
    )
    try:
        start = store.last_position()
        # Every 10 ms: the export must begin while the writer has most of its publications to go.
        wait_for(
            lambda: store.last_position() != start or writer.poll() is not None,
            30,
            lambda: "the writer published nothing",
            interval=0.01,
        )
        cut = packages.cut_at()
        # Slow the export down so the publisher commits while every table is being read.
        summary = packages.write_package(tmp_path / "during", cut, on_progress=lambda count: time.sleep(0.01))
        committed_meanwhile = store.last_position() - cut.position
    finally:
        assert writer.wait(120) == 0, writer.stderr.read().decode()
    assert committed_meanwhile > 0, "the publisher finished before the export began"

    # The same cut exported at rest is the same package, byte for byte.
    packages.write_package(tmp_path / "after", cut)
    for name in packages.FILES.values():
        if name.endswith(".gz"):
            same = gzip.decompress((tmp_path / "during" / name).read_bytes()) == gzip.decompress(
                (tmp_path / "after" / name).read_bytes()
            )
        else:
            same = (tmp_path / "during" / name).read_bytes() == (tmp_path / "after" / name).read_bytes()
        assert same, name
    assert_valid(tmp_path / "during")
    events = read_events(tmp_path / "during")
    assert max(event["position"] for event in events) <= cut.position
    rows = read_csv(tmp_path / "during", "developments.csv")
    assert {row["id"] for row in rows} == {event["development_id"] for event in events}
    assert summary.developments == len(rows) >= 30


def test_nightly_packages_are_written_whole_and_removed_after_the_kept_days(publish, exports_root, settings):
    settings.EXPORTS_KEEP_DAYS = 2
    publish("one")
    now = timezone.now()
    old = packages.write_nightly(now - timedelta(days=4))
    recent = packages.write_nightly(now - timedelta(days=1))
    assert packages.nightly_packages() == [recent.directory]  # the four-day-old one went
    assert not old.directory.exists()
    latest = packages.write_nightly(now)
    assert packages.latest_package() == latest.directory
    assert packages.nightly_packages() == [recent.directory, latest.directory]
    assert not list(exports_root.glob(".*"))  # no partial package left behind
    assert_valid(latest.directory)
