"""Helpers shared by the benchmarks: a scratch PostgreSQL database and Django set up on it."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def database_url(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def recreate_database(name: str) -> str:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(name)


def database_exists(name: str) -> bool:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Production-like settings: with DEBUG on, Django keeps every query in memory.
BENCH_ENV = {"DEBUG": "false", "SECRET_KEY": "benchmark-only", "ALLOWED_HOSTS": "127.0.0.1,localhost"}
os.environ.update(BENCH_ENV)


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def migrate(url: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
    )


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_sink(port: int, record: Path) -> None:
    """An aiosmtpd server on loopback that appends every accepted message to `record`
    (a JSON line [from, to, size], then the message); runs until stdin closes."""
    from aiosmtpd.controller import Controller

    out = record.open("ab")

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            header = json.dumps([envelope.mail_from, envelope.rcpt_tos, len(envelope.content)]).encode()
            out.write(header + b"\n" + envelope.content)
            out.flush()
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()
    out.close()


def read_messages(record: Path, start: int = 0, end: int | None = None) -> list[tuple[str, list[str], bytes]]:
    messages = []
    end = record.stat().st_size if end is None else end
    with record.open("rb") as data:
        data.seek(start)
        while data.tell() < end:
            mail_from, rcpt_tos, size = json.loads(data.readline())
            messages.append((mail_from, rcpt_tos, data.read(size)))
    return messages


# The read models a development's events are projected into (the `developments` app's tables).
READ_MODEL_TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname LIKE 'developments\\_%'
ORDER BY c.relname
"""


def raw_copy_back(conn, tables: list[str], *, indexes_after: bool) -> tuple[int, float]:
    """The floor for writing what `tables` hold: their rows, read into memory as COPY text, are
    written back with one raw COPY each into a fresh table of the same shape (columns,
    defaults, indexes). `indexes_after`: the indexes are built once the rows are in (as a
    rebuild does), else they are there first (as for a live table). Answers the rows written
    and the seconds taken (the reading excluded); the fresh tables are dropped."""
    data = {}
    for table in tables:
        with conn.cursor() as cursor, cursor.copy(f'COPY "{table}" TO STDOUT') as copy:
            data[table] = b"".join(bytes(chunk) for chunk in copy)
    indexes = {
        table: [row[0] for row in conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])]
        for table in tables
    }
    conn.commit()
    started = time.perf_counter()
    for table in tables:
        floor = f"bench_floor_{table}"
        conn.execute(f'CREATE TABLE "{floor}" (LIKE "{table}" INCLUDING {"DEFAULTS" if indexes_after else "ALL"})')
        with conn.cursor() as cursor, cursor.copy(f'COPY "{floor}" FROM STDIN') as copy:
            copy.write(data[table])
        if indexes_after:
            for number, definition in enumerate(indexes[table]):
                index, _, rest = definition.partition(" ON ")
                words = index.split()
                words[-1] = f'"{floor}_{number}"'
                conn.execute(" ".join(words) + " ON " + rest.replace(f"public.{table} ", f'public."{floor}" ', 1))
    conn.commit()
    elapsed = time.perf_counter() - started
    for table in tables:
        conn.execute(f'DROP TABLE "bench_floor_{table}"')
    conn.commit()
    rows = sum(chunk.count(b"\n") for chunk in data.values())
    return rows, elapsed
