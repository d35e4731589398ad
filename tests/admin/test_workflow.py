from datetime import timedelta

import pytest
from django.utils import timezone

from chronicle.developments import commands
from chronicle.developments.models import DevelopmentRecord, PublicDevelopment, PublicRevision
from chronicle.eventstore.models import Event
from tests.admin.conftest import change_url, history_url, step_url
from tests.factories import content_data, published_development

pytestmark = pytest.mark.django_db


def _in_review(curator, slug="in-review", **overrides):
    outcome = commands.draft_development(content_data(**overrides), actor=curator, slug=slug)
    commands.submit_development(outcome.development_id, actor=curator)
    return outcome.development_id


def _revision_in_review(curator, editor, **overrides):
    development_id = published_development(curator, editor)
    commands.revise_development(development_id, content_data(**overrides), actor=curator)
    commands.submit_development(development_id, actor=curator)
    return development_id


def _step(client, development_id, step, **data):
    version = DevelopmentRecord.objects.get(pk=development_id).version
    response = client.post(step_url(development_id, step), {"version": version, **data}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_requesting_changes_needs_a_comment_which_the_curator_then_sees(client, curator, editor):
    development_id = _in_review(curator)
    client.force_login(editor)
    assert "Say what should change." in _step(client, development_id, "request-changes", note="  ")
    assert DevelopmentRecord.objects.get().workflow == "in_review"
    assert "Sent back to the curators" in _step(client, development_id, "request-changes", note="Add the source.")
    client.force_login(curator)
    page = client.get(change_url(development_id)).content.decode()
    assert 'id="review-comment"' in page and "Add the source." in page
    assert 'value="Save draft"' in page


def test_publishing_makes_it_public(client, curator, editor):
    development_id = _in_review(curator)
    client.force_login(editor)
    assert "Published. It is now on the public site" in _step(client, development_id, "publish")
    assert PublicDevelopment.objects.get(pk=development_id).status == "published"


def test_publishing_without_a_source_is_refused_with_the_reason(client, curator, editor):
    development_id = _in_review(curator, sources=[])
    client.force_login(editor)
    assert "Publishing requires at least one source" in _step(client, development_id, "publish")
    assert not PublicDevelopment.objects.exists()


def test_an_editor_cannot_publish_what_they_wrote(client, editor, second_editor):
    development_id = _in_review(editor)
    client.force_login(editor)
    page = client.get(change_url(development_id)).content.decode()
    assert "You wrote part of this revision, so another editor must publish it" in page
    assert 'id="step-publish"' not in page and 'id="step-schedule"' not in page
    assert "four-eyes rule" in _step(client, development_id, "publish")
    assert not PublicDevelopment.objects.exists()
    client.force_login(second_editor)
    assert "Published." in _step(client, development_id, "publish")


def test_a_correction_needs_a_public_note_and_is_published_with_it(client, curator, editor):
    development_id = _revision_in_review(curator, editor, title="Beltelecom tests 5G with ZTE")
    client.force_login(editor)
    page = client.get(change_url(development_id)).content.decode()
    assert 'id="step-publish-correction"' in page and 'id="step-publish-update"' in page
    assert 'id="step-publish"' not in page
    assert "needs a public note" in _step(client, development_id, "publish-correction", note="")
    assert "The correction is published" in _step(
        client, development_id, "publish-correction", note="The supplier was ZTE, not Huawei."
    )
    public = PublicDevelopment.objects.get()
    assert public.title == "Beltelecom tests 5G with ZTE"
    assert list(PublicRevision.objects.values_list("kind", "note")) == [
        ("published", ""),
        ("corrected", "The supplier was ZTE, not Huawei."),
    ]


def test_an_update_is_published_with_its_note(client, curator, editor):
    development_id = _revision_in_review(curator, editor, stage="implemented")
    client.force_login(editor)
    _step(client, development_id, "publish-update", note="The network is now in service.")
    assert PublicRevision.objects.last().kind == "updated"
    assert PublicDevelopment.objects.get().stage == "implemented"


def test_retracting_needs_a_reason(client, curator, editor):
    development_id = published_development(curator, editor)
    client.force_login(editor)
    assert "A retraction needs a reason." in _step(client, development_id, "retract", note="")
    _step(client, development_id, "retract", note="The source was a hoax.")
    public = PublicDevelopment.objects.get()
    assert (public.status, public.retraction_reason) == ("retracted", "The source was a hoax.")
    page = client.get(change_url(development_id)).content.decode()
    assert "The source was a hoax." in page and 'id="step-' not in page and 'value="Save' not in page


def test_scheduling_a_publication(client, curator, editor):
    development_id = _in_review(curator)
    client.force_login(editor)
    assert "Choose a time in the future." in _step(client, development_id, "schedule", publish_at="2001-01-01T10:00")
    at = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    assert "Publication scheduled." in _step(client, development_id, "schedule", publish_at=f"{at:%Y-%m-%dT%H:%M}")
    record = DevelopmentRecord.objects.get()
    assert record.publish_at == at
    assert f"Scheduled to be published on {at:%Y-%m-%d %H:%M} UTC" in client.get(change_url(record.pk)).content.decode()
    assert commands.release_scheduled_publications(now=at + timedelta(minutes=1)) == 1


def test_a_step_on_a_stale_page_is_refused_naming_the_change(client, curator, editor):
    development_id = _in_review(curator)
    seen = DevelopmentRecord.objects.get().version
    commands.request_changes(development_id, "Shorter title, please.", actor=editor)
    client.force_login(editor)
    response = client.post(step_url(development_id, "publish"), {"version": seen}, follow=True)
    assert "eddie-editor requested changes" in response.content.decode()
    assert not PublicDevelopment.objects.exists()


def test_a_step_sent_with_a_version_from_the_future_says_which_versions(client, curator, editor):
    development_id = _in_review(curator)
    client.force_login(editor)
    response = client.post(step_url(development_id, "publish"), {"version": 99}, follow=True)
    page = response.content.decode()
    assert "You sent version 99, but this development is at version 2" in page
    assert "changed by someone else" not in page
    assert not PublicDevelopment.objects.exists()


def test_four_eyes_does_not_cover_retraction_an_editor_retracts_their_own_revision_at_once(
    client, editor, second_editor, settings
):
    assert settings.CHRONICLE_FOUR_EYES
    development_id = published_development(editor, second_editor)  # eddie wrote it, erin published it
    client.force_login(editor)
    _step(client, development_id, "retract", note="Published in error.")
    assert PublicDevelopment.objects.get().status == "retracted"


def test_unknown_steps_and_gets_change_nothing(client, curator, editor):
    development_id = _in_review(curator)
    client.force_login(editor)
    assert client.post(step_url(development_id, "delete"), {"version": 2}).status_code == 404
    assert client.get(step_url(development_id, "publish")).status_code == 405
    assert client.post(step_url(development_id, "publish"), {}, follow=True).status_code == 200
    assert Event.objects.count() == 2


def test_history_shows_every_event_with_who_what_origin_and_field_diffs(client, curator, editor):
    development_id = _revision_in_review(curator, editor, summary="Beltelecom ran a 5G test network in Brest.")
    commands.request_changes(development_id, "Which city was it?", actor=editor)
    client.force_login(editor)
    html = client.get(history_url(development_id)).content.decode()
    assert html.count('class="event"') == Event.objects.count() == 6
    for text in ("Drafted", "Submitted for review", "Published", "Revised", "Requested changes", "Which city was it?"):
        assert text in html
    assert "cora-curator" in html and "eddie-editor" in html and html.count("<td>admin</td>") == 6
    revised = html[html.index('id="v4"') : html.index('id="v3"')]
    assert "<del>Minsk.</del>" in revised and "<ins>Brest.</ins>" in revised and "change-title" not in revised
    compare = html[html.index('id="compare"') : html.index('id="history"')]
    assert "<del>Minsk.</del>" in compare and "<ins>Brest.</ins>" in compare


def test_the_change_page_links_a_pending_revision_to_its_comparison(client, curator, editor):
    development_id = _revision_in_review(curator, editor, title="New title")
    client.force_login(editor)
    page = client.get(change_url(development_id)).content.decode()
    assert f'href="{history_url(development_id)}#compare"' in page
    assert (
        'id="compare"'
        not in client.get(history_url(published_development(curator, editor, slug="x-y-z"))).content.decode()
    )
