"""Many curators, in separate processes, revising one development at once (appends state the
expected version, so a stale writer gets a conflict and loses nothing): every accepted revision
is in the log exactly once, every rejected one got a conflict, nothing is lost."""

import json
import subprocess
import sys

from chronicle.developments import commands, projections
from chronicle.developments.models import DevelopmentRecord
from chronicle.eventstore import store
from tests.factories import content_data, member
from tests.services import ROOT, worker_environment

CURATORS = 6
REVISIONS_EACH = 15


def test_concurrent_revisions_are_each_recorded_once_or_refused_with_a_conflict(
    transactional_db, roles, django_user_model
):
    users = [member(django_user_model, f"curator-{number}", roles["Curators"]) for number in range(CURATORS)]
    development_id = commands.draft_development(content_data(), actor=users[0], slug="contested").development_id
    curate = [sys.executable, "-m", "tests.hardening.writers", "curate", str(development_id)]
    processes = [
        subprocess.Popen(
            [*curate, user.username, str(REVISIONS_EACH)],
            cwd=ROOT,
            env=worker_environment(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for user in users
    ]
    assert [process.stdout.readline().strip() for process in processes] == ["ready"] * CURATORS
    # Everyone starts at once, so the revisions really race.
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    reports = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))

    accepted = [summary for report in reports for summary in report["accepted"]]
    rejected = [summary for report in reports for summary in report["rejected"]]
    assert [report["refused"] for report in reports] == [[]] * CURATORS
    assert len(accepted) + len(rejected) == CURATORS * REVISIONS_EACH
    assert rejected, "the curators never raced; the test proved nothing"

    history = store.read_stream(development_id)
    assert [event.version for event in history] == list(range(1, len(history) + 1))
    logged = [event.data["content"]["summary"] for event in history[1:]]
    assert sorted(logged) == sorted(accepted)  # each accepted revision once; no rejected one
    record = DevelopmentRecord.objects.get(pk=development_id)
    assert (record.version, record.content["summary"]) == (len(history), logged[-1])
    inline = projections.read_model_snapshot()
    projections.rebuild()
    assert projections.read_model_snapshot() == inline
