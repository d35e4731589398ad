"""Helpers shared by the benchmarks: a scratch PostgreSQL database and Django set up on it."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
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
