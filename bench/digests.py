"""Benchmark one digest pass against sending the same messages raw.

    /work/main/.venv/bin/python bench/digests.py [--subscribers 5000] [--small 500] [--developments 200] [--profile]

Creates the scratch PostgreSQL database chronicle_bench_digests (dropped at the end),
publishes the developments through the command layer, adds confirmed subscribers with
varied scopes, and starts an aiosmtpd sink in its own process on loopback. Then:

1. a pass for the small group and one for the large group, each in a fresh process
   (messages/s and the process's peak RSS);
2. the large pass's messages, read back from the sink and held in memory, sent again
   over one SMTP connection with smtplib: the raw rate, measured in the same run;
3. with --trace, both passes again under tracemalloc (the peak of Python allocations
   during the pass; several times slower);
4. with --profile, the large pass again under cProfile: where its time goes.

Targets (the issue): pass rate >= 0.5x the raw rate; peak memory at the large size
<= 1.5x that at the small size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import smtplib
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import read_messages, run_sink

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "chronicle_bench_digests"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
COUNTRIES = ["BY", "CN", "RU", "KZ", "UZ", "AM", "KG", "VN"]
TOPICS = ["5g", "ict-policy", "industrial-parks", "iptv", "ai", "education", "smart-cities", "cybersecurity", "postal"]
DAY = date(2030, 1, 1)


def setup_django(email_url: str | None = None) -> None:
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.setdefault("CHRONICLE_VAR_DIR", tempfile.gettempdir() + "/chronicle-bench-digests")
    if email_url:
        os.environ["EMAIL_URL"] = email_url
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as connection:
        connection.execute(statement)


# -- data ----------------------------------------------------------------------------------


def populate(developments: int, large: int, small: int) -> None:
    from django.core.management import call_command

    from chronicle.developments import commands
    from chronicle.digests.models import Subscriber, SubscriberState
    from tests.factories import content_data

    call_command("migrate", verbosity=0)
    rng = random.Random(7)
    importer = commands.system_user("chronicle-bench")
    for number in range(developments):
        content = content_data(
            title=f"Development {number}: {rng.choice(['Treaty', 'Memorandum', 'Test'])} on cooperation & trade",
            topics=rng.sample(TOPICS, rng.randint(1, 2)),
            countries=rng.sample(COUNTRIES, rng.randint(1, 3)),
        )
        outcome = commands.draft_development(content, actor=importer, slug=f"development-{number}", origin="fixture")
        commands.submit_development(outcome.development_id, actor=importer, origin="fixture")
        commands.publish_development(outcome.development_id, actor=importer, origin="fixture")

    def scope() -> dict:
        roll = rng.random()
        topics = rng.sample(TOPICS, rng.randint(1, 3)) if 0.1 <= roll < 0.5 or roll >= 0.8 else []
        countries = rng.sample(COUNTRIES, rng.randint(1, 2)) if roll >= 0.5 else []
        return {"topics": topics, "countries": countries}

    rows = [
        Subscriber(
            email=f"{frequency}-{number}@example.org",
            frequency=frequency,
            state=SubscriberState.CONFIRMED,
            high_water=0,
            **scope(),
        )
        for frequency, count in (("daily", large), ("weekly", small))
        for number in range(count)
    ]
    Subscriber.objects.bulk_create(rows, batch_size=2000)


def reset_ledger() -> None:
    from chronicle.digests.models import Digest, Subscriber

    Digest.objects.all().delete()
    Subscriber.objects.update(high_water=0, last_digest_at=None)


# -- one pass (its own process) ------------------------------------------------------------


def run_pass(frequency: str, port: int, trace: bool, profile: bool) -> None:
    setup_django(f"smtp://127.0.0.1:{port}")
    import cProfile
    import pstats
    import tracemalloc

    from chronicle.digests import delivery

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    if profile:
        profiler.enable()
    _, tally = delivery.run_pass(frequency, DAY)
    profiler.disable()
    elapsed = time.perf_counter() - started
    if profile:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    result = {
        "sent": tally.sent,
        "nothing_new": tally.nothing_new,
        "failed": tally.failed + len(tally.retry),
        "seconds": elapsed,
        "rss_before_kb": rss_before,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    if trace:
        result["traced_peak_bytes"] = tracemalloc.get_traced_memory()[1]
    print(json.dumps(result))


def child_pass(frequency: str, port: int, *, trace: bool = False, profile: bool = False) -> dict:
    command = [sys.executable, __file__, "pass", frequency, str(port)]
    command += (["--trace"] if trace else []) + (["--profile"] if profile else [])
    output = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    *profiled, result = output.strip().splitlines()
    if profile:
        print("\n".join(profiled))
    return json.loads(result)


def send_raw(messages, port: int) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for mail_from, rcpt_tos, content in messages:
            connection.sendmail(mail_from, rcpt_tos, content)
    return time.perf_counter() - started


# -- main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=5_000)
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--developments", type=int, default=200)
    parser.add_argument("--trace", action="store_true", help="also run both passes under tracemalloc (slow)")
    parser.add_argument("--profile", action="store_true", help="also run the large pass under cProfile")
    options = parser.parse_args()

    admin_sql(f"DROP DATABASE IF EXISTS {DATABASE}")
    admin_sql(f"CREATE DATABASE {DATABASE}")
    sink = None
    try:
        setup_django()
        started = time.perf_counter()
        populate(options.developments, options.subscribers, options.small)
        print(
            f"Set up {options.developments} developments, {options.subscribers} + {options.small} subscribers "
            f"in {time.perf_counter() - started:.1f} s"
        )
        from django.db import connection

        connection.close()

        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        record = Path(tempfile.mkdtemp(prefix="digest-sink-")) / "messages"
        sink = subprocess.Popen(
            [sys.executable, __file__, "sink", str(port), str(record)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert sink.stdout.readline().strip() == "ready"

        def rate(result: dict) -> float:
            return result["sent"] / result["seconds"]

        def report(count: int, result: dict) -> None:
            print(
                f"{count:>6} subscribers: {result['sent']} sent, {result['nothing_new']} with nothing new, "
                f"{result['failed']} failed in {result['seconds']:.1f} s = {rate(result):.0f} messages/s; "
                f"peak RSS {result['peak_rss_kb'] / 1024:.1f} MiB ({result['rss_before_kb'] / 1024:.1f} before)",
                flush=True,
            )

        small = child_pass("weekly", port)
        report(options.small, small)
        start = record.stat().st_size
        large = child_pass("daily", port)
        report(options.subscribers, large)
        end = record.stat().st_size
        messages = read_messages(record, start, end)
        raw_seconds = send_raw(messages, port)
        print(f"Messages in the large pass: {len(messages)}, {(end - start) / len(messages) / 1024:.1f} KiB on average")
        del messages
        record.unlink()

        raw_rate = large["sent"] / raw_seconds
        print(f"Raw pre-rendered, one SMTP connection: {raw_rate:.0f} messages/s")
        print(f"Pass rate / raw rate: {rate(large) / raw_rate:.2f}x (target >= 0.5x)")
        print(
            f"Peak RSS {options.subscribers} / {options.small}: {large['peak_rss_kb'] / small['peak_rss_kb']:.2f}x "
            f"(target <= 1.5x)"
        )
        if options.trace:
            reset_ledger()
            connection.close()
            small_traced = child_pass("weekly", port, trace=True)
            large_traced = child_pass("daily", port, trace=True)
            print(
                f"Peak traced Python memory during the pass: {small_traced['traced_peak_bytes'] / 2**20:.1f} MiB at "
                f"{options.small}, {large_traced['traced_peak_bytes'] / 2**20:.1f} MiB at {options.subscribers}: "
                f"{large_traced['traced_peak_bytes'] / small_traced['traced_peak_bytes']:.2f}x (target <= 1.5x)"
            )
        if options.profile:
            reset_ledger()
            connection.close()
            profiled = child_pass("daily", port, profile=True)
            print(f"Under cProfile: {rate(profiled):.0f} messages/s")
    finally:
        if sink is not None:
            sink.stdin.close()
            sink.wait(10)
        from django.db import connections

        connections.close_all()
        admin_sql(f"DROP DATABASE IF EXISTS {DATABASE}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "sink":
        run_sink(int(sys.argv[2]), Path(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "pass":
        run_pass(sys.argv[2], int(sys.argv[3]), trace="--trace" in sys.argv, profile="--profile" in sys.argv)
    else:
        main()
