"""The backup and restore drill of the README: the event log alone gives back the same Chronicle."""

import filecmp
import json
import subprocess
import uuid

import pytest
from django.db import connection

from tests.services import ROOT
from tests.test_settings import manage, manage_in_background

pytestmark = pytest.mark.postgres

KINDS = ["treaty", "memorandum", "visit", "meeting", "network-test", "launch", "investment", "statement"]
COUNTRY_PAIRS = [["BY", "CN"], ["RU", "CN"], ["BY", "RU"], ["BY"], ["CN", "RU", "BY"]]
TOPIC_SETS = [["5g"], ["ict-policy", "trade"], ["education"], ["satellite", "standards"], ["broadband"]]
QUALIFIERS = ["exact", "more-than", "less-than", "about"]


def generated_record(index: int, *, revised: bool = False) -> dict:
    record = {
        "key": f"generated-{index:03d}",
        "title": f"Generated development number {index}",
        "summary": f"Development {index} as the generated corpus tells it." + (" Revised." if revised else ""),
        "kind": KINDS[index % len(KINDS)],
        "date": f"{2000 + index % 25}-{1 + index % 12:02d}" + ("~" if index % 7 == 0 else ""),
        "countries": COUNTRY_PAIRS[index % len(COUNTRY_PAIRS)],
        "topics": TOPIC_SETS[index % len(TOPIC_SETS)],
        "actors": [{"name": f"Organisation {index % 17}", "role": "operator"}],
        "sources": [
            {"title": f"Report {index}", "publisher": "Generated Press", "url": f"https://example.org/{index}"}
        ],
    }
    if index % 3 == 0:
        record["amounts"] = [
            {
                "value": str(1000 * index),
                "currency": "USD",
                "measures": "investment",
                "qualifier": QUALIFIERS[index % 4],
                **({"period": f"{2000 + index % 25}"} if index % 2 else {}),
            }
        ]
    if revised and index % 2 == 0:
        record["correction_note"] = f"Summary of development {index} corrected."
    return record


def write_import(path, records) -> None:
    path.write_text(json.dumps({"format": "chronicle-import/1", "developments": records}))


RETRACT = """
from chronicle.developments import commands
editor = commands.system_user("chronicle-import")
for index in (5, 50, 150):
    commands.retract_development(
        commands.development_id_for(f"generated-{index:03d}"), "Not supported by the source", actor=editor,
        origin="command",
    )
"""

# Every answer of the API and the pages, as (status, ETag, body digest), with throttles lifted.
PROBE = """
import hashlib, json, sys
from django.test import Client
from chronicle.api import throttling
from chronicle.developments.models import PublicDevelopment
for name in dir(throttling):
    throttle = getattr(throttling, name)
    if isinstance(throttle, type) and hasattr(throttle, "allow_request"):
        throttle.allow_request = lambda self, request, view: True
client = Client(HTTP_HOST="127.0.0.1")
seen = {}
def get(path):
    response = client.get(path)
    body = b"".join(response) if response.streaming else response.content
    seen[path] = [response.status_code, response.get("ETag"), hashlib.sha256(body).hexdigest()]
    return response
paths = ["/", "/?page=2", "/?country=by", "/?topic=5g", "/api/v1/topics/", "/api/v1/countries/",
         "/api/v1/actors/", "/api/v1/events/head/"]
for path in paths:
    get(path)
url = "/api/v1/developments/?limit=100"
while url:
    url = get(url).json()["next"]
after = 0
while True:
    page = get(f"/api/v1/events/?after={after}&limit=1000").json()
    if page["next"] == after:
        break
    after = page["next"]
for development_id, slug in PublicDevelopment.objects.values_list("id", "slug"):
    for path in (f"/developments/{slug}/", f"/developments/{slug}/timemap/", f"/api/v1/developments/{development_id}/",
                 f"/api/v1/developments/{development_id}/history/"):
        get(path)
json.dump(seen, open(sys.argv[-1], "w"), indent=1, sort_keys=True)
"""


def run(*args, **env):
    result = manage(*args, **env)
    assert result.returncode == 0, f"manage.py {' '.join(args)}: {result.stdout}\n{result.stderr}"
    return result.stdout


def answers(env, path) -> dict:
    run("shell", "-c", PROBE.replace("sys.argv[-1]", repr(str(path))), **env)
    return json.loads(path.read_text())


def test_the_event_table_alone_restores_the_api_the_pages_and_the_feeds_byte_for_byte(tmp_path):
    settings = connection.settings_dict
    user, host, port = settings["USER"] or "postgres", settings["HOST"] or "127.0.0.1", str(settings["PORT"] or 5432)
    names = {which: f"chronicle_drill_{uuid.uuid4().hex[:8]}_{which}" for which in ("live", "restored")}
    client_args = ["-h", host, "-p", port, "-U", user]
    envs = {
        which: {
            "DATABASE_URL": f"postgres://{user}@{host}:{port}/{name}",
            "CHRONICLE_VAR_DIR": str(tmp_path / which),
            "FEEDS_ROOT": str(tmp_path / which / "feeds"),
            "SECRET_KEY": "drill-secret-key-for-both-databases-0123456789abcdef",
        }
        for which, name in names.items()
    }
    for which, name in names.items():
        (tmp_path / which).mkdir()
        subprocess.run(["createdb", *client_args, name], check=True)
    try:
        live, restored = envs["live"], envs["restored"]
        # A chronicle in use: the seed, a few hundred more, corrections, updates and retractions.
        generated, revised = tmp_path / "generated.json", tmp_path / "revised.json"
        write_import(generated, [generated_record(index) for index in range(200)])
        write_import(revised, [generated_record(index, revised=index % 10 == 0) for index in range(200)])
        # The empty database the drill restores into is migrated meanwhile, as a restore would
        # prepare it beforehand.
        migrating = manage_in_background("migrate", "--noinput", **restored)
        run("migrate", "--noinput", **live)
        run("load_chronicle", str(ROOT / "fixtures" / "seed_chronicle.json"), **live)
        run("load_chronicle", str(generated), **live)
        run("load_chronicle", str(revised), **live)
        run("shell", "-c", RETRACT, **live)
        run("publish_feeds", **live)
        run("seal_log", **live)
        before = answers(live, tmp_path / "live.json")

        # The drill, as the README gives it.
        dump = tmp_path / "events.sql"
        with dump.open("w") as out:
            command = ["pg_dump", *client_args, "--data-only", "-t", "eventstore_event", names["live"]]
            subprocess.run(command, stdout=out, check=True)
        assert migrating.wait() == 0, migrating.communicate()
        subprocess.run(
            ["psql", *client_args, "-q", "-v", "ON_ERROR_STOP=1", "-f", str(dump), names["restored"]],
            check=True,
            capture_output=True,
        )
        assert "Rebuilt read models for" in run("rebuild_projections", **restored)
        run("publish_feeds", **restored)
        run("seal_log", **restored)
        after = answers(restored, tmp_path / "restored.json")

        assert len(before) > 4 * 230
        different = sorted(path for path in before if before[path] != after.get(path))
        assert not different, f"{len(different)} answers differ, e.g. {different[:5]}"
        assert before == after
        feeds = filecmp.dircmp(tmp_path / "live" / "feeds", tmp_path / "restored" / "feeds")
        assert len(list((tmp_path / "live" / "feeds").rglob("*.atom"))) > 10
        assert _identical_trees(feeds), "the regenerated feed files differ"
        # The restored log carries on where the live one stopped, and its seals are the same.
        sequence = "SELECT last_value FROM eventstore_event_position_seq"
        assert _query(client_args, names["live"], sequence) == _query(client_args, names["restored"], sequence)
        assert before["/api/v1/events/head/"] == after["/api/v1/events/head/"]
        assert "The log is intact" in run("verify_log", **restored)
    finally:
        for name in names.values():
            subprocess.run(["dropdb", *client_args, "--if-exists", name], check=False)


def _identical_trees(comparison: filecmp.dircmp) -> bool:
    if comparison.left_only or comparison.right_only or comparison.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(comparison.left, comparison.right, comparison.common_files, shallow=False)
    if mismatch or errors:
        return False
    return all(_identical_trees(sub) for sub in comparison.subdirs.values())


def _query(client_args, database, sql) -> str:
    return subprocess.run(
        ["psql", *client_args, "-Atc", sql, database], check=True, capture_output=True, text=True
    ).stdout.strip()
