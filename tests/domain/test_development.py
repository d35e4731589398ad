from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chronicle.domain import development as d
from chronicle.domain.content import Content
from chronicle.domain.errors import (
    FourEyesViolation,
    InvalidContent,
    NothingToSubmit,
    ReasonRequired,
    SourceRequired,
    TransitionNotAllowed,
)
from chronicle.domain.events import event_from_stored
from tests.factories import content_data

CONTENT = Content.from_dict(content_data())
CURATOR, EDITOR = "1", "2"


def run(*steps, state=None):
    """Apply command steps in order; return (state, all events)."""
    events = []
    for step in steps:
        new = step(state)
        events += new
        for event in new:
            state = d.apply(state, event)
    return state, events


def published():
    return run(
        lambda s: d.draft("beltelecom-5g", CONTENT, actor=CURATOR),
        lambda s: d.submit(s, actor=CURATOR),
        lambda s: d.publish(s, actor=EDITOR),
    )


def test_the_happy_path_publishes_the_reviewed_content():
    state, events = published()
    assert state.workflow is d.Workflow.PUBLISHED
    assert state.published == CONTENT
    assert state.version == len(events) == 3


def test_publishing_requires_a_source():
    state, _ = run(
        lambda s: d.draft("no-sources", replace(CONTENT, sources=()), actor=CURATOR),
        lambda s: d.submit(s, actor=CURATOR),
    )
    with pytest.raises(SourceRequired):
        d.publish(state, actor=EDITOR)


def test_an_editor_cannot_publish_a_revision_they_wrote():
    state, _ = run(
        lambda s: d.draft("own-work", CONTENT, actor=EDITOR),
        lambda s: d.submit(s, actor=EDITOR),
    )
    with pytest.raises(FourEyesViolation):
        d.publish(state, actor=EDITOR)
    assert d.publish(state, actor=EDITOR, four_eyes=False)


def test_a_co_author_of_a_revision_cannot_publish_it_either():
    state, _ = published()
    state, _ = run(
        lambda s: d.revise(s, replace(CONTENT, title="Edited by editor"), actor=EDITOR),
        lambda s: d.revise(s, replace(CONTENT, title="Then by curator"), actor=CURATOR),
        lambda s: d.submit(s, actor=CURATOR),
        state=state,
    )
    with pytest.raises(FourEyesViolation):
        d.publish_correction(state, "Fixed the title", actor=EDITOR)


def test_retracting_needs_a_reason():
    state, _ = published()
    with pytest.raises(ReasonRequired):
        d.retract(state, "  ", actor=EDITOR)
    state = d.apply(state, d.retract(state, "Duplicate entry", actor=EDITOR)[0])
    assert state.workflow is d.Workflow.RETRACTED
    assert state.retraction_reason == "Duplicate entry"


def test_a_correction_needs_a_note_and_keeps_the_old_version_public_until_published():
    state, _ = published()
    corrected = replace(CONTENT, title="Beltelecom tests 5G with ZTE")
    state = d.apply(state, d.revise(state, corrected, actor=CURATOR)[0])
    assert state.published == CONTENT and state.has_pending_revision
    state = d.apply(state, d.submit(state, actor=CURATOR)[0])
    with pytest.raises(ReasonRequired):
        d.publish_correction(state, "", actor=EDITOR)
    with pytest.raises(TransitionNotAllowed):
        d.publish(state, actor=EDITOR)
    state = d.apply(state, d.publish_correction(state, "The supplier was ZTE.", actor=EDITOR)[0])
    assert state.published == corrected and not state.has_pending_revision


def test_steps_not_allowed_from_the_current_state_are_refused():
    state, _ = run(lambda s: d.draft("x-draft", CONTENT, actor=CURATOR))
    with pytest.raises(TransitionNotAllowed, match="must be in review"):
        d.publish(state, actor=EDITOR)
    with pytest.raises(TransitionNotAllowed):
        d.retract(state, "why", actor=EDITOR)
    with pytest.raises(TransitionNotAllowed):
        d.request_changes(state, "more", actor=EDITOR)
    with pytest.raises(TransitionNotAllowed):
        d.publish_update(state, "note", actor=EDITOR)


def test_resubmitting_an_unchanged_published_development_is_refused():
    state, _ = published()
    state = d.apply(state, d.revise(state, replace(CONTENT, title="temp"), actor=CURATOR)[0])
    state = d.apply(state, d.revise(state, CONTENT, actor=CURATOR)[0])
    with pytest.raises(NothingToSubmit):
        d.submit(state, actor=CURATOR)


def test_scheduling_is_for_first_publications_and_checks_four_eyes():
    state, _ = run(
        lambda s: d.draft("embargoed", CONTENT, actor=CURATOR),
        lambda s: d.submit(s, actor=CURATOR),
    )
    when = datetime(2030, 1, 1, tzinfo=UTC)
    state = d.apply(state, d.schedule_publication(state, when, actor=EDITOR)[0])
    assert state.publish_at == when
    with pytest.raises(FourEyesViolation):
        d.schedule_publication(state, when, actor=CURATOR)


def test_invalid_slug_is_refused():
    with pytest.raises(InvalidContent, match="slug"):
        d.draft("Not A Slug!", CONTENT, actor=CURATOR)


# -- state == fold of events -------------------------------------------------------------

titles = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20)
actors = st.sampled_from(["1", "2", "3"])
steps = st.lists(
    st.one_of(
        st.tuples(st.just("revise"), actors, titles),
        st.tuples(st.just("submit"), actors, st.none()),
        st.tuples(st.just("request_changes"), actors, titles),
        st.tuples(st.just("publish"), actors, st.none()),
        st.tuples(st.just("publish_correction"), actors, titles),
        st.tuples(st.just("publish_update"), actors, titles),
        st.tuples(st.just("retract"), actors, titles),
    ),
    max_size=25,
)


AFTER = {
    "revise": d.Workflow.DRAFT,
    "submit": d.Workflow.IN_REVIEW,
    "request_changes": d.Workflow.DRAFT,
    "publish": d.Workflow.PUBLISHED,
    "publish_correction": d.Workflow.PUBLISHED,
    "publish_update": d.Workflow.PUBLISHED,
    "retract": d.Workflow.RETRACTED,
}


def attempt(state, name, actor, text):
    """Run one command; a refused command returns no events (and must change nothing)."""
    try:
        if name == "revise":
            return d.revise(state, replace(state.content, title=text.strip() or "t"), actor=actor)
        if name in ("submit", "publish"):
            return getattr(d, name)(state, actor=actor)
        return getattr(d, name)(state, text, actor=actor)
    except (TransitionNotAllowed, FourEyesViolation, ReasonRequired, NothingToSubmit, SourceRequired):
        return []


@settings(max_examples=200, deadline=None)  # a property, not a timing: CI machines are shared
@given(steps)
def test_state_is_always_the_fold_of_the_recorded_events(script):
    events = d.draft("property", CONTENT, actor="1")
    state = d.fold(events)
    for name, actor, text in script:
        before = state
        new = attempt(state, name, actor, text)
        for event in new:
            state = d.apply(state, event)
        events += new
        # What the store keeps is each event's type, data and actor; the state must be
        # the fold of exactly that.
        assert d.fold(event_from_stored(e.type, e.data(), e.actor) for e in events) == state
        assert state.version == len(events)
        if new:
            assert state.workflow is AFTER[name]
            if name.startswith("publish"):
                assert actor not in before.revision_authors, "four eyes"
        if state.workflow is d.Workflow.PUBLISHED:
            assert state.published == state.content
        if state.published is None:
            assert state.workflow in (d.Workflow.DRAFT, d.Workflow.IN_REVIEW)
