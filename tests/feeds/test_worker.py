import time

import pytest

from tests.factories import published_development


@pytest.mark.celery
def test_a_real_worker_puts_a_publication_into_the_feed_files(celery_worker, curator, editor, feeds_root):
    celery_worker.start()
    development_id = published_development(curator, editor)
    files = [feeds_root / f"{path}.atom" for path in ("all", "countries/by", "topics/5g")]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not all(file.exists() for file in files):
        time.sleep(0.1)
    for file in files:
        assert f"urn:uuid:{development_id}" in file.read_text(), celery_worker.output()
    assert "chronicle.feeds.tasks.regenerate_feed" in celery_worker.output()
