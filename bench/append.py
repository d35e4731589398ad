"""Append throughput of the command layer against raw psycopg.

    python bench/append.py [--developments 2000]

On a scratch PostgreSQL database (created and dropped here): N developments x 4 events
(draft, revise, submit, publish), each event one command, so one transaction, through
`chronicle.developments.commands` — with 1, 4 and 8 writer processes. The baseline inserts
the same rows with raw psycopg into a scratch table with the same columns, one transaction
per event, with as many processes. Prints events/s for each and the ratio command/raw.

Target: commands ≥ 0.25x raw with 1, 4 and 8 writers. The machine may be shared: compare
ratios, which are measured in the same run, not absolute figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common

DATABASE = "chronicle_bench_append"
RAW_TABLE = """
CREATE TABLE IF NOT EXISTS bench_raw_event (
    position bigserial PRIMARY KEY,
    event_id uuid NOT NULL UNIQUE,
    stream_id uuid NOT NULL,
    version integer NOT NULL,
    type varchar(100) NOT NULL,
    schema_version smallint NOT NULL,
    data jsonb NOT NULL,
    metadata jsonb NOT NULL,
    recorded_at timestamptz NOT NULL,
    UNIQUE (stream_id, version)
)"""


def content(name: str, index: int, title_suffix: str = "") -> dict:
    return {
        "title": f"Development {name} {index}{title_suffix}",
        "summary": "Beltelecom and Huawei tested a 5G network in Minsk in 2021.",
        "kind": "network-test",
        "stage": "completed",
        "date": "2021-06",
        "countries": ["BY", "CN"],
        "topics": ["5g", "trade"],
        "actors": [{"name": "Beltelecom", "role": "operator"}, {"name": "Huawei", "role": "supplier"}],
        "sources": [{"title": "Beltelecom report", "publisher": "Beltelecom", "published": "2021-06"}],
    }


# -- writer processes --------------------------------------------------------------------


def command_writer(name: str, count: int) -> None:
    from chronicle.developments import commands

    actor = commands.system_user(name)
    for index in range(count):
        outcome = commands.draft_development(
            content(name, index), actor=actor, slug=f"{name}-{index}", origin="command"
        )
        development_id = outcome.development_id
        commands.revise_development(development_id, content(name, index, " (revised)"), actor=actor, origin="command")
        commands.submit_development(development_id, actor=actor, origin="command")
        commands.publish_development(development_id, actor=actor, origin="command")


def raw_writer(name: str, count: int) -> None:
    import psycopg
    from psycopg.types.json import Jsonb

    metadata = {"actor": {"id": "1", "username": name}, "origin": "command"}
    with psycopg.connect(os.environ["DATABASE_URL"].replace("postgres://", "postgresql://"), autocommit=True) as conn:
        for index in range(count):
            stream = uuid.uuid4()
            events = [
                ("development.drafted", {"slug": f"{name}-{index}", "content": content(name, index)}),
                ("development.revised", {"content": content(name, index, " (revised)")}),
                ("development.submitted", {}),
                ("development.published", {}),
            ]
            for version, (event_type, data) in enumerate(events, start=1):
                conn.execute(
                    "INSERT INTO bench_raw_event (event_id, stream_id, version, type, schema_version, data,"
                    " metadata, recorded_at) VALUES (%s, %s, %s, %s, 1, %s, %s, %s)",
                    [uuid.uuid4(), stream, version, event_type, Jsonb(data), Jsonb(metadata), datetime.now(UTC)],
                )


def run_writers(url: str, mode: str, writers: int, developments: int) -> float:
    """Start `writers` processes together; return events/s over the wall time of the slowest."""
    start_at = time.time() + 3  # every process has set Django up before the clock starts
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "writer",
                mode,
                f"{mode}-{writers}-{n}",
                str(developments // writers),
                str(start_at),
            ],
            env={**os.environ, "DATABASE_URL": url},
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(writers)
    ]
    ends = []
    for process in processes:
        out, _ = process.communicate()
        if process.returncode:
            raise SystemExit(f"a {mode} writer failed")
        ends.append(float(out.strip().splitlines()[-1]))
    events = (developments // writers) * writers * 4
    return events / (max(ends) - start_at)


# -- orchestration -----------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--developments", type=int, default=2000)
    args = parser.parse_args()

    url = common.recreate_database(DATABASE)
    try:
        common.migrate(url)
        import psycopg

        with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
            conn.execute(RAW_TABLE)
        print(f"Appends: {args.developments} developments x 4 events, one transaction per event")
        for writers in (1, 4, 8):
            raw = run_writers(url, "raw", writers, args.developments)
            command = run_writers(url, "command", writers, args.developments)
            print(
                f"  {writers} writer(s): command layer {command:8.0f} events/s   raw psycopg {raw:8.0f} events/s"
                f"   ratio {command / raw:.2f}"
            )
    finally:
        common.drop_database(DATABASE)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "writer":
        _, _, mode, name, count, start_at = sys.argv
        if mode == "command":
            common.setup_django(os.environ["DATABASE_URL"])
            from chronicle.developments import commands

            commands.system_user(name)
        time.sleep(max(0.0, float(start_at) - time.time()))
        (command_writer if mode == "command" else raw_writer)(name, int(count))
        print(time.time())
    else:
        main()
