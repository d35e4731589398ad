"""Soak: everything at once for a bounded time, then check that nothing was lost.

    python bench/soak.py [--minutes 3] [--readers 4] [--subscribers 300]

On loopback only, in a scratch PostgreSQL database (created and dropped) with the seed
chronicle loaded, it starts gunicorn (2 workers), a Celery worker with beat on Redis and an
SMTP sink, then for `--minutes`:

- readers (their own process) hit the API with a partner key, the public pages and the
  feeds;
- two editorial desks publish new developments, corrections and updates, and retract a
  few, through the command layer (every publication queues its feed regenerations);
- two digest passes run (a third and two thirds of the way) and one full feed rewrite.

Then it waits for the worker to finish its queue and checks:

1. the read models equal a rebuild from the log;
2. every public event reached its feeds, and every feed file equals a fresh rendering;
3. the digest ledger matches the mail the SMTP sink received, one message per sent row;
4. the log holds exactly the events the desks were told were recorded.

It prints the load held and every error; the exit status is 1 if anything failed.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from email import message_from_bytes
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common

ROOT = common.ROOT
DATABASE = "chronicle_soak"
REDIS_DB = os.environ.get("CHRONICLE_SOAK_REDIS_DB", "14")
COUNTRIES = ["BY", "CN", "RU", "KZ", "AM", "UZ", "VN"]
TOPICS = ["5g", "ict-policy", "industrial-parks", "ai", "education", "smart-cities", "cybersecurity"]
FIRST_DIGEST_DAY = date(2030, 1, 1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else 0.0


# -- readers (their own process, no Django) ------------------------------------------------


def read_load(port: int, seconds: float, threads: int, api_key: str) -> None:
    """Print one JSON line: per kind of request, the statuses seen and the latencies."""
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    statuses: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    latencies: dict[str, list[float]] = collections.defaultdict(list)
    failures: list[str] = []

    def reader(seed: int) -> None:
        rng = random.Random(seed)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        known: list[dict] = []
        while time.monotonic() < deadline:
            kind, path, headers = pick(rng, known, api_key)
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                body = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                with lock:
                    statuses[kind]["connection error"] += 1
                    failures.append(f"{path}: {error!r}")
                continue
            elapsed = time.perf_counter() - started
            if kind == "api list" and status == 200:
                known[:] = json.loads(body)["results"] or known
            with lock:
                statuses[kind][str(status)] += 1
                latencies[kind].append(elapsed)
                if status >= 500 or status in (400, 401, 403, 429):
                    failures.append(f"{path}: {status} {body[:200]!r}")

    workers = [threading.Thread(target=reader, args=(number,)) for number in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(
        json.dumps(
            {
                "statuses": {kind: dict(counter) for kind, counter in statuses.items()},
                "latencies": {kind: [percentile(v, 0.5), percentile(v, 0.99)] for kind, v in latencies.items()},
                "failures": failures[:20],
                "failure_count": len(failures),
            }
        )
    )


def pick(rng: random.Random, known: list[dict], api_key: str) -> tuple[str, str, dict]:
    partner = {"Authorization": f"Api-Key {api_key}", "Accept": "application/json"}
    roll = rng.random()
    if roll < 0.25 or not known:
        query = f"?country={rng.choice(COUNTRIES)}&topic={rng.choice(TOPICS)}" if rng.random() < 0.5 else ""
        return "api list", f"/api/v1/developments/{query}", partner
    if roll < 0.45:
        return "api detail", f"/api/v1/developments/{rng.choice(known)['id']}/", partner
    if roll < 0.55:
        return "api events", f"/api/v1/events/?after={rng.randint(0, 200)}", partner
    if roll < 0.70:
        return "page", f"/developments/{rng.choice(known)['slug']}/", {}
    if roll < 0.80:
        return "page", "/", {}
    feed = rng.choice(["all.atom", "all.rss", "all.json", "countries/by.atom", "topics/5g.json"])
    return "feed", f"/feeds/{feed}", {}


# -- the editorial desks (threads of this process, through the command layer) -------------


class Desk(threading.Thread):
    """Publishes, corrects, updates and retracts its own developments until told to stop."""

    def __init__(self, number: int, curator, editor, interval: float, stop: threading.Event) -> None:
        super().__init__(name=f"desk-{number}")
        self.number, self.curator, self.editor = number, curator, editor
        self.interval, self.stop = interval, stop
        self.rng = random.Random(number)
        self.published: list = []
        self.actions: collections.Counter = collections.Counter()
        self.recorded_events = 0
        self.errors: list[str] = []

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.stop.is_set():
                try:
                    self.act()
                except Exception as error:
                    self.errors.append(f"{type(error).__name__}: {error}")
                self.stop.wait(self.rng.uniform(0, 2 * self.interval))
        finally:
            connection.close()

    def act(self) -> None:
        from chronicle.developments import commands

        roll = self.rng.random()
        if roll < 0.5 or len(self.published) < 3:
            self.new()
            return
        development_id = self.rng.choice(self.published)
        if roll < 0.92:
            correction = roll < 0.75
            revised = self.content(summary=f"Revised at {time.time():.3f}: the figures were checked again.")
            self.count(commands.revise_development(development_id, revised, actor=self.curator, origin="command"))
            self.count(commands.submit_development(development_id, actor=self.curator, origin="command"))
            if correction:
                outcome = commands.publish_correction(
                    development_id, "The figures were corrected.", actor=self.editor, origin="command"
                )
            else:
                outcome = commands.publish_update(
                    development_id, "A new stage was reached.", actor=self.editor, origin="command"
                )
            self.count(outcome, "correction" if correction else "update")
        else:
            self.published.remove(development_id)
            outcome = commands.retract_development(
                development_id, "Withdrawn: the source was a draft.", actor=self.editor, origin="command"
            )
            self.count(outcome, "retraction")

    def new(self) -> None:
        from chronicle.developments import commands

        index = self.actions["publication"]
        slug = f"soak-{self.number}-{index}"
        outcome = commands.draft_development(self.content(), actor=self.curator, slug=slug, origin="command")
        self.count(outcome)
        self.count(commands.submit_development(outcome.development_id, actor=self.curator, origin="command"))
        self.count(commands.publish_development(outcome.development_id, actor=self.editor, origin="command"))
        self.actions["publication"] += 1
        self.published.append(outcome.development_id)

    def content(self, **overrides) -> dict:
        from tests.factories import content_data

        return content_data(
            title=f"Desk {self.number}: {self.rng.choice(['Memorandum', 'Treaty', 'Test network'])} "
            f"on {self.rng.choice(TOPICS)} & trade",
            countries=self.rng.sample(COUNTRIES, self.rng.randint(1, 3)),
            topics=self.rng.sample(TOPICS, self.rng.randint(1, 2)),
            **overrides,
        )

    def count(self, outcome, action: str | None = None) -> None:
        self.recorded_events += len(outcome.events)
        if action:
            self.actions[action] += 1


# -- set-up and the consistency checks (Django in this process) ----------------------------


def prepare(subscribers: int) -> tuple:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from chronicle.api.models import ApiKey
    from chronicle.digests.models import Subscriber, SubscriberState

    call_command("load_chronicle", str(ROOT / "fixtures" / "seed_chronicle.json"), verbosity=0)
    User = get_user_model()
    users = []
    for username, group in (("soak-curator", "Curators"), ("soak-editor", "Editors")):
        user = User.objects.create_user(username=username, is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        users.append(User.objects.get(pk=user.pk))  # a fresh permission cache
    _, api_key = ApiKey.issue(name="soak", owner=User.objects.create_user(username="soak-partner"))
    rng = random.Random(3)
    Subscriber.objects.bulk_create(
        Subscriber(
            email=f"reader-{number}@example.org",
            frequency="daily",
            state=SubscriberState.CONFIRMED,
            topics=rng.sample(TOPICS, rng.randint(0, 2)),
            countries=rng.sample(COUNTRIES, rng.randint(0, 1)),
        )
        for number in range(subscribers)
    )
    return users[0], users[1], api_key


def queue_length(broker_url: str) -> int:
    import redis

    return redis.Redis.from_url(broker_url).llen("celery")


def drained(broker_url: str) -> bool:
    from chronicle.digests.models import Digest, DigestState

    return (
        queue_length(broker_url) == 0
        and not Digest.objects.filter(state__in=[DigestState.PENDING, DigestState.SENDING]).exists()
        and not stale_feeds()
    )


def stale_feeds() -> list[str]:
    """Feeds whose last build predates a public event that touches them."""
    from chronicle.developments.models import PublicRevision
    from chronicle.feeds import publishing

    return publishing.stale_feeds(PublicRevision.objects.all())


def check_projections() -> str | None:
    from chronicle.developments import projections

    before = projections.read_model_snapshot()
    projections.rebuild()
    after = projections.read_model_snapshot()
    differing = [table for table in before if before[table] != after[table]]
    return f"read models differ from a rebuild in {differing}" if differing else None


def check_feeds(feeds_root: Path) -> tuple[int, list[str]]:
    from chronicle.feeds import rendering
    from chronicle.feeds.catalog import every_feed

    problems = [f"feed {path} missed a public event" for path in stale_feeds()]
    files = 0
    for feed in every_feed():
        for extension, content in rendering.render(feed).items():
            file = feeds_root / f"{feed.path}.{extension}"
            files += 1
            if not file.exists() or file.read_bytes() != content:
                problems.append(f"{file.relative_to(feeds_root)} differs from a fresh rendering")
    return files, problems


def check_ledger(record: Path) -> tuple[collections.Counter, int, list[str]]:
    from chronicle.digests import delivery
    from chronicle.digests.models import Digest, DigestState

    received = collections.Counter()
    for _, recipients, content in common.read_messages(record):
        received[(message_from_bytes(content)["Message-ID"], tuple(recipients))] += 1
    states = collections.Counter(Digest.objects.values_list("state", flat=True))
    expected = {
        (delivery.message_id(row), (row.subscriber.email,))
        for row in Digest.objects.filter(state=DigestState.SENT).select_related("subscriber")
    }
    problems = [f"{key} received {count} times" for key, count in received.items() if count > 1]
    problems += [f"sent row {key} never arrived" for key in expected - set(received)]
    problems += [f"mail {key} has no sent row" for key in set(received) - expected]
    return states, sum(received.values()), problems


def check_log(recorded_by_desks: int, events_before: int) -> str | None:
    from chronicle.eventstore.models import Event

    positions = list(Event.objects.order_by("position").values_list("position", flat=True))
    appended = len(positions) - events_before
    if appended != recorded_by_desks:
        return f"the desks were told {recorded_by_desks} events were recorded, the log gained {appended}"
    if len(set(positions)) != len(positions):
        return "the log holds a position twice"
    return None


# -- main ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--readers", type=int, default=4, help="reader threads")
    parser.add_argument("--subscribers", type=int, default=300)
    parser.add_argument("--publish-interval", type=float, default=0.5, help="mean seconds between a desk's actions")
    args = parser.parse_args()
    seconds = args.minutes * 60

    scratch = Path(tempfile.mkdtemp(prefix="chronicle-soak-"))
    url = common.recreate_database(DATABASE)
    web_port, smtp_port = free_port(), free_port()
    broker_url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": broker_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "CHRONICLE_VAR_DIR": str(scratch),
        "FEEDS_ROOT": str(scratch / "feeds"),
        "SITE_URL": f"http://127.0.0.1:{web_port}",
        "SECURE_SSL_REDIRECT": "false",
        "API_RATE_PARTNER": "1000000/minute",  # the soak measures the system, not the throttle
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    processes: dict[str, subprocess.Popen] = {}
    record = scratch / "mail"
    stop = threading.Event()
    try:
        common.migrate(url)
        common.setup_django(url)
        import redis
        from django.db import connection

        from chronicle.eventstore.models import Event
        from chronicle.feeds import publishing, tasks

        redis.Redis.from_url(broker_url).flushdb()
        curator, editor, api_key = prepare(args.subscribers)
        publishing.publish_all()
        events_before = Event.objects.count()
        connection.close()
        print(f"Seeded: {events_before} events, {args.subscribers} confirmed daily subscribers.", flush=True)

        processes["sink"] = subprocess.Popen(
            [sys.executable, __file__, "sink", str(smtp_port), str(record)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert processes["sink"].stdout.readline().strip() == "ready"
        logs = {name: (scratch / f"{name}.log").open("w") for name in ("web", "worker")}
        processes["web"] = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", "2", "-b", f"127.0.0.1:{web_port}"],
            cwd=ROOT,
            env=env,
            stdout=logs["web"],
            stderr=subprocess.STDOUT,
        )
        worker = [sys.executable, "-m", "celery", "-A", "config", "worker", "--beat", "--concurrency=2"]
        worker += ["--loglevel=INFO", "--schedule", str(scratch / "beat-schedule"), "--without-gossip"]
        processes["worker"] = subprocess.Popen(
            worker, cwd=ROOT, env=env, stdout=logs["worker"], stderr=subprocess.STDOUT
        )
        wait_for_web(web_port)

        print(f"Load for {args.minutes:g} min: {args.readers} readers, 2 desks, 2 digest passes …", flush=True)
        started = time.monotonic()
        readers = subprocess.Popen(
            [sys.executable, __file__, "read", str(web_port), str(seconds), str(args.readers), api_key],
            stdout=subprocess.PIPE,
            text=True,
        )
        desks = [Desk(number, curator, editor, args.publish_interval, stop) for number in (1, 2)]
        for desk in desks:
            desk.start()
        from chronicle.digests.tasks import start_digest_pass

        passes = [(seconds / 3, FIRST_DIGEST_DAY), (2 * seconds / 3, FIRST_DIGEST_DAY + timedelta(days=1))]
        rewrite_at = seconds / 2
        while (elapsed := time.monotonic() - started) < seconds:
            if passes and elapsed >= passes[0][0]:
                start_digest_pass.delay("daily", passes.pop(0)[1].isoformat())
            if rewrite_at is not None and elapsed >= rewrite_at:
                tasks.publish_all_feeds.delay()
                rewrite_at = None
            time.sleep(0.5)
        stop.set()
        for desk in desks:
            desk.join()
        reads = json.loads(readers.communicate()[0].strip().splitlines()[-1])
        load_seconds = time.monotonic() - started

        print("Load stopped; waiting for the worker to finish its queue …", flush=True)
        drain_started = time.monotonic()
        while not drained(broker_url) and time.monotonic() - drain_started < 300:
            time.sleep(1)
        drain_seconds = time.monotonic() - drain_started
        for name in ("worker", "web"):
            processes.pop(name).terminate()

        return report(args, reads, desks, load_seconds, drain_seconds, scratch, record, events_before)
    finally:
        stop.set()
        for name, process in processes.items():
            if name == "sink":
                process.stdin.close()
            else:
                process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        from django.db import connections

        connections.close_all()
        common.drop_database(DATABASE)
        shutil.rmtree(scratch, ignore_errors=True)


def wait_for_web(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def report(args, reads, desks, load_seconds, drain_seconds, scratch, record, events_before) -> int:
    problems: list[str] = []
    print(f"\nLoad held for {load_seconds:.0f} s; the worker's queue drained {drain_seconds:.1f} s after it stopped.")
    total = sum(sum(counter.values()) for counter in reads["statuses"].values())
    print(f"Reads: {total} requests = {total / load_seconds:.0f}/s, {reads['failure_count']} failed")
    for kind, counter in sorted(reads["statuses"].items()):
        p50, p99 = reads["latencies"].get(kind, [0, 0])
        by_status = ", ".join(f"{status}: {count}" for status, count in sorted(counter.items()))
        print(f"  {kind:<11} {by_status:<32} p50 {p50 * 1000:6.1f} ms  p99 {p99 * 1000:7.1f} ms")
    problems += reads["failures"]

    actions = sum((desk.actions for desk in desks), collections.Counter())
    recorded = sum(desk.recorded_events for desk in desks)
    desk_errors = [error for desk in desks for error in desk.errors]
    print(
        f"Desks: {actions['publication']} publications, {actions['correction']} corrections, "
        f"{actions['update']} updates, {actions['retraction']} retractions = {recorded} events, "
        f"{len(desk_errors)} errors"
    )
    problems += desk_errors

    worker_log = (scratch / "worker.log").read_text()
    regenerations = sum(
        "chronicle.feeds.tasks.regenerate_feed[" in line and "succeeded" in line for line in worker_log.splitlines()
    )
    print(f"Worker: {regenerations} feed regenerations, {worker_log.count('ERROR')} errors in its log")
    if "ERROR" in worker_log:
        problems += [line for line in worker_log.splitlines() if "ERROR" in line][:10]
    web_log = (scratch / "web.log").read_text()
    if "Traceback" in web_log:
        problems.append("gunicorn logged a traceback")

    print("\nConsistency")
    problem = check_log(recorded, events_before)
    print(f"  event log holds exactly the events the desks were told were recorded: {verdict(problem)}")
    problems += [problem] if problem else []
    files, feed_problems = check_feeds(scratch / "feeds")
    print(f"  every public event reached its feeds; {files} files equal a fresh rendering: {verdict(feed_problems)}")
    problems += feed_problems
    states, mails, ledger_problems = check_ledger(record)
    ledger = ", ".join(f"{state} {count}" for state, count in sorted(states.items()))
    print(f"  digest ledger ({ledger}) matches the {mails} mails received: {verdict(ledger_problems)}")
    problems += ledger_problems
    problem = check_projections()
    print(f"  read models equal a rebuild from the log: {verdict(problem)}")
    problems += [problem] if problem else []

    for problem in problems[:30]:
        print(f"  ! {problem}")
    print(f"\n{'PASSED' if not problems else f'FAILED ({len(problems)} problems)'}")
    return 1 if problems else 0


def verdict(problem) -> str:
    return "yes" if not problem else "NO"


if __name__ == "__main__":
    if sys.argv[1:2] == ["sink"]:
        common.run_sink(int(sys.argv[2]), Path(sys.argv[3]))
    elif sys.argv[1:2] == ["read"]:
        read_load(int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(main())
