"""A private PostgreSQL server in a temporary folder, for tests that stop or restart it.

The machine's shared server is never touched: this one has its own data folder, port and
socket folder, and is stopped and deleted afterwards even when the test fails. PostgreSQL
refuses to run as root, so as root its programs run as the `postgres` user.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

BIN = Path(os.environ.get("CHRONICLE_PG_BIN", "/usr/lib/postgresql/15/bin"))
TIMEOUT = 30  # seconds any one server operation may take


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivatePostgres:
    """`with PrivatePostgres() as server:` — started, with `server.url(name)`; removed on exit."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="chronicle-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")

    def __enter__(self) -> PrivatePostgres:
        try:
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")
            self.start()
        except BaseException:
            self.destroy()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.destroy()

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        # fsync off: speed; a killed server still finds its writes in the OS cache on restart,
        # so an acknowledged commit survives an immediate stop (synchronous_commit stays on).
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("start", "-o", options, "-l", str(self.folder / "server.log"))

    def stop(self, mode: str = "fast") -> None:
        """`fast` ends sessions and stops cleanly; `immediate` kills the server like a crash."""
        self._ctl("stop", "-m", mode)

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def psql(self, sql: str) -> str:
        command = [str(BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres"]
        result = subprocess.run([*command, "-Atc", sql], capture_output=True, text=True, timeout=TIMEOUT, check=True)
        return result.stdout

    def destroy(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._ctl("stop", "-m", "immediate")
        except (subprocess.SubprocessError, OSError):
            self._kill_postmaster()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _kill_postmaster(self) -> None:
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            os.kill(pid, signal.SIGKILL)  # its children notice and exit on their own
        except (OSError, ValueError, IndexError):
            pass

    def _ctl(self, action: str, *arguments: str) -> None:
        self._run("pg_ctl", action, "-D", str(self.data), "-w", "-t", str(TIMEOUT), *arguments)

    def _run(self, program: str, *arguments: str) -> None:
        result = subprocess.run(
            [*self.as_postgres, str(BIN / program), *arguments],
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=TIMEOUT + 10,
        )
        if result.returncode != 0:
            raise subprocess.SubprocessError(f"{program} {' '.join(arguments)} failed:\n{result.stdout}{result.stderr}")
