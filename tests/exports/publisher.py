"""A process that publishes while a test exports: new developments and corrections.

python -m tests.exports.publisher COUNT      (DATABASE_URL names the test database)
"""

import os
import sys

import django


def main(count: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from chronicle.developments import commands
    from chronicle.developments.models import PublicDevelopment
    from tests.factories import content_data

    actor = commands.system_user("concurrent-publisher")
    corrected = PublicDevelopment.objects.order_by("id").values_list("id", flat=True).first()
    for index in range(count):
        outcome = commands.draft_development(
            content_data(title=f"Published during the export {index}"), actor=actor, slug=f"during-{index}"
        )
        commands.submit_development(outcome.development_id, actor=actor)
        commands.publish_development(outcome.development_id, actor=actor)
        commands.revise_development(corrected, content_data(title=f"Corrected during the export {index}"), actor=actor)
        commands.submit_development(corrected, actor=actor)
        commands.publish_correction(corrected, f"Correction {index}", actor=actor)


if __name__ == "__main__":
    main(int(sys.argv[1]))
