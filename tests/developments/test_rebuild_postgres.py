"""On PostgreSQL a rebuild fills fresh tables and swaps them in: readers never see a half-built
read model, commands recorded meanwhile are kept, and the tables keep every index and constraint."""

import threading

import psycopg
import pytest
from django.db import OperationalError, connection

from chronicle.developments import commands, projections
from chronicle.developments.models import DevelopmentRecord, PublicDevelopment, PublicStatus
from tests.factories import published_development
from tests.services import shared_database_url

pytestmark = pytest.mark.postgres

TABLES = [model._meta.db_table for model in projections.READ_MODELS]
COUNTS = "SELECT " + ", ".join(f"(SELECT count(*) FROM {table})" for table in TABLES)  # one snapshot


def read_counts(reader: psycopg.Connection) -> tuple:
    return reader.execute(COUNTS).fetchone()


def test_readers_see_the_old_read_models_or_the_new_ones_never_a_half_built_one(transactional_db, curator, editor):
    developments = [published_development(curator, editor, slug=f"development-{n}") for n in range(6)]
    with psycopg.connect(shared_database_url().replace("postgres://", "postgresql://"), autocommit=True) as reader:
        new = read_counts(reader)
        # Old read models that lack one development, so a reader can tell old from new.
        PublicDevelopment.objects.filter(id=developments[0]).delete()
        DevelopmentRecord.objects.filter(id=developments[0]).delete()
        old = read_counts(reader)
        assert old != new

        during_build: list[tuple] = []
        polled: list[tuple] = []
        done = threading.Event()

        def poll() -> None:
            with psycopg.connect(shared_database_url().replace("postgres://", "postgresql://")) as other:
                other.autocommit = True
                while not done.is_set():
                    polled.append(read_counts(other))

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            # One development per batch: the reader looks after each batch was written.
            projections.rebuild(batch_size=1, on_progress=lambda _: during_build.append(read_counts(reader)))
        finally:
            done.set()
            poller.join()
        assert read_counts(reader) == new

    assert len(during_build) == len(developments)
    assert set(during_build) == {old}
    assert polled and set(polled) <= {old, new}


def test_commands_recorded_while_the_fresh_tables_fill_are_kept(transactional_db, curator, editor):
    developments = [published_development(curator, editor, slug=f"development-{n}") for n in range(3)]
    late: list[Exception] = []

    def retract_meanwhile() -> None:
        try:
            commands.retract_development(developments[0], "Not supported by the source", actor=editor)
        except Exception as error:  # reported by the test
            late.append(error)
        finally:
            connection.close()

    def on_progress(_: int) -> None:
        if not hasattr(on_progress, "ran"):
            on_progress.ran = True  # type: ignore[attr-defined]
            writer = threading.Thread(target=retract_meanwhile)
            writer.start()
            writer.join()  # committed while the rebuild is still reading the log

    developments_rebuilt, events = projections.rebuild(batch_size=1, on_progress=on_progress)
    assert late == []
    assert (developments_rebuilt, events) == (3, 10)
    assert PublicDevelopment.objects.get(id=developments[0]).status == PublicStatus.RETRACTED
    after = projections.read_model_snapshot()
    projections.rebuild()
    assert projections.read_model_snapshot() == after


def test_a_process_whose_statements_are_prepared_records_into_the_swapped_in_tables(transactional_db, curator, editor):
    """Commands prepare their busiest statements on each connection; a rebuild replaces the
    tables those statements name while a web or worker process keeps its connection."""
    on_its_connection, rebuild_done = threading.Event(), threading.Event()
    prepared_before: list[int] = []
    recorded: list = []
    failed: list[Exception] = []

    def long_lived_process() -> None:
        try:
            for n in range(4):  # each statement runs often enough to be prepared
                published_development(curator, editor, slug=f"before-{n}")
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_prepared_statements")
                prepared_before.append(cursor.fetchone()[0])
            on_its_connection.set()
            rebuild_done.wait(30)
            recorded.append(published_development(curator, editor, slug="after-the-rebuild"))
        except Exception as error:  # reported by the test
            failed.append(error)
        finally:
            on_its_connection.set()  # also when it failed before getting there
            connection.close()

    process = threading.Thread(target=long_lived_process)
    process.start()
    on_its_connection.wait(30)
    projections.rebuild()
    rebuild_done.set()
    process.join()

    assert failed == []
    assert prepared_before[0] > 0
    assert PublicDevelopment.objects.filter(id=recorded[0]).exists()
    after = projections.read_model_snapshot()
    projections.rebuild()
    assert projections.read_model_snapshot() == after


CATALOG = """
SELECT c.relname, 'index', i.relnamespace::regnamespace::text, i.relname, pg_get_indexdef(i.oid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
WHERE c.relname = ANY(%(tables)s)
UNION ALL
SELECT c.relname, 'constraint', '', k.conname, pg_get_constraintdef(k.oid) || ' ' || k.convalidated::text
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid WHERE c.relname = ANY(%(tables)s)
UNION ALL
SELECT c.relname, 'sequence', s.relnamespace::regnamespace::text, s.relname, ''
FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' JOIN pg_class c ON c.oid = d.refobjid
WHERE c.relname = ANY(%(tables)s)
ORDER BY 1, 2, 4
"""


def catalog() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(CATALOG, {"tables": TABLES})
        return cursor.fetchall()


def test_the_swapped_in_tables_keep_every_index_constraint_and_name(transactional_db, curator, editor):
    published_development(curator, editor, slug="before-the-rebuild", countries=["BY", "CN"])
    before = catalog()
    projections.rebuild()
    assert catalog() == before
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", [projections.SHADOW_SCHEMA])
        assert cursor.fetchone() == (0,)
    # The tables take new rows as before (identity columns, foreign keys).
    published_development(curator, editor, slug="after-the-rebuild", countries=["BY", "RU"])
    assert PublicDevelopment.objects.get(slug="after-the-rebuild").country_rows.count() == 2


def test_a_reader_holding_the_read_models_delays_the_swap_and_a_reader_that_never_lets_go_stops_it(
    transactional_db, curator, editor, monkeypatch
):
    published_development(curator, editor)
    inline = projections.read_model_snapshot()
    url = shared_database_url().replace("postgres://", "postgresql://")
    with psycopg.connect(url) as reader:
        reader.execute("SELECT count(*) FROM developments_publiccountry")  # holds the table until it commits
        threading.Timer(1.5, reader.commit).start()
        projections.rebuild()  # waits, gives way, tries again
    assert projections.read_model_snapshot() == inline

    monkeypatch.setattr(projections, "SWAP_ATTEMPTS", 2)
    PublicDevelopment.objects.all().delete()  # old read models a rebuild would change
    with psycopg.connect(url) as reader:
        reader.execute("SELECT count(*) FROM developments_publiccountry")
        with pytest.raises(OperationalError, match="nothing was changed"):
            projections.rebuild()
    assert not PublicDevelopment.objects.exists()
    assert DevelopmentRecord.objects.count() == 1
