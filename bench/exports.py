"""Export benchmark: `export_chronicle` at 10 k and 100 k developments beside a raw COPY.

    python bench/exports.py [--small 10000] [--large 100000]

In one run, on a scratch PostgreSQL database (chronicle_bench_exports, created and dropped
here; BENCH_ADMIN_URL names the server):

1. Fills the log with `--small` published developments (bulk `store.append`, then
   `projections.rebuild()`; no read-model row is written by hand).
2. Runs the export in a fresh process (so its peak memory is its own) and, as the
   baseline, `COPY (…) TO STDOUT` of the same read-model rows (the latest public
   revision of each development, and every public revision for the events) into a file.
   Prints rows/s of both (source rows: developments + events) and the ratio, and the
   export's peak RSS.
3. Grows to `--large` and does the same; prints peak RSS large / small.

Targets: peak memory at 100 k <= 1.2 x at 10 k (streaming, constant memory).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import drop_database, recreate_database  # noqa: E402
from bench.feeds import fill  # noqa: E402

DATABASE = "chronicle_bench_exports"

# The same rows the export reads: each development's latest public revision with its
# slug, and every public revision with its event's id.
COPY_DEVELOPMENTS = """
COPY (
  SELECT r.development_id, d.slug, d.first_published_at, r.position, r.kind, r.note, r.recorded_at, r.content
  FROM developments_publicrevision r JOIN developments_publicdevelopment d ON d.id = r.development_id
  WHERE r.position IN (SELECT max(position) FROM developments_publicrevision GROUP BY development_id)
  ORDER BY r.development_id
) TO STDOUT WITH (FORMAT csv, HEADER)
"""
COPY_EVENTS = """
COPY (
  SELECT r.position, e.event_id, r.kind, r.development_id, d.slug, r.version, r.recorded_at, r.note, r.content
  FROM developments_publicrevision r JOIN developments_publicdevelopment d ON d.id = r.development_id
  JOIN eventstore_event e ON e.position = r.position
  ORDER BY r.position
) TO STDOUT WITH (FORMAT csv, HEADER)
"""


def child(output: str) -> None:
    """Run one export in this process and print its figures as JSON."""
    import django

    django.setup()
    from chronicle.exports import packages

    started = time.perf_counter()
    summary = packages.write_package(Path(output), packages.cut_at())
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"developments": summary.developments, "events": summary.events, "rows": summary.rows,
                      "seconds": elapsed, "peak_mib": peak}))  # fmt: skip


def export(env: dict, output: Path) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", str(output)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def copy_baseline(url: str, output: Path) -> tuple[int, float]:
    import psycopg

    rows = 0
    started = time.perf_counter()
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn, conn.cursor() as cursor:
        for name, statement in (("developments", COPY_DEVELOPMENTS), ("events", COPY_EVENTS)):
            with (output / f"{name}.csv").open("wb") as file, cursor.copy(statement) as copy:
                for data in copy:
                    file.write(data)
            rows += sum(1 for _ in (output / f"{name}.csv").open("rb")) - 1
    return rows, time.perf_counter() - started


def measure(label: str, url: str, env: dict, scratch: Path) -> dict:
    for folder in ("export", "copy"):
        shutil.rmtree(scratch / folder, ignore_errors=True)
        (scratch / folder).mkdir()
    copy_rows, copy_seconds = copy_baseline(url, scratch / "copy")
    figures = export(env, scratch / "export")
    source_rows = figures["developments"] + figures["events"]
    export_rate, copy_rate = source_rows / figures["seconds"], copy_rows / copy_seconds
    print(
        f"  {label}: export {source_rows:,} source rows ({figures['rows']:,} rows written) in "
        f"{figures['seconds']:.1f} s = {export_rate:,.0f} rows/s;  COPY {copy_rows:,} rows in {copy_seconds:.2f} s = "
        f"{copy_rate:,.0f} rows/s;  ratio {export_rate / copy_rate:.2f};  "
        f"export peak RSS {figures['peak_mib']:.1f} MiB",
        flush=True,
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return

    scratch = Path(tempfile.mkdtemp(prefix="chronicle-bench-exports-"))
    url = recreate_database(DATABASE)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CHRONICLE_VAR_DIR": str(scratch),
        "DEBUG": "false",
        "SECRET_KEY": "benchmark-only",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    os.environ.update(env)
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
        import django

        django.setup()
        from chronicle.developments import commands

        actor = commands.system_user("bench-exporter")
        print(f"Filling {args.small:,} developments …", flush=True)
        fill(0, args.small, str(actor.pk))
        small = measure(f"{args.small:>7,}", url, env, scratch)
        print(f"Growing to {args.large:,} developments …", flush=True)
        fill(args.small, args.large, str(actor.pk))
        large = measure(f"{args.large:>7,}", url, env, scratch)
        ratio = large["peak_mib"] / small["peak_mib"]
        print(
            f"Peak memory {args.large:,} / {args.small:,}: {large['peak_mib']:.1f} / {small['peak_mib']:.1f} MiB "
            f"= {ratio:.2f} (target <= 1.2)"
        )
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DATABASE)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
