import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import DataError, connection
from django.utils import timezone

from chronicle import libpq
from chronicle.developments import commands, projections
from chronicle.developments.models import DevelopmentRecord, PublicDevelopment, PublicRevision
from chronicle.developments.signals import public_events_committed
from chronicle.domain import development as domain
from chronicle.domain.development import Step
from chronicle.domain.errors import FourEyesViolation, InvalidContent, SourceRequired
from chronicle.eventstore import store
from chronicle.eventstore.models import Event
from chronicle.libpq import Statement
from tests.factories import content_data, published_development

pytestmark = pytest.mark.django_db


def test_drafting_records_an_event_with_who_where_and_why(curator):
    outcome = commands.draft_development(content_data(), actor=curator, slug="beltelecom-5g-2021", origin="api")
    event = Event.objects.get()
    assert event.stream_id == outcome.development_id
    assert event.type == "development.drafted"
    assert event.metadata["actor"] == {"id": str(curator.pk), "username": "cora-curator"}
    assert event.metadata["origin"] == "api"
    assert event.metadata["correlation_id"] and event.metadata["causation_id"]
    record = DevelopmentRecord.objects.get()
    assert (record.workflow, record.version, record.last_changed_by) == ("draft", 1, "cora-curator")
    assert not PublicDevelopment.objects.exists()


def test_a_malformed_command_appends_nothing(curator):
    with pytest.raises(InvalidContent) as raised:
        commands.draft_development(content_data(title="", countries=["XX"], topics=["unknown"]), actor=curator)
    assert {"title", "countries", "topics"} <= set(raised.value.errors)
    assert not Event.objects.exists()


def test_the_workflow_publishes_into_the_public_read_model(curator, editor):
    development_id = published_development(curator, editor)
    public = PublicDevelopment.objects.get(id=development_id)
    assert public.status == "published"
    assert sorted(public.country_rows.values_list("code", flat=True)) == ["BY", "CN"]
    assert list(public.topic_rows.values_list("slug", flat=True)) == ["5g"]
    assert str(public.date_earliest) == "2021-06-01" and str(public.date_latest) == "2021-06-30"
    assert DevelopmentRecord.objects.get(id=development_id).workflow == "published"


def test_a_curator_cannot_publish(curator):
    outcome = commands.draft_development(content_data(), actor=curator, slug="x-curator")
    commands.submit_development(outcome.development_id, actor=curator)
    with pytest.raises(commands.NotAllowed):
        commands.publish_development(outcome.development_id, actor=curator)


def test_four_eyes_is_enforced_for_an_editor_who_wrote_the_revision(editor):
    outcome = commands.draft_development(content_data(), actor=editor, slug="own-work")
    commands.submit_development(outcome.development_id, actor=editor)
    with pytest.raises(FourEyesViolation):
        commands.publish_development(outcome.development_id, actor=editor)
    assert Event.objects.count() == 2


def test_publishing_without_a_source_is_refused(curator, editor):
    outcome = commands.draft_development(content_data(sources=[]), actor=curator, slug="no-source")
    commands.submit_development(outcome.development_id, actor=curator)
    with pytest.raises(SourceRequired):
        commands.publish_development(outcome.development_id, actor=editor)


def test_a_stale_save_names_who_changed_what_and_records_nothing(curator, editor):
    outcome = commands.draft_development(content_data(), actor=curator, slug="contested")
    commands.revise_development(outcome.development_id, content_data(title="Editor's title"), actor=editor)
    with pytest.raises(commands.ConflictError) as raised:
        commands.revise_development(
            outcome.development_id, content_data(summary="Mine"), actor=curator, expected_version=1
        )
    assert "eddie-editor changed title" in raised.value.message
    assert Event.objects.count() == 2


def test_a_correction_keeps_history_and_announces_itself_after_commit(
    curator, editor, django_capture_on_commit_callbacks
):
    development_id = published_development(curator, editor)
    announced = []

    def receiver(sender, events, **kwargs):
        announced.extend(events)

    public_events_committed.connect(receiver)
    try:
        commands.revise_development(development_id, content_data(title="Corrected title"), actor=curator)
        commands.submit_development(development_id, actor=curator)
        with django_capture_on_commit_callbacks(execute=True):
            commands.publish_correction(development_id, "The title was wrong.", actor=editor)
    finally:
        public_events_committed.disconnect(receiver)
    assert [e.type for e in announced] == ["development.corrected"]
    public = PublicDevelopment.objects.get(id=development_id)
    assert public.title == "Corrected title"
    revisions = list(PublicRevision.objects.filter(development=public).values_list("kind", "note"))
    assert revisions == [("published", ""), ("corrected", "The title was wrong.")]


def test_a_retracted_development_stays_as_a_tombstone(curator, editor):
    development_id = published_development(curator, editor)
    commands.retract_development(development_id, "Duplicate of another entry", actor=editor)
    public = PublicDevelopment.objects.get(id=development_id)
    assert (public.status, public.retraction_reason) == ("retracted", "Duplicate of another entry")


def test_scheduled_publication_is_released_when_due_and_only_once(curator, editor):
    outcome = commands.draft_development(content_data(), actor=curator, slug="embargoed")
    commands.submit_development(outcome.development_id, actor=curator)
    publish_at = timezone.now() + timedelta(hours=1)
    commands.schedule_publication(outcome.development_id, publish_at, actor=editor)
    assert commands.release_scheduled_publications(now=timezone.now()) == 0
    assert commands.release_scheduled_publications(now=publish_at) == 1
    assert commands.release_scheduled_publications(now=publish_at) == 0
    published = Event.objects.get(type="development.published")
    scheduled = Event.objects.get(type="development.publication_scheduled")
    assert published.metadata["actor"]["username"] == "eddie-editor"
    assert published.metadata["causation_id"] == str(scheduled.event_id)
    assert PublicDevelopment.objects.filter(id=outcome.development_id).exists()


def test_a_scheduled_publication_whose_editor_lost_the_right_is_cancelled_and_editors_are_told(
    curator, editor, second_editor, django_capture_on_commit_callbacks
):
    from django.core import mail

    second_editor.email = "erin@example.org"
    second_editor.save()
    outcome = commands.draft_development(content_data(title="Embargoed"), actor=curator, slug="embargoed")
    commands.submit_development(outcome.development_id, actor=curator)
    publish_at = timezone.now() + timedelta(hours=1)
    commands.schedule_publication(outcome.development_id, publish_at, actor=editor)
    editor.groups.clear()
    editor.user_permissions.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert commands.release_scheduled_publications(now=publish_at) == 0

    assert not PublicDevelopment.objects.filter(id=outcome.development_id).exists()
    record = DevelopmentRecord.objects.get(id=outcome.development_id)
    assert (record.workflow, record.publish_at) == ("draft", None)
    assert "eddie-editor, who scheduled it, may no longer publish" in record.review_comment
    (notice,) = mail.outbox
    assert notice.bcc == ["erin@example.org"] and notice.subject == "Scheduled publication cancelled: Embargoed"
    # Nothing is left to release.
    assert commands.release_scheduled_publications(now=publish_at) == 0
    assert not Event.objects.filter(type="development.published").exists()


def test_the_same_slug_cannot_be_drafted_twice(curator):
    commands.draft_development(content_data(), actor=curator, slug="only-once")
    with pytest.raises(commands.DomainError, match="already exists"):
        commands.draft_development(content_data(), actor=curator, slug="only-once")


def test_a_slug_derived_from_the_title_gets_a_number_only_when_it_is_taken(curator):
    first = commands.draft_development(content_data(title="Beltelecom tests 5G"), actor=curator)
    second = commands.draft_development(content_data(title="Beltelecom tests 5G"), actor=curator)
    third = commands.draft_development(content_data(title="Beltelecom tests 5G!"), actor=curator)
    slugs = [DevelopmentRecord.objects.get(pk=outcome.development_id).slug for outcome in (first, second, third)]
    assert slugs == ["beltelecom-tests-5g", "beltelecom-tests-5g-2", "beltelecom-tests-5g-3"]


def as_another_process(command) -> None:
    """Run `command` on a connection (and a thread) of its own, as another worker would."""

    def run():
        try:
            command()
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()


def submit_after_a_rival_revision(monkeypatch, development_id, rival) -> list[int]:
    """Make the next submission of `development_id` let `rival` revise it, from another
    connection, between loading it and appending; return the versions each decision saw."""
    decided_on = []

    def submit_after_a_rival(state, *, actor):
        decided_on.append(state.version)
        if len(decided_on) == 1:
            as_another_process(
                lambda: commands.revise_development(development_id, content_data(summary="Theirs."), actor=rival)
            )
        return domain.submit(state, actor=actor)

    step = commands.STEP_COMMANDS[Step.SUBMIT]
    monkeypatch.setitem(commands.STEP_COMMANDS, Step.SUBMIT, replace(step, decide=submit_after_a_rival))
    return decided_on


def test_a_command_whose_development_changed_after_it_loaded_decides_again_on_the_change(
    transactional_db, curator, editor, monkeypatch
):
    development_id = commands.draft_development(content_data(), actor=curator, slug="raced").development_id
    decided_on = submit_after_a_rival_revision(monkeypatch, development_id, editor)

    outcome = commands.submit_development(development_id, actor=curator)

    assert decided_on == [1, 2]  # the first decision's append found version 2 taken, and nothing of it stayed
    assert outcome.version == 3
    events = Event.objects.filter(stream_id=development_id).order_by("version")
    assert [(event.version, event.type, event.metadata["actor"]["username"]) for event in events] == [
        (1, "development.drafted", curator.username),
        (2, "development.revised", editor.username),
        (3, "development.submitted", curator.username),
    ]
    record = DevelopmentRecord.objects.get(id=development_id)
    assert (record.version, record.workflow, record.content["summary"]) == (3, "in_review", "Theirs.")


def test_a_command_for_a_version_taken_after_it_loaded_is_refused_with_what_changed(
    transactional_db, curator, editor, monkeypatch
):
    development_id = commands.draft_development(content_data(), actor=curator, slug="raced").development_id
    decided_on = submit_after_a_rival_revision(monkeypatch, development_id, editor)

    with pytest.raises(commands.ConflictError) as raised:
        commands.submit_development(development_id, actor=curator, expected_version=1)

    assert decided_on == [1]
    assert raised.value.changes and raised.value.changes[0].startswith(f"{editor.username} changed summary")
    record = DevelopmentRecord.objects.get(id=development_id)
    assert (record.version, record.workflow) == (2, "draft")  # the command's writes went with its rollback
    assert Event.objects.filter(stream_id=development_id).count() == 2
    # The next writer goes on: nothing was left locked.
    assert commands.draft_development(content_data(), actor=curator, slug="after").version == 1


@pytest.mark.postgres
def test_a_command_after_another_process_changed_the_development_decides_on_the_change(
    transactional_db, curator, editor
):
    """A command starts from the state the last command of its thread left (no round trip);
    when another process appended since, the log refuses that start and it decides again."""
    development_id = commands.draft_development(content_data(), actor=curator, slug="shared").development_id
    as_another_process(
        lambda: commands.revise_development(development_id, content_data(summary="Theirs."), actor=editor)
    )

    assert commands.submit_development(development_id, actor=curator).version == 3

    record = DevelopmentRecord.objects.get(id=development_id)
    assert (record.version, record.workflow, record.content["summary"]) == (3, "in_review", "Theirs.")
    assert [e.type for e in store.read_stream(development_id)] == [
        "development.drafted",
        "development.revised",
        "development.submitted",
    ]


@pytest.mark.postgres
def test_a_refusal_on_what_this_process_last_saw_is_checked_against_the_read_model(transactional_db, curator, editor):
    development_id = commands.draft_development(content_data(), actor=curator, slug="shared").development_id
    commands.submit_development(development_id, actor=curator)  # in review, as this process last saw it
    as_another_process(lambda: commands.request_changes(development_id, "Cite the decree.", actor=editor))

    # Submitting what this process last saw in review would be refused; the development is a draft again.
    assert commands.submit_development(development_id, actor=curator).version == 4
    assert DevelopmentRecord.objects.get(id=development_id).workflow == "in_review"


@pytest.mark.postgres
def test_nothing_to_do_on_what_this_process_last_saw_is_checked_against_the_read_model(
    transactional_db, curator, editor
):
    development_id = commands.draft_development(
        content_data(summary="Mine."), actor=curator, slug="shared"
    ).development_id
    as_another_process(
        lambda: commands.revise_development(development_id, content_data(summary="Theirs."), actor=editor)
    )

    # The same content as this process last saw is a change from what the other process saved.
    outcome = commands.revise_development(development_id, content_data(summary="Mine."), actor=curator)

    assert (outcome.changed, outcome.version) == (True, 3)
    assert DevelopmentRecord.objects.get(id=development_id).content["summary"] == "Mine."


@pytest.mark.postgres
@pytest.mark.parametrize("failing", ["a statement after the append", "an interruption before the commit"])
def test_a_command_whose_transaction_fails_after_its_append_records_nothing(
    transactional_db, curator, monkeypatch, failing
):
    """A command's statements travel together, and the pipeline's sync commits them: a failure
    after the append, on the server or while the statements are being sent, must undo it."""
    development_id = commands.draft_development(content_data(), actor=curator, slug="half").development_id
    if failing == "a statement after the append":
        real_statements = projections.save_statements
        monkeypatch.setattr(
            projections, "save_statements", lambda projected: [*real_statements(projected), Statement("SELECT 1/0")]
        )
        expected: type[Exception] = DataError
    else:
        real_encoded, sent = libpq._encoded, []

        def interrupted_after_the_append(params):  # the append is on its way; the rest and the sync are not
            sent.append(params)
            if len(sent) == 2:
                raise RuntimeError("interrupted")
            return real_encoded(params)

        monkeypatch.setattr(libpq, "_encoded", interrupted_after_the_append)
        expected = RuntimeError
    with pytest.raises(expected):
        commands.submit_development(development_id, actor=curator)
    monkeypatch.undo()

    assert list(Event.objects.filter(stream_id=development_id).values_list("version", flat=True)) == [1]
    assert DevelopmentRecord.objects.get(id=development_id).workflow == "draft"
    assert commands.submit_development(development_id, actor=curator).version == 2


@pytest.mark.postgres
def test_drafting_a_taken_slug_outside_any_transaction_records_nothing(transactional_db, curator):
    commands.draft_development(content_data(title="First"), actor=curator, slug="only-once")
    with pytest.raises(commands.DomainError, match="already exists"):
        commands.draft_development(content_data(title="Second"), actor=curator, slug="only-once")
    assert DevelopmentRecord.objects.get(slug="only-once").title == "First"
    assert Event.objects.count() == 1


@pytest.mark.postgres
def test_a_publication_sent_with_its_writes_announces_the_positions_it_was_given(transactional_db, curator, editor):
    """Outside a transaction a publication's read-model writes go before the append has
    answered; once it commits, what it announces carries the positions the log gave."""
    announced = []

    def receiver(sender, events, revisions, **kwargs):
        announced.append(([e.position for e in events], [(r.position, r.version, r.kind) for r in revisions]))

    public_events_committed.connect(receiver)
    try:
        development_id = published_development(curator, editor)
    finally:
        public_events_committed.disconnect(receiver)
    published = Event.objects.get(stream_id=development_id, type="development.published")
    assert announced == [([published.position], [(published.position, published.version, "published")])]
    assert list(PublicRevision.objects.values_list("position", flat=True)) == [published.position]
    assert PublicDevelopment.objects.get(id=development_id).last_public_position == published.position
