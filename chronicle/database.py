"""When the database is out of reach (down, restarting, unreachable): how to tell, what to say;
and the cursor for the statements busy paths run again and again.

Django checks its connection only between requests, so a long-lived process (a Celery
worker, an import) could go on using a dead one; `unreachable()` drops it so the next
query reconnects. Web requests that hit an outage get a 503 that says nothing was
saved, instead of a server error.
"""

from __future__ import annotations

import psycopg
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse
from django.template.loader import render_to_string

from chronicle.domain.errors import DomainError
from chronicle.errors import error_response

NOTHING_RECORDED = "The database is unavailable; nothing was recorded. Try again in a moment."
OUTCOME_UNKNOWN = (
    "The connection to the database was lost while saving, so this may or may not have been recorded. "
    "Reload the development to check before trying again."
)
NOTHING_SAVED = "Chronicle cannot reach its database right now, so nothing was saved. Try again in a minute."
RETRY_AFTER_SECONDS = 30


class DatabaseUnavailable(DomainError):
    """The database could not be reached, or the connection was lost during a command.

    `recorded` is False when nothing was written, None when the connection was lost while
    the transaction was committing, so the command may or may not have been recorded.
    """

    def __init__(self, *, recorded: bool | None) -> None:
        super().__init__(NOTHING_RECORDED if recorded is False else OUTCOME_UNKNOWN)
        self.recorded = recorded


def unreachable() -> bool:
    """After a database error: whether the connection itself is gone, rather than one statement
    having failed. A dead connection is closed, so the next query opens a fresh one."""
    if connection.connection is None:  # never opened, or dropped after a failed rollback
        return True
    if connection.is_usable():
        return False
    if not connection.in_atomic_block:  # inside one, the outermost block closes it on exit
        connection.close()
    return True


class DatabaseUnavailableMiddleware:
    """A clear 503 ("nothing was saved, try again") when a view finds the database out of reach."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return unavailable_response(request, exception)


def unavailable_response(request, exception: Exception) -> HttpResponse | None:
    """The 503 for an exception that means the database is out of reach; None for any other."""
    if isinstance(exception, DatabaseUnavailable):
        message = exception.message
    elif isinstance(exception, OperationalError | InterfaceError) and unreachable():
        message = NOTHING_SAVED
    else:
        return None
    if request.path_info.startswith("/api/"):
        response = error_response(503, "database_unavailable", message)
    else:
        # No request context: its processors would query the database for the user.
        response = HttpResponse(render_to_string("database_unavailable.html", {"message": message}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def prepared_cursor():
    """A cursor for the statements that imports, digests and commands inside a transaction
    run again and again (commands on their own go through `chronicle.libpq`).

    Django's PostgreSQL cursors put the parameters into the statement's text, so the server
    parses and plans every statement anew: half its time on a command's statements. This
    one sends them apart, so psycopg prepares a statement once it has run a few times on a
    connection (OPTIONS["prepare_threshold"]) and the server plans it once. Otherwise it is
    Django's cursor: the same error translation, query logging and execute wrappers."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    binding = psycopg.Cursor(connection.connection)
    return connection.make_debug_cursor(binding) if connection.queries_logged else connection.make_cursor(binding)
