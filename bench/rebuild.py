"""Rebuild speed and memory against a raw ordered scan of the same log.

    python bench/rebuild.py [--events 1000000]

On a scratch PostgreSQL database (created and dropped here) the log is filled by COPY with
N/10 and then N valid events (draft, revise, submit, publish per development). For each size,
in fresh processes: `projections.rebuild()` (events/s, peak RSS), and the baseline — a raw
psycopg scan of the log in position order through a server-side cursor, each event's JSON
decoded (with orjson, as Chronicle does). Prints both, their ratio, and the peak-memory ratio
N / (N/10). The floor, in the same run: the raw scan plus one raw COPY of every read-model row
the rebuild wrote into fresh tables, their indexes built after: what reading the log and writing
the same rows costs with no Python in the way.

Targets: rebuild ≥ 0.35x the raw scan; peak memory at N ≤ 1.2x that at N/10. The machine may
be shared: compare the ratios, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common
from bench.append import content

DATABASE = "chronicle_bench_rebuild"


def fill_log(url: str, developments: int) -> None:
    """COPY `developments` x 4 valid events into the log (inserts are allowed; changes are not)."""
    import psycopg

    metadata = json.dumps({"actor": {"id": "1", "username": "bench"}, "origin": "command"})
    now = datetime.now(UTC).isoformat()
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn, conn.cursor() as cursor:
        columns = "event_id, stream_id, version, type, schema_version, data, metadata, recorded_at"
        with cursor.copy(f"COPY eventstore_event ({columns}) FROM STDIN") as copy:
            for index in range(developments):
                stream = uuid.uuid4()
                events = [
                    ("development.drafted", {"slug": f"bench-{index}", "content": content("bench", index)}),
                    ("development.revised", {"content": content("bench", index, " (revised)")}),
                    ("development.submitted", {}),
                    ("development.published", {}),
                ]
                for version, (event_type, data) in enumerate(events, start=1):
                    copy.write_row([uuid.uuid4(), stream, version, event_type, 1, json.dumps(data), metadata, now])
                if (index + 1) % 25_000 == 0:
                    print(f"  {(index + 1) * 4:,} events written", flush=True)


def in_child(url: str, mode: str) -> list[str]:
    """Run `mode` in a fresh process (its own peak memory); the figures on the last line it
    printed. Its progress goes to stderr."""
    out = subprocess.run(
        [sys.executable, __file__, mode], env={**os.environ, "DATABASE_URL": url}, stdout=subprocess.PIPE, text=True
    )
    if out.returncode:
        raise SystemExit(f"{mode} failed")
    return out.stdout.strip().splitlines()[-1].split()


def rebuild_child() -> None:
    common.setup_django(os.environ["DATABASE_URL"])
    from chronicle.developments import projections
    from chronicle.eventstore.models import Event
    from chronicle.progress import progress

    total = Event.objects.count()
    started = time.perf_counter()
    with progress(total, "event", sys.stderr) as bar:
        _, events = projections.rebuild(on_progress=bar.update)
    elapsed = time.perf_counter() - started
    print(f"{events / elapsed:.0f} {common.peak_rss_mib():.1f} {events}")


def raw_scan_child() -> None:
    import psycopg

    started = time.perf_counter()
    events = 0
    url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://")
    with psycopg.connect(url) as conn, conn.cursor(name="bench_scan") as cursor:
        cursor.itersize = 2000
        cursor.execute(
            "SELECT position, stream_id, version, type, schema_version, data::text, metadata::text, recorded_at"
            " FROM eventstore_event ORDER BY position"
        )
        for row in cursor:
            orjson.loads(row[5])
            orjson.loads(row[6])
            events += 1
    elapsed = time.perf_counter() - started
    print(f"{events / elapsed:.0f} {common.peak_rss_mib():.1f} {events}")


def floor_child() -> None:
    """The raw scan's time plus one raw COPY of every read-model row the rebuild wrote into fresh
    tables, their indexes built after (as the rebuild does): the floor for writing the same rows."""
    import psycopg

    url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://")
    with psycopg.connect(url) as conn:
        tables = [row[0] for row in conn.execute(common.READ_MODEL_TABLES)]
        rows, seconds = common.raw_copy_back(conn, tables, indexes_after=True)
    print(f"{seconds:.2f} {rows}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()

    import psycopg

    url = common.recreate_database(DATABASE)
    try:
        common.migrate(url)
        peaks = []
        for total in (args.events // 10, args.events):
            with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
                conn.execute("TRUNCATE eventstore_event CASCADE")
            print(f"Filling the log with {total} events …", flush=True)
            fill_log(url, total // 4)
            print("  raw ordered scan …", flush=True)
            raw = float(in_child(url, "raw-scan")[0])
            print("  rebuild …", flush=True)
            rate, rss, events = in_child(url, "rebuild")
            rate, rss, events = float(rate), float(rss), int(events)
            peaks.append(rss)
            print(
                f"  {events:>9} events: rebuild {rate:8.0f} events/s   raw ordered scan {raw:8.0f} events/s"
                f"   ratio {rate / raw:.2f}   peak memory {rss:7.1f} MiB"
            )
            copy_seconds, rows = in_child(url, "floor")
            floor = events / (events / raw + float(copy_seconds))
            print(
                f"  {'':>9} floor: the raw scan plus a raw COPY of the {rows} read-model rows it wrote (indexes built"
                f" after) {floor:8.0f} events/s; rebuild / floor {rate / floor:.2f}",
                flush=True,
            )
        print(f"  peak memory ratio {args.events} / {args.events // 10} events: {peaks[1] / peaks[0]:.2f}")
    finally:
        common.drop_database(DATABASE)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "rebuild":
        rebuild_child()
    elif len(sys.argv) > 1 and sys.argv[1] == "raw-scan":
        raw_scan_child()
    elif len(sys.argv) > 1 and sys.argv[1] == "floor":
        floor_child()
    else:
        main()
