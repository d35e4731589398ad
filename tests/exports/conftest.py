import pytest

from chronicle.developments import commands
from tests.factories import content_data


@pytest.fixture
def publisher(db):
    """A system actor that drafts and publishes in one go (as an import does)."""
    return commands.system_user("export-test-publisher")


@pytest.fixture
def publish(publisher):
    def publish(slug: str, **overrides):
        outcome = commands.draft_development(content_data(**overrides), actor=publisher, slug=slug)
        commands.submit_development(outcome.development_id, actor=publisher)
        commands.publish_development(outcome.development_id, actor=publisher)
        return outcome.development_id

    return publish


@pytest.fixture
def exports_root(settings, tmp_path):
    settings.EXPORTS_ROOT = tmp_path / "exports"
    return settings.EXPORTS_ROOT
