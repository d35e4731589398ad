"""Statements sent straight through libpq: one transaction per pipeline, prepared once per
connection, prepared again when something unprepared them, and errors as Django's."""

import pytest
from django.db import IntegrityError, connection, transaction

from chronicle import libpq
from chronicle.libpq import Statement

pytestmark = pytest.mark.postgres

INSERT = Statement("INSERT INTO libpq_probe (n) VALUES (%s::int) RETURNING n", ["1"])


@pytest.fixture
def probe(transactional_db):
    """An empty table of numbers for these tests."""
    libpq.commit_together([Statement("CREATE TABLE libpq_probe (n int PRIMARY KEY)")])
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE libpq_probe")


def probe_rows() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT n FROM libpq_probe ORDER BY n")
        return [n for (n,) in cursor.fetchall()]


def test_statements_sent_together_commit_together_or_not_at_all(probe):
    assert libpq.commit_together([INSERT, Statement("SELECT %s::int * 2", ["21"])]) == [[(1,)], [(42,)]]

    with pytest.raises(IntegrityError):  # the second insert of 2 fails: the first of 2 goes with it
        libpq.commit_together([Statement(INSERT.sql, ["2"]), Statement(INSERT.sql, ["3"]), INSERT])

    assert probe_rows() == [1]
    assert libpq.fetch(Statement(INSERT.sql, ["4"])) == [(4,)]  # the connection goes on
    assert probe_rows() == [1, 4]


def test_statements_unprepared_behind_its_back_are_prepared_again(probe):
    libpq.fetch(INSERT)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # as psycopg does after a rollback

    assert libpq.fetch(Statement(INSERT.sql, ["2"])) == [(2,)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'chronicle_%%'")
        assert cursor.fetchone()[0] >= 1


def test_inside_a_transaction_a_statement_goes_with_it(probe):
    with transaction.atomic():
        libpq.fetch(INSERT)
        assert libpq.fetch(Statement("SELECT count(*) FROM libpq_probe")) == [(1,)]  # its own write, uncommitted
        transaction.set_rollback(True)
        with pytest.raises(RuntimeError, match="outside any other"):
            libpq.commit_together([INSERT])
    assert probe_rows() == []
