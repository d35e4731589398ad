"""Statements sent straight through libpq (`psycopg.pq`), for the write path of commands.

A command takes at most two round trips: its development's state, then its writes, which
the pipeline's sync commits. Through psycopg's cursors and pipeline each statement costs
some 40 µs of Python, more than the server spends on most of a command's statements. Here
each statement is prepared once per connection and sent with libpq's own calls, and rows
are read with psycopg's compiled loaders, so the same connection, adapters and errors
serve both paths. Errors are raised as Django's, with psycopg's as their cause; Django's execute
wrappers do not see these statements.
"""

from __future__ import annotations

import re
import select
import time
from collections.abc import Sequence
from typing import NamedTuple
from weakref import WeakKeyDictionary

import psycopg
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from psycopg import pq
from psycopg.adapt import Transformer

from chronicle import database


class Statement(NamedTuple):
    """SQL with %s placeholders (as for a cursor) and its parameters, each as text that
    PostgreSQL reads as the placeholder's type, or None for NULL."""

    sql: str
    params: Sequence[str | None] = ()


class _Session:
    """What this module keeps per connection: the name each statement was prepared under
    (and how many were), the loader that reads rows with the connection's adapters, and
    whether the last pipeline's sync went out."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.names: dict[str, bytes] = {}
        self.prepared = 0  # names are never reused: one may outlive our knowing of it
        self.loader = Transformer(conn)
        self.sync_sent = False


_sessions: WeakKeyDictionary[psycopg.Connection, _Session] = WeakKeyDictionary()


def fetch(statement: Statement) -> list[tuple]:
    """Run one statement and return its rows. On PostgreSQL outside a transaction it goes
    straight through libpq, as a transaction of its own; otherwise through a Django cursor,
    in the transaction that is open."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql" or db.in_atomic_block:
        # Inside a transaction psycopg's rollback of a savepoint would unprepare these statements unseen.
        with database.prepared_cursor() as cursor:
            cursor.execute(statement.sql, statement.params)
            return cursor.fetchall() if cursor.description else []
    return _run_together(_session(db), statements=[statement])[0]


def commit_together(statements: Sequence[Statement]) -> list[list[tuple]]:
    """Run `statements` in order as one transaction, outside any other, and return each one's
    rows. They travel in one pipeline, and its sync commits them: one round trip. If one
    fails, nothing is committed and its error is raised. If the connection is lost, raises
    DatabaseUnavailable, saying whether the transaction may have committed."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.in_atomic_block:
        raise RuntimeError("commit_together runs its statements as a transaction of their own, outside any other.")
    session = None
    try:
        session = _session(db)
        return _run_together(session, statements)
    except (OperationalError, InterfaceError) as error:
        if not database.unreachable():
            raise
        raise database.DatabaseUnavailable(recorded=None if session and session.sync_sent else False) from error


def _session(db) -> _Session:
    db.ensure_connection()
    db.validate_thread_sharing()
    session = _sessions.get(db.connection)
    if session is None:
        session = _sessions[db.connection] = _Session(db.connection)
    return session


def _run_together(session: _Session, statements: Sequence[Statement]) -> list[list[tuple]]:
    db = connections[DEFAULT_DB_ALIAS]
    start = time.monotonic()
    try:
        with db.wrap_database_errors, session.conn.lock:
            answers = _pipeline(session, statements)
            if any(answer.error_field(pq.DiagnosticField.SQLSTATE) == UNPREPARED for answer in answers):
                # psycopg deallocates every prepared statement after a rollback: prepare them again.
                session.names.clear()
                answers = _pipeline(session, statements)
            for answer in answers:  # the first failure is the cause; the statements after it were skipped
                if answer.status == pq.ExecStatus.FATAL_ERROR:
                    raise psycopg.errors.error_from_result(answer, encoding=session.conn.info.encoding)
            return [_rows(session, answer) for answer in answers]
    except BaseException:
        pgconn = session.conn.pgconn
        if pgconn.pipeline_status != pq.PipelineStatus.OFF or pgconn.transaction_status == pq.TransactionStatus.ACTIVE:
            db.close()  # interrupted or lost with answers still due: the connection cannot be used again
        raise
    finally:
        if db.queries_logged:
            duration = f"{time.monotonic() - start:.3f}"
            db.queries_log.extend({"sql": statement.sql, "time": duration} for statement in statements)


UNPREPARED = b"26000"  # invalid_sql_statement_name: no statement was prepared under this name


def _pipeline(session: _Session, statements: Sequence[Statement]) -> list[pq.abc.PGresult]:
    """Send `statements`, preparing those new to the connection, and a sync; return their
    answers (for one whose preparing failed, that failure)."""
    pgconn = session.conn.pgconn
    session.sync_sent = False
    new: dict[str, bytes] = {}  # prepared in this pipeline
    sent: list[str | None] = []  # per statement: its SQL if it was prepared just before it
    pgconn.enter_pipeline_mode()
    for statement in statements:
        name = session.names.get(statement.sql) or new.get(statement.sql)
        sent.append(None if name else statement.sql)
        if name is None:
            session.prepared += 1
            name = new[statement.sql] = f"chronicle_{session.prepared}".encode()
            pgconn.send_prepare(name, _numbered(statement.sql).encode())
        pgconn.send_query_prepared(name, _encoded(statement.params))
    pgconn.pipeline_sync()
    _flush(pgconn)  # the sync goes last: if sending fails, it did not go, and nothing was committed
    session.sync_sent = True
    answers = []
    for prepared_sql in sent:
        preparing = _statement_answer(pgconn) if prepared_sql else None
        if preparing and preparing.status == pq.ExecStatus.COMMAND_OK:
            session.names[prepared_sql] = new[prepared_sql]  # the server keeps it even if the transaction fails
        answer = _statement_answer(pgconn)
        answers.append(preparing if preparing and preparing.status == pq.ExecStatus.FATAL_ERROR else answer)
    sync = _next(pgconn)
    if sync is None or sync.status != pq.ExecStatus.PIPELINE_SYNC:
        raise psycopg.InternalError("the pipeline's sync did not answer")
    pgconn.exit_pipeline_mode()
    return answers


def _numbered(sql: str) -> str:
    """A cursor's %s placeholders as the server's $1, $2, …"""
    numbers = iter(range(1, sql.count("%s") + 1))
    return re.sub(r"%[s%]", lambda found: f"${next(numbers)}" if found[0] == "%s" else "%", sql)


def _encoded(params: Sequence[str | None]) -> list[bytes | None]:
    return [None if value is None else value.encode() for value in params]


def _flush(pgconn: pq.abc.PGconn) -> None:
    # The connection is non-blocking: what does not fit in the socket's buffer waits for it.
    while pgconn.flush():
        readable, _, _ = select.select([pgconn.socket], [pgconn.socket], [])
        if readable:
            pgconn.consume_input()


def _next(pgconn: pq.abc.PGconn) -> pq.abc.PGresult | None:
    """The next result, or None at the end of a statement's results."""
    while pgconn.is_busy():
        select.select([pgconn.socket], [], [])
        pgconn.consume_input()
    return pgconn.get_result()


def _statement_answer(pgconn: pq.abc.PGconn) -> pq.abc.PGresult:
    answer = _next(pgconn)
    if answer is None:
        raise psycopg.InternalError("a statement gave no answer")
    while _next(pgconn) is not None:
        pass
    return answer


def _rows(session: _Session, answer: pq.abc.PGresult) -> list[tuple]:
    if answer.status != pq.ExecStatus.TUPLES_OK:
        return []
    session.loader.set_pgresult(answer)
    return session.loader.load_rows(0, answer.ntuples, tuple)
