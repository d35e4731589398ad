"""Real services for integration tests: a Celery worker process, an SMTP server and a headless browser."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from email import message_from_bytes
from pathlib import Path

import redis
from django.db import connection
from kombu import pools

ROOT = Path(__file__).resolve().parents[1]
TEST_REDIS_DB = int(os.environ.get("CHRONICLE_TEST_REDIS_DB", "9"))
TEST_BROKER_URL = f"redis://127.0.0.1:6379/{TEST_REDIS_DB}"
ARTIFACTS = Path(os.environ.get("CHRONICLE_ARTIFACTS", ROOT / "artifacts"))


def shared_database_url() -> str:
    """The URL of the database this test runs on, for processes the test starts."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings["USER"] or "postgres"
    return f"postgres://{user}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"


def tail_the_log(processes, expected: int) -> list[int]:
    """Positions a reader of the change stream sees while `processes` write, in the order it
    sees them: until `expected` were seen or, once the writers are done, for 30 s more (an
    event turns visible once every older transaction on the server has finished)."""
    from chronicle.eventstore import store

    seen: list[int] = []
    cursor, deadline = 0, None
    while len(seen) < expected and (deadline is None or time.monotonic() < deadline):
        if deadline is None and all(process.poll() is not None for process in processes):
            deadline = time.monotonic() + 30
        page = store.read_after(cursor, limit=50)
        seen += [event.position for event in page]
        if page:
            cursor = page[-1].position
    return seen


def wait_for(condition, timeout: float, explain, *, interval: float = 0.1) -> None:
    """Poll `condition` every `interval` seconds until it holds; after `timeout` seconds fail
    with `explain()`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(explain())


class CeleryWorker:
    """A real `celery worker` process on Redis, sharing the test database."""

    def __init__(self, log_path: Path, env: dict[str, str], app: str = "config") -> None:
        self.log_path = log_path
        self.env = env
        self.app = app  # the module holding the Celery app: a test may wrap config's
        self.process: subprocess.Popen | None = None

    def start(self, *, beat: bool = False, timeout: float = 30) -> CeleryWorker:
        command = [sys.executable, "-m", "celery", "-A", self.app, "worker", "--pool=solo", "--loglevel=INFO"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        if beat:
            command += ["--beat", "--schedule", str(self.log_path.with_suffix(".schedule"))]
        self.log = self.log_path.open("a")
        offset = self.log_path.stat().st_size
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)

        def ready() -> bool:
            with self.log_path.open() as log:
                log.seek(offset)  # this start's lines only: the log may hold an earlier worker's
                return " ready." in log.read()

        def not_started() -> str:
            return f"The Celery worker did not start:\n{self.output()}"

        # A worker that exited will never be ready: stop waiting at once.
        wait_for(lambda: ready() or self.process.poll() is not None, timeout, not_started)
        if not ready():
            raise AssertionError(not_started())
        return self

    def kill(self) -> None:
        """Kill the worker at once (SIGKILL), the way a crash or an OOM kill would."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "log", None):
            self.log.close()

    def output(self) -> str:
        return self.log_path.read_text()


def worker_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    from django.conf import settings

    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": shared_database_url(),
            "CELERY_BROKER_URL": TEST_BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CHRONICLE_VAR_DIR": str(settings.VAR_DIR),
            "FEEDS_ROOT": str(settings.FEEDS_ROOT),
            "SITE_URL": settings.SITE_URL,
        }
    )
    env.update(extra or {})
    return env


def reset_connections(app) -> None:
    """Drop the app's broker connections so the next send uses the current broker_url."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    # kombu keeps producer pools per connection in a global registry; drop them too, or
    # the next test's send finds a pool whose connections were closed above.
    pools.reset()


class RecordingHandler:
    """Records each accepted message; can stall one RCPT so a worker is caught mid-send."""

    def __init__(self) -> None:
        self.accepted: list[tuple[str, str]] = []
        self.messages: list = []
        self.recipients_seen = 0
        self.stall_at: int | None = None
        self.stalled = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.recipients_seen += 1
        if self.recipients_seen == self.stall_at:
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content)
        self.accepted.append((envelope.rcpt_tos[0], message["Message-ID"]))
        self.messages.append(message)
        return "250 Message accepted for delivery"


def flush_test_broker() -> None:
    redis.Redis.from_url(TEST_BROKER_URL).flushdb()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
