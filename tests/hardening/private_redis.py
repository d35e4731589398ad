"""A private redis-server for tests that stop the broker: never the machine's shared one."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import redis

from config.settings.environment import cache_config
from tests.services import wait_for

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """redis-server on a free port of 127.0.0.1, without persistence; stop() and start()
    again keep the port, so clients configured with `url` reconnect to the new server."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def caches(self) -> dict:
        """CACHES with Django's cache on this server, as CACHE_URL would set it."""
        return {"default": cache_config(self.url)}

    def start(self, timeout: float = 10) -> PrivateRedis:
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)]
        command += ["--save", "", "--appendonly", "no", "--logfile", str(self.folder / "redis.log")]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)

        def answers() -> bool:
            with contextlib.suppress(redis.ConnectionError):
                return client.ping()
            return False

        def not_started() -> str:
            log = self.folder / "redis.log"
            return f"redis-server did not start on port {self.port}:\n{log.read_text() if log.exists() else ''}"

        # A server that exited will never answer: stop waiting at once. (On failure,
        # private_redis() stops the server.)
        wait_for(lambda: self.process.poll() is not None or answers(), timeout, not_started)
        if self.process.poll() is not None:
            raise AssertionError(not_started())
        return self

    def stop(self) -> None:
        """Stop the server the way an outage would: gone at once, the port refusing connections."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    """A started PrivateRedis, stopped and its folder removed afterwards, even on failure."""
    folder = Path(tempfile.mkdtemp(prefix="chronicle-redis-"))
    server = PrivateRedis(folder)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
