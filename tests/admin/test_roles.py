from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from chronicle.developments.models import DevelopmentRecord
from chronicle.eventstore.models import Event
from tests.admin.conftest import ADD_URL, LIST_URL, change_url, form_data, step_url
from tests.factories import content_data, published_development, roles_migration

pytestmark = pytest.mark.django_db


def _codenames(group):
    return sorted(group.permissions.values_list("codename", flat=True))


def test_the_migration_gives_each_role_its_permissions_and_can_run_again():
    Group.objects.filter(name__in=roles_migration.ROLES).delete()
    for _ in range(2):
        roles_migration.create_roles(django_apps, SimpleNamespace(connection=connection))
    assert _codenames(Group.objects.get(name="Curators")) == ["draft_development", "view_developmentrecord"]
    assert _codenames(Group.objects.get(name="Editors")) == [
        "draft_development",
        "publish_development",
        "retract_development",
        "review_development",
        "view_developmentrecord",
    ]


def test_staff_outside_both_groups_see_no_developments_and_change_nothing(client, staff, curator, editor):
    development_id = published_development(curator, editor)
    client.force_login(staff)
    assert "Developments" not in client.get("/admin/").content.decode()
    assert client.get(LIST_URL).status_code == 403
    assert client.get(change_url(development_id)).status_code == 403
    assert client.get(ADD_URL).status_code == 403
    assert client.post(ADD_URL, form_data(content_data(title="Sneaked in"))).status_code == 403
    assert client.post(step_url(development_id, "retract"), {"version": 3, "note": "no"}).status_code == 403
    assert Event.objects.count() == 3


def test_a_curator_may_draft_but_not_publish(client, curator):
    client.force_login(curator)
    response = client.post(ADD_URL, form_data(content_data(), slug="by-5g-test", _submit="1"))
    assert response.status_code == 302
    record = DevelopmentRecord.objects.get(slug="by-5g-test")
    assert record.workflow == "in_review"
    page = client.get(change_url(record.pk)).content.decode()
    assert 'id="step-publish"' not in page and 'id="step-request-changes"' not in page
    response = client.post(step_url(record.pk, "publish"), {"version": record.version}, follow=True)
    assert "You are not allowed to publish developments." in response.content.decode()
    assert DevelopmentRecord.objects.get(pk=record.pk).workflow == "in_review"


def test_an_editor_sees_exactly_the_steps_of_the_state(client, curator, editor):
    client.force_login(editor)
    draft = client.post(ADD_URL, form_data(content_data(), slug="draft-one"))
    assert draft.status_code == 302
    record = DevelopmentRecord.objects.get(slug="draft-one")
    page = client.get(change_url(record.pk)).content.decode()
    assert 'id="step-' not in page  # a draft is only saved or submitted, in the form
    assert 'value="Save and submit for review"' in page

    published = published_development(curator, editor, slug="published-one")
    page = client.get(change_url(published)).content.decode()
    assert 'id="step-retract"' in page
    assert 'id="step-publish"' not in page and 'id="step-publish-correction"' not in page


def test_an_editor_sees_the_review_steps_of_work_by_someone_else(client, curator, editor):
    from chronicle.developments import commands

    outcome = commands.draft_development(content_data(), actor=curator, slug="for-review")
    commands.submit_development(outcome.development_id, actor=curator)
    client.force_login(editor)
    page = client.get(change_url(outcome.development_id)).content.decode()
    for step in ("request-changes", "publish", "schedule"):
        assert f'id="step-{step}"' in page
    assert 'value="Save draft"' not in page  # locked while in review


def test_a_superuser_may_do_everything_but_four_eyes_still_applies(client, superuser):
    client.force_login(superuser)
    assert client.post(ADD_URL, form_data(content_data(), slug="root-work", _submit="1")).status_code == 302
    record = DevelopmentRecord.objects.get(slug="root-work")
    page = client.get(change_url(record.pk)).content.decode()
    assert 'id="four-eyes"' in page and 'id="step-request-changes"' in page
    response = client.post(step_url(record.pk, "publish"), {"version": record.version}, follow=True)
    assert "four-eyes rule" in response.content.decode()
    assert DevelopmentRecord.objects.get(pk=record.pk).workflow == "in_review"


def test_nobody_deletes_a_development(client, superuser, curator, editor):
    development_id = published_development(curator, editor)
    client.force_login(superuser)
    delete_url = reverse("admin:developments_developmentrecord_delete", args=[development_id])
    assert client.get(delete_url).status_code == 403
    assert DevelopmentRecord.objects.filter(pk=development_id).exists()


def test_demo_users_are_created_once_in_their_groups(roles, settings, capsys):
    settings.DEBUG = True
    call_command("create_demo_users")
    call_command("create_demo_users")
    out = capsys.readouterr().out
    assert "demo-curator / chronicle-demo" in out and "demo-editor / chronicle-demo" in out
    assert list(roles["Curators"].user_set.values_list("username", flat=True)) == ["demo-curator"]
    assert list(roles["Editors"].user_set.values_list("username", flat=True)) == ["demo-editor"]


def test_demo_users_are_refused_in_production(roles, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("create_demo_users")
