import pytest


@pytest.fixture(autouse=True)
def feeds_root(settings, tmp_path, eager_tasks):
    """Feed files under the test's own folder, regenerated eagerly unless a real worker runs."""
    settings.FEEDS_ROOT = tmp_path / "feeds"
    return settings.FEEDS_ROOT
