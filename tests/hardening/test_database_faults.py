"""PostgreSQL restarted or down under load, on a private server: no partial or duplicated event,
a clear error for every command and request that could not be served, recovery without a restart."""

import http.cookiejar
import json
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from chronicle import database
from chronicle.developments.commands import development_id_for
from tests.hardening.private_postgres import PrivatePostgres, free_port
from tests.services import ROOT, wait_for, worker_environment

pytestmark = pytest.mark.postgres

OK_BEFORE_RESTART = 15
OK_AFTER_RECOVERY = 15
WAIT = 30  # seconds for any one step


@pytest.fixture(scope="module")
def server():
    with PrivatePostgres() as server:
        server.psql("CREATE DATABASE chronicle")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
            cwd=ROOT,
            env=environment(server),
            check=True,
            timeout=120,
        )
        yield server


def environment(server: PrivatePostgres) -> dict[str, str]:
    return worker_environment({"DATABASE_URL": server.url("chronicle")})


class Burst:
    """A writer process drafting developments as fast as it can; its outcomes, line by line."""

    def __init__(self, server: PrivatePostgres, folder) -> None:
        self.stop_file = folder / "stop"
        self.errors = folder / "writer.err"
        with self.errors.open("w") as errors:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.hardening.writers", "burst", "burst", str(self.stop_file)],
                cwd=ROOT,
                env=environment(server),
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
        self.outcomes: list[dict] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=lambda: [self._lines.put(line) for line in self.process.stdout])
        self._reader.start()

    def until(self, condition) -> None:
        deadline = time.monotonic() + WAIT
        while not condition(self.outcomes):
            try:
                self.outcomes.append(json.loads(self._lines.get(timeout=max(0.1, deadline - time.monotonic()))))
            except queue.Empty:
                pytest.fail(f"The writer stalled; its outcomes so far: {self.outcomes[-5:]}")

    def finish(self) -> None:
        self.stop_file.touch()
        try:
            self.process.wait(WAIT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self._reader.join(WAIT)
        while not self._lines.empty():
            self.outcomes.append(json.loads(self._lines.get()))


def ok_since_last_error(outcomes: list[dict]) -> int:
    count = 0
    for outcome in reversed(outcomes):
        if not outcome["ok"]:
            break
        count += 1
    return count


def test_a_restart_during_a_burst_of_commands_records_each_success_once_and_nothing_else(server, tmp_path):
    burst = Burst(server, tmp_path)
    try:
        burst.until(lambda outcomes: len(outcomes) >= OK_BEFORE_RESTART)
        server.restart("immediate")  # like a crash: sessions die mid-command
        burst.until(lambda outcomes: any(not o["ok"] for o in outcomes))
        burst.until(lambda outcomes: ok_since_last_error(outcomes) >= OK_AFTER_RECOVERY)
    finally:
        burst.finish()
    assert burst.process.returncode == 0, burst.errors.read_text()

    failed = [outcome for outcome in burst.outcomes if not outcome["ok"]]
    assert burst.outcomes[0]["ok"] and failed
    # The same process recovered: it is still running commands, and they succeed again.
    assert ok_since_last_error(burst.outcomes) >= OK_AFTER_RECOVERY
    # Every failure says clearly what happened, in words a curator can act on.
    assert {(o["error"], o["message"]) for o in failed} <= {
        ("DatabaseUnavailable", database.NOTHING_RECORDED),
        ("DatabaseUnavailable", database.OUTCOME_UNKNOWN),
    }

    report = json.loads(
        subprocess.run(
            [sys.executable, "-m", "tests.hardening.writers", "inspect"],
            cwd=ROOT,
            env=environment(server),
            capture_output=True,
            text=True,
            check=True,
            timeout=WAIT,
        ).stdout
    )
    positions = [position for position, _, _ in report["events"]]
    versions = [(stream, version) for _, stream, version in report["events"]]
    assert len(set(positions)) == len(positions) and len(set(versions)) == len(versions)
    events_per_stream: dict[str, int] = {}
    for _, stream, _ in report["events"]:
        events_per_stream[stream] = events_per_stream.get(stream, 0) + 1

    def events_of(outcome) -> int:
        return events_per_stream.pop(str(development_id_for(outcome["slug"])), 0)

    counts = [(outcome, events_of(outcome)) for outcome in burst.outcomes]
    assert [outcome for outcome, count in counts if outcome["ok"] and count != 1] == []
    assert [outcome for outcome, count in counts if outcome.get("recorded") is False and count != 0] == []
    assert [outcome for outcome, count in counts if outcome.get("recorded") is None and count > 1] == []
    assert events_per_stream == {}  # no event from anything the writer did not attempt
    assert report["read_models_match_log"]  # each event committed with its read models, or neither


def test_during_an_outage_the_admin_and_the_api_answer_503_and_work_again_after_it(server, tmp_path):
    env = environment(server)
    env.update(DJANGO_SUPERUSER_USERNAME="olga", DJANGO_SUPERUSER_PASSWORD="correct-horse", DJANGO_SUPERUSER_EMAIL="")
    subprocess.run(
        [sys.executable, "manage.py", "createsuperuser", "--noinput"], cwd=ROOT, env=env, check=True, timeout=WAIT
    )
    port = free_port()
    log = (tmp_path / "web.log").open("w")
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", "1", "-b", f"127.0.0.1:{port}", "--timeout", "20"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        site = Site(port)
        site.wait_until_up()
        site.log_in("olga", "correct-horse")
        assert site.get("/admin/developments/developmentrecord/")[0] == 200
        assert site.get("/api/v1/developments/")[0] == 200
        reader = Site(port)  # anonymous, and its answer kept: it is served before any view runs
        assert [reader.get("/api/v1/developments/")[0] for _ in range(2)] == [200, 200]

        server.stop("fast")
        try:
            status, body = site.get("/admin/developments/developmentrecord/")
            assert (status, database.NOTHING_SAVED in body) == (503, True)
            status, body = site.post("/admin/developments/developmentrecord/add/", {"title": "Lost?"})
            assert (status, database.NOTHING_SAVED in body) == (503, True)
            for caller in (site, reader):
                status, body = caller.get("/api/v1/developments/")
                assert status == 503
                assert json.loads(body)["error"] == {
                    "code": "database_unavailable",
                    "message": database.NOTHING_SAVED,
                    "fields": {},
                }
        finally:
            server.start()

        assert site.get("/admin/developments/developmentrecord/")[0] == 200
        assert site.get("/api/v1/developments/")[0] == 200
        server.restart("fast")  # between requests: the kept connection dies unnoticed, then is replaced
        assert site.get("/admin/developments/developmentrecord/")[0] == 200
        assert web.poll() is None  # the same server process throughout
    finally:
        web.terminate()
        web.wait(WAIT)
        log.close()


class Site:
    """A logged-in browser session, as plain HTTP."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def wait_until_up(self) -> None:
        wait_for(self.is_up, WAIT, lambda: "gunicorn did not start")

    def is_up(self) -> bool:
        try:
            return self.get("/healthz")[0] == 200
        except OSError:  # not listening yet
            return False

    def get(self, path: str) -> tuple[int, str]:
        return self._open(path)

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str]:
        token = next(cookie.value for cookie in self.cookies if cookie.name == "csrftoken")
        return self._open(path, urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token}).encode())

    def log_in(self, username: str, password: str) -> None:
        status, page = self.get("/admin/login/")
        assert status == 200 and re.search(r'name="csrfmiddlewaretoken"', page)
        status, page = self.post("/admin/login/?next=/admin/", {"username": username, "password": password})
        assert status == 200 and "Log out" in page, page

    def _open(self, path: str, body: bytes | None = None) -> tuple[int, str]:
        url = self.base + path
        request = urllib.request.Request(url, data=body, headers={"Referer": url})  # noqa: S310 (loopback only)
        try:
            with self.opener.open(request, timeout=WAIT) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
