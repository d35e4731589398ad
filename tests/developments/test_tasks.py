from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from chronicle.developments import commands, tasks
from chronicle.developments.models import PublicDevelopment
from tests import services
from tests.factories import content_data


@pytest.mark.celery
def test_a_real_worker_releases_a_due_scheduled_publication(celery_worker, curator, editor):
    outcome = commands.draft_development(content_data(), actor=curator, slug="embargo-lifted")
    commands.submit_development(outcome.development_id, actor=curator)
    publish_at = timezone.now()
    # Scheduled a minute ago for now: due by the time the worker looks.
    with time_machine.travel(publish_at - timedelta(minutes=1), tick=False):
        commands.schedule_publication(outcome.development_id, publish_at, actor=editor)
    celery_worker.start()
    tasks.release_scheduled_publications.delay()
    services.wait_for(
        lambda: PublicDevelopment.objects.filter(id=outcome.development_id).exists(), 20, celery_worker.output
    )
    assert PublicDevelopment.objects.filter(id=outcome.development_id).exists(), celery_worker.output()
