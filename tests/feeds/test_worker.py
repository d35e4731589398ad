import pytest

from tests import services
from tests.factories import published_development


@pytest.mark.celery
def test_a_real_worker_puts_a_publication_into_the_feed_files(celery_worker, curator, editor, feeds_root):
    celery_worker.start()
    development_id = published_development(curator, editor)
    files = [feeds_root / f"{path}.atom" for path in ("all", "countries/by", "topics/5g")]
    services.wait_for(lambda: all(file.exists() for file in files), 20, celery_worker.output)
    for file in files:
        assert f"urn:uuid:{development_id}" in file.read_text(), celery_worker.output()
    assert "chronicle.feeds.tasks.regenerate_feed" in celery_worker.output()
