import pytest
from django.core.management import call_command
from django.utils import timezone

from chronicle.developments import commands, projections
from chronicle.developments.models import DevelopmentRecord, PublicDevelopment
from tests.factories import content_data, published_development

pytestmark = pytest.mark.django_db


def busy_log(curator, editor):
    """A log with every kind of event, over several developments."""
    first = published_development(curator, editor, slug="first-one")
    commands.revise_development(first, content_data(title="Corrected"), actor=curator)
    commands.submit_development(first, actor=curator)
    commands.publish_correction(first, "Title fixed", actor=editor)
    commands.revise_development(first, content_data(title="Pending", stage="signed"), actor=curator)
    second = published_development(curator, editor, slug="second-one", countries=["RU"], topics=["postal"])
    commands.retract_development(second, "Not supported by the source", actor=editor)
    third = commands.draft_development(content_data(date="2015~"), actor=curator, slug="third-one").development_id
    commands.submit_development(third, actor=curator)
    commands.request_changes(third, "Add a source quote", actor=editor)
    return first, second, third


def test_rebuilt_read_models_equal_the_ones_commands_maintained(curator, editor, capsys):
    busy_log(curator, editor)
    inline = projections.read_model_snapshot()
    call_command("rebuild_projections")
    assert "Rebuilt read models for 3 developments from" in capsys.readouterr().out
    assert projections.read_model_snapshot() == inline


def test_rebuild_restores_dropped_tables(curator, editor):
    busy_log(curator, editor)
    inline = projections.read_model_snapshot()
    for model in projections.READ_MODELS:
        model.objects.all().delete()
    projections.rebuild()
    assert projections.read_model_snapshot() == inline


def test_the_editorial_record_shows_the_pending_revision_beside_the_published_version(curator, editor):
    first, _, third = busy_log(curator, editor)
    record = DevelopmentRecord.objects.get(id=first)
    assert record.has_pending_revision
    assert (record.title, record.published_content["title"]) == ("Pending", "Corrected")
    assert PublicDevelopment.objects.get(id=first).title == "Corrected"
    assert DevelopmentRecord.objects.get(id=third).review_comment == "Add a source quote"


def test_as_of_gives_the_development_as_recorded_then(curator, editor):
    development_id = published_development(curator, editor)
    before_correction = timezone.now()
    commands.revise_development(development_id, content_data(title="Corrected title"), actor=curator)
    commands.submit_development(development_id, actor=curator)
    commands.publish_correction(development_id, "Fixed", actor=editor)
    then = projections.as_of(development_id, before_correction)
    now = projections.as_of(development_id, timezone.now())
    assert then.public.title == "Beltelecom tests 5G with Huawei"
    assert [r.kind for r in then.revisions] == ["published"]
    assert now.public.title == "Corrected title"
    assert projections.as_of(development_id, timezone.now().replace(year=2000)) is None


@pytest.mark.postgres
def test_rows_written_before_the_append_gave_positions_equal_a_rebuild(transactional_db, curator, editor):
    """Outside a transaction a command sends its append with its read-model writes, before
    the append has answered: the positions those rows hold are resolved by the database, and
    come out as a rebuild from the log gives them."""
    busy_log(curator, editor)
    inline = projections.read_model_snapshot()
    assert all(row[0] > 0 for row in inline["developments_publicrevision"])
    projections.rebuild()
    assert projections.read_model_snapshot() == inline
