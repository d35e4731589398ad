"""Append throughput of the command layer against raw psycopg.

    python bench/append.py [--developments 2000]

On a scratch PostgreSQL database (created and dropped here): N developments x 4 events
(draft, revise, submit, publish), each event one command, so one transaction, through
`chronicle.developments.commands` — with 1, 4 and 8 writer processes. The baseline inserts
the same rows with raw psycopg into a scratch table with the same columns, one transaction
per event, with as many processes. Prints events/s for each and the ratio command/raw.

It also prints a floor: the statements the commands sent (captured from a run of the same
commands on a second scratch database), sent again the same way with nothing to decide —
the same round trips, pipelines and prepared statements (through `chronicle.libpq`, and raw
psycopg for any other), none of the commands' Python. What the commands take beyond the
floor is the client's work; the floor itself is what these statements cost.

Each figure is the best of `--rounds` rounds, in each of which raw, the commands and the
floor run one after another (each round's ratio is printed too). Target: commands ≥ 0.25x
raw with 1, 4 and 8 writers. The machine may be shared: compare ratios, which are measured in
the same run, not absolute figures.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pickle
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common

DATABASE = "chronicle_bench_append"
CAPTURE_DATABASE = "chronicle_bench_append_capture"
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


# -- the floor: the commands' statements, captured and sent again ------------------------


def capture(names: list[str], count: int, directory: Path) -> None:
    """Run `command_writer` for each of `names` (on the capture database) and keep, per name,
    every statement psycopg sent with its parameters, where a result was waited for, and
    where a pipeline began and ended: `directory / name`."""
    from chronicle.developments import commands

    for name in names:
        commands.system_user(name)
        (directory / name).write_bytes(pickle.dumps(captured_statements(name, count)))


def captured_statements(name: str, count: int) -> list[tuple]:
    import psycopg

    from chronicle import libpq

    operations: list[tuple] = []
    keys = iter(range(1 << 62))
    unfetched: dict[int, int] = {}  # id(cursor): the key of its last statement, until fetched
    real_execute, real_pipeline = psycopg.Cursor.execute, psycopg.Connection.pipeline
    real_together = libpq._run_together

    def together(session, statements):
        operations.append(("together", list(statements)))
        return real_together(session, statements)

    def execute(cursor, query, params=None, **options):
        unfetched[id(cursor)] = key = next(keys)
        operations.append(("execute", key, type(cursor).__name__, query, params, options))
        return real_execute(cursor, query, params, **options)

    @contextlib.contextmanager
    def pipeline(connection):
        operations.append(("enter",))
        with real_pipeline(connection) as entered:
            yield entered
        operations.append(("exit",))

    def waited(real):
        def fetch(cursor, *args):
            if (key := unfetched.pop(id(cursor), None)) is not None:
                operations.append(("fetch", key))
            return real(cursor, *args)

        return fetch

    with contextlib.ExitStack() as patched:
        patched.enter_context(mock.patch.object(libpq, "_run_together", together))
        patched.enter_context(mock.patch.object(psycopg.Cursor, "execute", execute))
        for method in ("fetchone", "fetchall", "fetchmany", "__iter__"):
            patched.enter_context(mock.patch.object(psycopg.Cursor, method, waited(getattr(psycopg.Cursor, method))))
        patched.enter_context(mock.patch.object(psycopg.Connection, "pipeline", pipeline))
        command_writer(name, count)
    return operations


def floor_writer(operations_file: str) -> None:
    """Send the captured statements again, as they went: the same pipelines through libpq,
    and any other statement in the same psycopg pipelines, waiting for the same results."""
    import psycopg
    from django.db import connection

    from chronicle import libpq

    operations = pickle.loads(Path(operations_file).read_bytes())  # noqa: S301 (written by `capture` above)
    connection.ensure_connection()
    conn = connection.connection
    conn.autocommit = True
    session = libpq._session(connection)
    fetched = {operation[1] for operation in operations if operation[0] == "fetch"}
    cursors: dict[int, psycopg.Cursor] = {}  # those whose result is waited for, until it is
    pipelines: list = []
    for operation in operations:
        if operation[0] == "together":
            libpq._run_together(session, operation[1])
        elif operation[0] == "enter":
            pipelines.append(conn.pipeline())
            pipelines[-1].__enter__()
        elif operation[0] == "exit":
            pipelines.pop().__exit__(None, None, None)
        elif operation[0] == "fetch":
            cursors.pop(operation[1]).fetchall()
        else:
            _, key, kind, query, params, options = operation
            cursor = (psycopg.ClientCursor if "Client" in kind else psycopg.Cursor)(conn)
            cursor.execute(query, params, **options)
            if key in fetched:
                cursors[key] = cursor


def run_writers(url: str, mode: str, writers: int, developments: int, round_: int, captured: str) -> float:
    """Start `writers` processes; once every one has set itself up (Django, its actor), start
    them together. Return events/s over the wall time of the slowest."""
    per_writer = developments // writers
    processes = [
        subprocess.Popen(
            [sys.executable, __file__, "writer", mode, f"{mode}-{writers}-{round_}-{n}", str(per_writer), captured],
            env={**os.environ, "DATABASE_URL": url},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(writers)
    ]
    for process in processes:
        if process.stdout.readline().strip() != "ready":
            raise SystemExit(f"a {mode} writer failed to start")
    start_at = time.time() + 0.2
    ends = []
    for process in processes:
        process.stdin.write(f"{start_at}\n")
        process.stdin.flush()
    for process in processes:
        out, _ = process.communicate()
        if process.returncode:
            raise SystemExit(f"a {mode} writer failed")
        ends.append(float(out.strip().splitlines()[-1]))
    events = per_writer * writers * 4
    return events / (max(ends) - start_at)


# -- orchestration -----------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--developments", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2, help="measure each this many times; the best counts")
    args = parser.parse_args()

    url = common.recreate_database(DATABASE)
    capture_url = common.recreate_database(CAPTURE_DATABASE)
    try:
        common.migrate(url)
        common.migrate(capture_url)
        import psycopg

        with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
            conn.execute(RAW_TABLE)
        print(f"Appends: {args.developments} developments x 4 events, one transaction per event")
        with tempfile.TemporaryDirectory() as captured:
            for writers in (1, 4, 8):
                best: dict[str, float] = {}
                ratios = []
                for round_ in range(1, args.rounds + 1):
                    names = [f"floor-{writers}-{round_}-{n}" for n in range(writers)]
                    subprocess.run(
                        [sys.executable, __file__, "capture", str(args.developments // writers), captured, *names],
                        env={**os.environ, "DATABASE_URL": capture_url},
                        check=True,
                    )
                    rates = {
                        mode: run_writers(url, mode, writers, args.developments, round_, captured)
                        for mode in ("raw", "command", "floor")
                    }
                    ratios.append(f"{rates['command'] / rates['raw']:.2f}")
                    best = {mode: max(rate, best.get(mode, 0.0)) for mode, rate in rates.items()}
                raw, command, floor = best["raw"], best["command"], best["floor"]
                print(
                    f"  {writers} writer(s): command layer {command:8.0f} events/s   raw psycopg {raw:8.0f} events/s"
                    f"   ratio {command / raw:.2f}   (each round: {', '.join(ratios)})"
                )
                print(
                    f"  {'':9} floor (the commands' statements, nothing to decide) {floor:8.0f} events/s"
                    f"   floor/raw {floor / raw:.2f}   command/floor {command / floor:.2f}"
                )
    finally:
        common.drop_database(DATABASE)
        common.drop_database(CAPTURE_DATABASE)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "writer":
        _, _, mode, name, count, captured = sys.argv
        if mode == "command":
            common.setup_django(os.environ["DATABASE_URL"])
            from chronicle.developments import commands

            commands.system_user(name)
            write = partial(command_writer, name, int(count))
        elif mode == "floor":
            common.setup_django(os.environ["DATABASE_URL"])
            write = partial(floor_writer, str(Path(captured) / name))
        else:
            write = partial(raw_writer, name, int(count))
        print("ready", flush=True)
        start_at = float(sys.stdin.readline())
        time.sleep(max(0.0, start_at - time.time()))
        write()
        print(time.time())
    elif len(sys.argv) > 1 and sys.argv[1] == "capture":
        _, _, count, directory, *names = sys.argv
        common.setup_django(os.environ["DATABASE_URL"])
        capture(names, int(count), Path(directory))
    else:
        main()
