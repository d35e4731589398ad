"""Import speed and memory against a raw COPY of the same event rows.

    python bench/import.py [--sizes 10000 50000] [--profile FILE]

For each size N: an import file of N developments (varied titles, summaries, countries,
topics, actors, amounts, places and sources) is written, a scratch PostgreSQL database is
created and migrated (dropped at the end), and in a fresh process `load_chronicle FILE` runs
(Django's start-up excluded; reading and validating the file included), recording 3 events
per development (drafted, submitted, published). Its events/s, peak RSS and the CPU time of
its own process (the rest of the wall time is the database's work, and waiting) are printed. The
baseline, in the same run and the same database: the log's rows, read back into memory, are
written with one raw psycopg COPY (JSON encoded on the way with orjson, as Chronicle does) into a fresh
table shaped like the event table (same columns, defaults, indexes and constraints). The
floor, in the same run: that COPY plus one raw COPY of every read-model row the import wrote
into fresh tables with the same indexes (the rows read back as COPY text): what writing the
same rows costs the server, with no Python in the way.

Targets: import ≥ 0.25x the raw COPY; peak memory at the largest size ≤ 1.3x that at the
smallest. The machine may be shared: compare the ratios, measured in the same run.
`--profile FILE` writes a cProfile of the largest import to FILE (read it with pstats).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common

DATABASE = "chronicle_bench_import"
COUNTRIES = ["BY", "CN", "RU", "KZ", "AM", "UZ", "VN", "RS"]
TOPICS = ["5g", "ict-policy", "industrial-parks", "trade", "broadband", "mobile", "digital-economy", "standards"]
KINDS = ["treaty", "agreement", "memorandum", "visit", "meeting", "network-test", "launch", "investment"]
ACTORS = [("Beltelecom", "operator"), ("Huawei", "supplier"), ("ZTE", "supplier"), ("ITU", "organisation")]


def record(index: int, rng: random.Random) -> dict:
    """One import record, shaped like the seed chronicle's (fixtures/seed_chronicle.json)."""
    year = 1995 + index % 30
    countries = rng.sample(COUNTRIES, rng.randint(1, 3))
    return {
        "key": f"bench-development-{index}",
        "title": f"Cooperation on {rng.choice(TOPICS)} between {' and '.join(countries)}, no. {index}",
        "summary": (
            f"Development {index}: the parties agreed to work together on networks, equipment and "
            "training; the source names the operators and suppliers taking part and the sums involved. "
        )
        * rng.randint(1, 3),
        "kind": rng.choice(KINDS),
        "stage": "signed",
        "date": f"{year}-{1 + index % 12:02d}",
        "date_basis": "given",
        "countries": countries,
        "topics": rng.sample(TOPICS, rng.randint(1, 3)),
        "actors": [{"name": name, "role": role} for name, role in rng.sample(ACTORS, 2)],
        "amounts": [{"value": str(rng.randint(1, 900) * 1000), "currency": "USD", "measures": "investment"}],
        "places": [{"name": "Minsk", "country": "BY", "lat": 53.9, "lon": 27.5667}],
        "sources": [
            {
                "title": f"Report on cooperation, part {index % 97}",
                "publisher": "Ministry of Communications",
                "url": f"https://example.org/reports/{index}",
                "published": f"{year}-{1 + index % 12:02d}",
                "quote": "The parties signed the agreement and set out a plan of joint work.",
            }
        ],
    }


def write_file(path: Path, developments: int) -> None:
    # A record at a time: a child's peak memory counts its parent's at the fork, so the
    # parent must stay small.
    rng = random.Random(developments)
    with path.open("w", encoding="utf-8") as out:
        out.write('{"format": "chronicle-import/1", "developments": [\n')
        for index in range(developments):
            out.write(("," if index else "") + json.dumps(record(index, rng), ensure_ascii=False) + "\n")
        out.write("]}\n")


def in_child(url: str, *args: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, __file__, *args], env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True
    )
    if out.returncode:
        raise SystemExit(out.stderr)
    return out.stdout.strip().splitlines()[-1].split()


def load_child(path: str, profile: str) -> None:
    """Run load_chronicle once; print events/s, peak RSS (MiB) and the events recorded."""
    import io

    common.setup_django(os.environ["DATABASE_URL"])
    from django.core.management import call_command

    from chronicle.eventstore.models import Event

    def load() -> None:
        call_command("load_chronicle", path, stdout=io.StringIO(), stderr=io.StringIO())

    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    if profile:
        import cProfile

        cProfile.runctx("load()", globals(), {"load": load}, profile)
    else:
        load()
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    events = Event.objects.count()
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    print(f"{events / elapsed:.0f} {common.peak_rss_mib():.1f} {events} {elapsed:.2f} {cpu:.2f}")


RAW_TABLE = "CREATE TABLE bench_raw_event (LIKE eventstore_event INCLUDING ALL)"
COLUMNS = "event_id, stream_id, version, type, schema_version, data, metadata, recorded_at"


def raw_copy_child() -> None:
    """COPY the log's rows, read back into memory, into a fresh table of the same shape."""
    import psycopg

    url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://")
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_event")
        conn.execute(RAW_TABLE)
        rows = conn.execute(
            "SELECT event_id, stream_id, version, type, schema_version, data::text, metadata::text, recorded_at"
            " FROM eventstore_event ORDER BY position"
        ).fetchall()
        rows = [(*row[:5], orjson.loads(row[5]), orjson.loads(row[6]), row[7]) for row in rows]
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy(f"COPY bench_raw_event ({COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row[:5], orjson.dumps(row[5]).decode(), orjson.dumps(row[6]).decode(), row[7]))
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_raw_event")
        conn.commit()
        tables = [row[0] for row in conn.execute(common.READ_MODEL_TABLES)]
        read_model_rows, read_model_seconds = common.raw_copy_back(conn, tables, indexes_after=False)
    print(f"{len(rows) / elapsed:.0f} {len(rows)} {elapsed + read_model_seconds:.2f} {read_model_rows}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--profile", default="", help="write a cProfile of the largest import here")
    args = parser.parse_args()

    peaks = []
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            path = Path(folder) / f"import-{size}.json"
            write_file(path, size)
            url = common.recreate_database(DATABASE)
            try:
                common.migrate(url)
                profile = args.profile if size == max(args.sizes) else ""
                rate, rss, events, seconds, cpu = in_child(url, "load", str(path), profile)
                raw, _, floor_seconds, read_model_rows = in_child(url, "raw-copy")
            finally:
                common.drop_database(DATABASE)
            peaks.append(float(rss))
            print(
                f"  {size:>6} developments, {events} events in {float(seconds):.1f} s "
                f"(of which {float(cpu):.1f} s in this process): import {float(rate):7.0f} events/s"
                f"   raw COPY {float(raw):7.0f} events/s   ratio {float(rate) / float(raw):.2f}"
                f"   peak memory {float(rss):6.1f} MiB",
                flush=True,
            )
            print(
                f"  {'':>6} floor: raw COPY of every row it wrote, the events and {read_model_rows} read-model rows"
                f" (same tables and indexes), {float(floor_seconds):.1f} s; import / floor "
                f"{float(floor_seconds) / float(seconds):.2f}",
                flush=True,
            )
    if len(peaks) > 1:
        print(f"  peak memory ratio {args.sizes[-1]} / {args.sizes[0]} developments: {peaks[-1] / peaks[0]:.2f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "load":
        load_child(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "raw-copy":
        raw_copy_child()
    else:
        main()
