"""Tamper-evident seals: anyone can check that history was not rewritten."""

import hashlib
import json
import re
import threading
from contextlib import contextmanager
from datetime import UTC

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from chronicle.eventstore import append_only, sealing
from chronicle.eventstore.models import Event, Seal
from tests.developments.test_projections import busy_log
from tests.factories import published_development


@contextmanager
def behind_the_triggers():
    """What a database superuser can do: change the log with the append-only triggers lifted."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        else:
            for statement in append_only.SQLITE_REMOVE:
                cursor.execute(statement)
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")
            else:
                for statement in append_only.SQLITE_INSTALL:
                    cursor.execute(statement)


def verify_log(*args):
    """verify_log's message: its summary, or the error it exits non-zero with."""
    from io import StringIO

    out = StringIO()
    try:
        call_command("verify_log", *args, stdout=out, stderr=StringIO())
    except CommandError as error:
        return False, str(error)
    return True, out.getvalue()


def sealed_log(curator, editor):
    busy_log(curator, editor)
    sealing.seal_pending()
    return list(Event.objects.order_by("position").values_list("position", flat=True))


@pytest.mark.django_db
def test_each_seal_is_sha256_over_the_previous_seal_and_the_events_canonical_bytes(curator, editor):
    positions = sealed_log(curator, editor)
    assert list(Seal.objects.values_list("position", flat=True)) == positions
    previous = "0" * 64
    for event, seal in zip(Event.objects.order_by("position"), Seal.objects.order_by("position"), strict=True):
        canonical = {
            "position": event.position,
            "event_id": str(event.event_id),
            "stream_id": str(event.stream_id),
            "version": event.version,
            "type": event.type,
            "schema_version": event.schema_version,
            "data": event.data,
            "metadata": event.metadata,
            "recorded_at": event.recorded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
        }
        body = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        previous = hashlib.sha256(previous.encode() + body).hexdigest()
        assert seal.seal == previous, event.position


@pytest.mark.django_db
def test_sealing_twice_changes_nothing_and_new_events_extend_the_chain(curator, editor):
    sealed_log(curator, editor)
    before = list(Seal.objects.values_list("position", "seal", "sealed_at"))
    assert sealing.seal_pending() == 0
    assert list(Seal.objects.values_list("position", "seal", "sealed_at")) == before
    published_development(curator, editor, slug="another")
    assert sealing.seal_pending() == 3
    assert list(Seal.objects.values_list("position", "seal", "sealed_at"))[: len(before)] == before
    assert verify_log()[0]


@pytest.mark.django_db
def test_verify_log_summarises_an_intact_log_and_counts_what_is_not_sealed_yet(curator, editor):
    positions = sealed_log(curator, editor)
    ok, message = verify_log()
    assert ok and f"{len(positions)} sealed events match their seals" in message
    published_development(curator, editor, slug="newer")
    ok, message = verify_log()
    assert ok and "3 newer events are not sealed yet" in message


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ("UPDATE eventstore_event SET data = %s WHERE position = %s", "is not what was sealed"),
        ("DELETE FROM eventstore_event WHERE position = %s", "its event is gone"),
    ],
)
def test_an_event_rewritten_by_a_superuser_is_named_by_verify_log(curator, editor, change, problem):
    positions = sealed_log(curator, editor)
    target = positions[3]
    with behind_the_triggers() as cursor:
        if change.startswith("UPDATE"):
            data = dict(Event.objects.get(position=target).data)
            data["note"] = "quietly changed"
            cursor.execute(change, [json.dumps(data), target])
        else:
            cursor.execute(change, [target])
    ok, message = verify_log()
    assert not ok
    assert message.startswith(f"Position {target} does not match") and problem in message
    assert "3 sealed events before it matched" in message


@pytest.mark.django_db
def test_an_event_replaced_and_its_seal_removed_is_named(curator, editor):
    positions = sealed_log(curator, editor)
    target = positions[2]
    columns = [field.column for field in Event._meta.concrete_fields]
    with behind_the_triggers() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM eventstore_event WHERE position = %s", [target])
        row = list(cursor.fetchone())
        cursor.execute("DELETE FROM eventstore_event WHERE position = %s", [target])
        cursor.execute("DELETE FROM eventstore_seal WHERE position = %s", [target])
        row[columns.index("type")] = "development.retracted"
        placeholders = ", ".join(["%s"] * len(columns))
        cursor.execute(f"INSERT INTO eventstore_event ({', '.join(columns)}) VALUES ({placeholders})", row)
    ok, message = verify_log()
    assert not ok
    assert message.startswith(f"Position {target} does not match") and "added afterwards" in message


@pytest.mark.django_db
def test_a_rewrite_whose_author_resealed_the_log_is_caught_by_a_kept_seal(curator, editor, client):
    positions = sealed_log(curator, editor)
    head = client.get("/api/v1/events/head/").json()
    assert head["position"] == positions[-1]
    with behind_the_triggers() as cursor:
        cursor.execute("UPDATE eventstore_event SET metadata = %s WHERE position = %s", ['{"actor": {}}', positions[1]])
        cursor.execute("DELETE FROM eventstore_seal")
    sealing.seal_pending()
    assert verify_log()[0]  # the stored seals agree with the rewritten log…
    ok, message = verify_log("--kept", f"{head['position']}:{head['seal']}")
    assert not ok  # …but not with the head a partner kept
    assert message.startswith(f"Position {head['position']} does not match")
    ok, message = verify_log("--kept", "12:not-a-seal")
    assert not ok and "POSITION:SEAL" in message


@pytest.mark.django_db
def test_rebuilding_the_read_models_leaves_the_seals_alone(curator, editor):
    sealed_log(curator, editor)
    before = list(Seal.objects.values_list("position", "seal", "sealed_at"))
    call_command("rebuild_projections")
    assert list(Seal.objects.values_list("position", "seal", "sealed_at")) == before


@pytest.mark.django_db
def test_the_change_stream_and_the_head_carry_the_seals(curator, editor, client):
    development_id = published_development(curator, editor)
    unsealed = client.get("/api/v1/events/?after=0").json()["results"]
    assert [item["seal"] for item in unsealed] == [None]
    assert client.get("/api/v1/events/head/").json() == {
        "position": 0,
        "seal": None,
        "recorded_at": None,
        "latest_position": Event.objects.order_by("-position").first().position,
    }
    sealing.seal_pending()
    published = Event.objects.get(stream_id=development_id, type="development.published")
    items = client.get("/api/v1/events/?after=0").json()["results"]
    assert [item["seal"] for item in items] == [Seal.objects.get(position=published.position).seal]
    head = client.get("/api/v1/events/head/").json()
    assert (head["position"], head["seal"]) == (published.position, items[0]["seal"])


@pytest.mark.celery
def test_a_real_worker_with_beat_seals_what_commands_record(celery_worker, curator, editor):
    from tests import services

    published_development(curator, editor, slug="sealed-by-beat")
    assert not Seal.objects.exists()
    celery_worker.start(beat=True)
    services.wait_for(lambda: Seal.objects.count() == Event.objects.count() == 3, 30, celery_worker.output)
    assert verify_log()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_append_never_waits_for_a_sealer_and_concurrent_sealers_seal_each_event_once(curator, editor):
    busy_log(curator, editor)
    # A sealer holding its lock does not hold up an append.
    held, release = threading.Event(), threading.Event()

    def hold_the_sealer_lock():
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [sealing.SEAL_LOCK_KEY])
                held.set()
                release.wait(10)
                cursor.execute("COMMIT")
        finally:
            other.close()

    holder = threading.Thread(target=hold_the_sealer_lock)
    holder.start()
    assert held.wait(10)
    try:
        published_development(curator, editor, slug="while-sealing")
    finally:
        release.set()
        holder.join()

    results: list[int] = []

    def seal():
        try:
            results.append(sealing.seal_pending(batch_size=3))
        finally:
            connection.close()

    sealers = [threading.Thread(target=seal) for _ in range(4)]
    for sealer in sealers:
        sealer.start()
    for sealer in sealers:
        sealer.join()
    assert sum(results) == Event.objects.count() == Seal.objects.count()
    assert verify_log()[0]


@pytest.mark.django_db
def test_backup_check_lists_the_log_and_what_is_not_in_it(curator, editor):
    from io import StringIO

    busy_log(curator, editor)
    out = StringIO()
    call_command("backup_check", stdout=out)
    must, rebuilt = out.getvalue().split("A restore rebuilds")
    for table in (
        "eventstore_event",
        "auth_user",
        "otp_totp_totpdevice",
        "otp_static_statictoken",
        "digests_subscriber",
        "api_apikey",
        "webhooks_endpoint",
    ):
        assert f"  {table} " in must, table
    for table in ("eventstore_seal", "developments_publicdevelopment", "feeds_feedstate"):
        assert f"  {table} " in rebuilt and f"  {table} " not in must, table
    assert re.search(rf"eventstore_event +{Event.objects.count()} rows", must)
    assert out.getvalue().splitlines()[-1].startswith("Back up ")
