import time
from datetime import timedelta

import pytest
from django.utils import timezone

from chronicle.developments import commands, tasks
from chronicle.developments.models import PublicDevelopment
from tests.factories import content_data


@pytest.mark.celery
def test_a_real_worker_releases_a_due_scheduled_publication(celery_worker, curator, editor):
    outcome = commands.draft_development(content_data(), actor=curator, slug="embargo-lifted")
    commands.submit_development(outcome.development_id, actor=curator)
    commands.schedule_publication(outcome.development_id, timezone.now() + timedelta(seconds=1), actor=editor)
    time.sleep(1.1)
    celery_worker.start()
    tasks.release_scheduled_publications.delay()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not PublicDevelopment.objects.filter(id=outcome.development_id).exists():
        time.sleep(0.2)
    assert PublicDevelopment.objects.filter(id=outcome.development_id).exists(), celery_worker.output()
