"""Processes for the hardening tests, each a long-lived Django process like a worker or an import.

python -m tests.hardening.writers curate DEVELOPMENT_ID USERNAME COUNT
    Prints "ready", waits for a line on stdin, then revises the development COUNT times as
    USERNAME, each time with the version the read model shows just before (as the admin
    does), and prints one JSON line: the summaries accepted, rejected with a conflict that
    says what changed, and refused in any other way.
python -m tests.hardening.writers burst NAME STOP_FILE
    Drafts developments NAME-0, NAME-1, … until STOP_FILE exists, printing one JSON line per
    command: its slug and outcome (ok, or the error's type and message).
python -m tests.hardening.writers inspect
    Prints one JSON line: the log (position, stream, version) and whether the read models
    equal a rebuild from the log.

DATABASE_URL names the database.
"""

import json
import os
import sys
import time
from pathlib import Path

import django

BURST_DEADLINE = 60  # seconds; the test stops a burst long before


def curate(development_id: str, username: str, count: int) -> None:
    from django.contrib.auth import get_user_model

    from chronicle.developments import commands
    from chronicle.developments.models import DevelopmentRecord
    from tests.factories import content_data

    actor = get_user_model().objects.get(username=username)
    print("ready", flush=True)
    sys.stdin.readline()
    accepted, rejected, refused = [], [], []
    for index in range(count):
        summary = f"Revision {index} by {username}."
        version = DevelopmentRecord.objects.values_list("version", flat=True).get(pk=development_id)
        try:
            commands.revise_development(
                development_id, content_data(summary=summary), actor=actor, expected_version=version
            )
        except commands.ConflictError as conflict:
            rejected.append(summary)
            if not conflict.changes:  # the admin shows these to the curator
                refused.append(f"{summary} ConflictError without saying what changed")
        except Exception as error:  # reported, so the test can say what else went wrong
            refused.append(f"{summary} {type(error).__name__}: {error}")
        else:
            accepted.append(summary)
    print(json.dumps({"accepted": accepted, "rejected": rejected, "refused": refused}), flush=True)


def burst(name: str, stop_file: str) -> None:
    from chronicle.developments import commands
    from tests.factories import content_data

    actor = commands.system_user(name)
    deadline = time.monotonic() + BURST_DEADLINE
    index = 0
    while not Path(stop_file).exists() and time.monotonic() < deadline:
        slug = f"{name}-{index}"
        try:
            commands.draft_development(content_data(title=slug), actor=actor, slug=slug, origin="command")
        except Exception as error:
            outcome = {"slug": slug, "ok": False, "error": type(error).__name__, "message": str(error)}
            outcome["recorded"] = getattr(error, "recorded", "unknown")
            time.sleep(0.05)  # like a worker's retry backoff, without flooding the log
        else:
            outcome = {"slug": slug, "ok": True}
        print(json.dumps(outcome), flush=True)
        index += 1


def inspect() -> None:
    from chronicle.developments import projections
    from chronicle.eventstore.models import Event

    events = list(Event.objects.order_by("position").values_list("position", "stream_id", "version"))
    inline = projections.read_model_snapshot()
    projections.rebuild()
    matches = projections.read_model_snapshot() == inline
    print(json.dumps({"events": events, "read_models_match_log": matches}, default=str))


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    action, *arguments = sys.argv[1:]
    if action == "curate":
        curate(arguments[0], arguments[1], int(arguments[2]))
    elif action == "burst":
        burst(*arguments)
    else:
        inspect()
