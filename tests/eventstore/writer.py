"""A writer process for the concurrency test: drafts and revises developments as fast as it can.

python -m tests.eventstore.writer NAME COUNT      (DATABASE_URL names the test database)
"""

import os
import sys

import django


def main(name: str, count: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from chronicle.developments import commands
    from tests.factories import content_data

    actor = commands.system_user(name)
    for index in range(count):
        outcome = commands.draft_development(content_data(), actor=actor, slug=f"{name}-{index}", origin="command")
        commands.revise_development(outcome.development_id, content_data(title=f"{name} {index}"), actor=actor)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
