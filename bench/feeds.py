"""Feed benchmark: publish-to-feed latency with a real worker, and regeneration time at 1 k
and 100 k developments, in one run on a scratch PostgreSQL database (created and dropped).

    python bench/feeds.py [--publications 200] [--small 1000] [--large 100000]

1. Fills the log with `--small` published developments (bulk `store.append`, then
   `projections.rebuild()`), and times regenerating the "all", one country's and one
   topic's feed (fastest and median of 15 runs, files rewritten each time).
2. Starts a real Celery worker on Redis and publishes `--publications` developments one by
   one through the command layer; for each, measures from its commit until the "all" Atom
   file contains it, and until every affected feed does. Prints p50 / p99.
3. Grows the log to `--large` developments and times the same regenerations again; prints
   the large / small ratio.

Targets (issue 6): p99 < 2 s; large / small regeneration ratio < 2.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import drop_database, recreate_database  # noqa: E402

DATABASE = "chronicle_bench_feeds"
REDIS_DB = os.environ.get("CHRONICLE_TEST_REDIS_DB", "11")
COUNTRIES = ["BY", "CN", "RU", "KZ", "AM", "UZ", "VN", "RS", "IR", "CU"]
TOPICS = ["5g", "ict-policy", "industrial-parks", "ai", "education", "smart-cities", "cybersecurity", "trade"]
FEEDS = ["all", "countries/by", "topics/5g"]


def content(index: int, rng: random.Random) -> dict:
    return {
        "title": f"Development {index}: operators sign a cooperation memorandum",
        "summary": "Beltelecom and Huawei agreed to extend the 5G test network to three more regions.",
        "kind": "memorandum",
        "stage": "signed",
        "date": f"{rng.randint(1992, 2024)}-{rng.randint(1, 12):02d}",
        "countries": rng.sample(COUNTRIES, 2),
        "topics": rng.sample(TOPICS, 2),
        "actors": [{"name": "Beltelecom", "role": "operator"}, {"name": "Huawei", "role": "supplier"}],
        "sources": [{"title": "Press release", "publisher": "Beltelecom", "url": "https://example.org/press"}],
    }


def fill(start: int, stop: int, actor_id: str) -> None:
    """Append drafted/submitted/published streams in bulk, then rebuild the read models."""
    from django.db import connection, transaction

    from chronicle.developments import projections
    from chronicle.eventstore import store

    rng = random.Random(start)
    metadata = {"actor": {"id": actor_id, "username": "bench"}, "origin": "command"}
    for batch in range(start, stop, 2000):
        with transaction.atomic():
            for index in range(batch, min(batch + 2000, stop)):
                events = [
                    store.NewEvent("development.drafted", {"slug": f"bench-{index}", "content": content(index, rng)}),
                    store.NewEvent("development.submitted", {}),
                    store.NewEvent("development.published", {}),
                ]
                store.append(uuid.uuid4(), 0, events, metadata)
    projections.rebuild()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def regeneration_times(feeds_root: Path, runs: int = 15) -> dict[str, tuple[float, float]]:
    """Feed path → (fastest, median) seconds; the fastest is the least disturbed by other load."""
    from chronicle.feeds import publishing

    gc.collect()
    publishing.regenerate("all")  # templates loaded and cached before the clock starts
    times = {}
    for path in FEEDS:
        samples = []
        for _ in range(runs):
            for file in feeds_root.glob(f"{path}.*"):
                file.unlink()
            started = time.perf_counter()
            publishing.regenerate(path)
            samples.append(time.perf_counter() - started)
        times[path] = min(samples), statistics.median(samples)
    return times


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    time.sleep(4)
    if worker.poll() is not None:
        raise SystemExit(f"The worker did not start:\n{log.read_text()}")
    return worker


def wait_for(files: list[Path], needle: str, timeout: float = 30) -> list[float]:
    """Monotonic time at which each file first contains `needle`."""
    seen: dict[Path, float] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < len(files):
        for file in files:
            if file not in seen:
                try:
                    if needle in file.read_text():
                        seen[file] = time.monotonic()
                except FileNotFoundError:
                    pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{needle} did not reach {set(files) - set(seen)} within {timeout} s")
        time.sleep(0.002)
    return [seen[file] for file in files]


def publication_latencies(count: int, feeds_root: Path, editor) -> tuple[list[float], list[float]]:
    from django.db import transaction

    from chronicle.developments import commands

    rng = random.Random(7)
    to_all, to_every = [], []
    for index in range(count):
        data = content(10_000_000 + index, rng)
        outcome = commands.draft_development(data, actor=editor, slug=f"latency-{index}", origin="command")
        commands.submit_development(outcome.development_id, actor=editor, origin="command")
        committed = []
        with transaction.atomic():
            # Registered first, so it runs at commit, before the feeds are queued.
            transaction.on_commit(lambda committed=committed: committed.append(time.monotonic()))
            commands.publish_development(outcome.development_id, actor=editor, origin="command")
        paths = (
            ["all"] + [f"countries/{c.lower()}" for c in data["countries"]] + [f"topics/{t}" for t in data["topics"]]
        )
        arrivals = wait_for([feeds_root / f"{path}.atom" for path in paths], f"urn:uuid:{outcome.development_id}")
        to_all.append(arrivals[0] - committed[0])
        to_every.append(max(arrivals) - committed[0])
        time.sleep(rng.uniform(0, 0.05))
    return to_all, to_every


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--publications", type=int, default=200)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="chronicle-bench-feeds-"))
    url = recreate_database(DATABASE)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "CHRONICLE_VAR_DIR": str(scratch),
        "FEEDS_ROOT": str(scratch / "feeds"),
        # Production-like: with DEBUG on, Django keeps every query in memory.
        "DEBUG": "false",
        "SECRET_KEY": "benchmark-only",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    os.environ.update(env)
    worker = None
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        import redis
        from django.contrib.auth.models import Permission

        from chronicle.developments import commands
        from chronicle.feeds import publishing

        redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()
        editor = commands.system_user("bench-editor")
        editor.user_permissions.set(Permission.objects.filter(content_type__app_label="developments"))
        feeds_root = scratch / "feeds"

        print(f"Filling {args.small} developments …", flush=True)
        fill(0, args.small, str(editor.pk))
        publishing.publish_all()
        small = regeneration_times(feeds_root)

        worker = start_worker(env, scratch / "worker.log")
        print(f"Publishing {args.publications} developments through the command layer, one by one …", flush=True)
        to_all, to_every = publication_latencies(args.publications, feeds_root, editor)
        worker.terminate()
        worker.wait(15)
        worker = None
        for label, values in (("all.atom", to_all), ("every affected feed", to_every)):
            print(
                f"  commit → {label:<20} p50 {percentile(values, 0.5) * 1000:7.1f} ms"
                f"   p99 {percentile(values, 0.99) * 1000:7.1f} ms   max {max(values) * 1000:7.1f} ms"
            )

        print(f"Growing to {args.large} developments …", flush=True)
        fill(args.small, args.large, str(editor.pk))
        large = regeneration_times(feeds_root)
        print(f"Regenerating one feed (3 files), fastest / median of 15: {args.small} vs {args.large} developments")
        for path in FEEDS:
            (small_min, small_median), (large_min, large_median) = small[path], large[path]
            print(
                f"  {path:<14} {small_min * 1000:6.1f} / {small_median * 1000:6.1f} ms"
                f"   {large_min * 1000:6.1f} / {large_median * 1000:6.1f} ms"
                f"   ratio {large_min / small_min:.2f} / {large_median / small_median:.2f}"
            )
    finally:
        if worker is not None:
            worker.kill()
        from django.db import connections

        connections.close_all()
        drop_database(DATABASE)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
