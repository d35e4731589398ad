"""The development aggregate: its state is the fold of its events.

Command functions take the current state and return the new events, or raise a
DomainError; they never change anything themselves. `apply` is the only place state
changes, so "state == fold of events" holds by construction.

Workflow (DESIGN.md):

    draft ──submit──▶ in_review ──publish──▶ published ──revise──▶ draft (pending revision)
      ▲                  │                       │
      └─request changes──┘                       └──retract──▶ retracted

A published development stays public while a revision of it is drafted and reviewed;
the revision goes out as a correction or an update.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from .content import Content, clean_text
from .errors import (
    FourEyesViolation,
    InvalidContent,
    NothingToSubmit,
    ReasonRequired,
    SourceRequired,
    TransitionNotAllowed,
)
from .events import (
    ChangesRequested,
    CorrectionPublished,
    Drafted,
    Event,
    PublicationScheduled,
    Published,
    Retracted,
    Revised,
    Submitted,
    UpdatePublished,
)

MAX_NOTE = 2000
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{2,119}")


class Workflow(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    RETRACTED = "retracted"


@dataclass(frozen=True)
class Development:
    slug: str
    content: Content
    workflow: Workflow = Workflow.DRAFT
    version: int = 0
    published: Content | None = None
    # Everyone who wrote part of the revision now pending; none of them may publish it.
    revision_authors: frozenset[str] = frozenset()
    publish_at: datetime | None = None
    retraction_reason: str = ""
    review_comment: str = ""

    @property
    def has_pending_revision(self) -> bool:
        return self.workflow in (Workflow.DRAFT, Workflow.IN_REVIEW) and self.published is not None

    @property
    def is_public(self) -> bool:
        return self.published is not None


# -- the fold ----------------------------------------------------------------------------


def apply(state: Development | None, event: Event) -> Development:
    """The state after `event`."""
    if isinstance(event, Drafted):
        return Development(slug=event.slug, content=event.content, version=1, revision_authors=frozenset({event.actor}))
    if state is None:
        raise ValueError(f"A stream cannot start with {event.type}.")
    state = replace(state, version=state.version + 1)
    if isinstance(event, Revised):
        return replace(
            state,
            content=event.content,
            workflow=Workflow.DRAFT,
            revision_authors=state.revision_authors | {event.actor},
            publish_at=None,
        )
    if isinstance(event, Submitted):
        return replace(state, workflow=Workflow.IN_REVIEW, review_comment="")
    if isinstance(event, ChangesRequested):
        return replace(state, workflow=Workflow.DRAFT, review_comment=event.comment, publish_at=None)
    if isinstance(event, PublicationScheduled):
        return replace(state, publish_at=event.publish_at)
    if isinstance(event, (Published, CorrectionPublished, UpdatePublished)):
        return replace(
            state,
            workflow=Workflow.PUBLISHED,
            published=state.content,
            revision_authors=frozenset(),
            publish_at=None,
        )
    if isinstance(event, Retracted):
        return replace(state, workflow=Workflow.RETRACTED, retraction_reason=event.reason, publish_at=None)
    raise ValueError(f"Unknown event {event!r}")


def fold(events: Iterable[Event]) -> Development | None:
    state: Development | None = None
    for event in events:
        state = apply(state, event)
    return state


# -- commands ----------------------------------------------------------------------------


def draft(slug: str, content: Content, *, actor: str) -> list[Event]:
    if not SLUG.fullmatch(slug or ""):
        raise InvalidContent(
            {"slug": ["use lower-case letters, digits and hyphens (3 to 120), e.g. by-cn-treaty-2015."]}
        )
    return [Drafted(actor=actor, slug=slug, content=content)]


def revise(state: Development, content: Content, *, actor: str) -> list[Event]:
    _require(state, "revise", Workflow.DRAFT, Workflow.PUBLISHED)
    if content == state.content:
        return []
    return [Revised(actor=actor, content=content)]


def submit(state: Development, *, actor: str) -> list[Event]:
    if state.workflow is Workflow.PUBLISHED:
        # A published development becomes a draft by its first change, so nothing was changed.
        raise NothingToSubmit(
            "Nothing changed since it was published, so there is nothing to review. "
            "Change a fact or a source, then choose “Save and submit for review”."
        )
    _require(state, "submit for review", Workflow.DRAFT)
    if state.published is not None and state.content == state.published:
        raise NothingToSubmit("This revision changes nothing in the published version; edit it first.")
    return [Submitted(actor=actor)]


def request_changes(state: Development, comment: str, *, actor: str) -> list[Event]:
    _require(state, "request changes to", Workflow.IN_REVIEW)
    return [ChangesRequested(actor=actor, comment=clean_note(comment, "Say what should change."))]


def schedule_publication(
    state: Development, publish_at: datetime, *, actor: str, four_eyes: bool = True
) -> list[Event]:
    _require(state, "schedule", Workflow.IN_REVIEW)
    if state.published is not None:
        raise TransitionNotAllowed(
            "Only a first publication can be scheduled; publish a correction or update directly."
        )
    if publish_at.tzinfo is None:
        raise ValueError("publish_at must be timezone-aware")
    _check_publishable(state, actor, four_eyes)
    return [PublicationScheduled(actor=actor, publish_at=publish_at)]


def publish(state: Development, *, actor: str, four_eyes: bool = True) -> list[Event]:
    _require(state, "publish", Workflow.IN_REVIEW)
    if state.published is not None:
        raise TransitionNotAllowed(
            "This development is already published; publish the revision as a correction or an update."
        )
    _check_publishable(state, actor, four_eyes)
    return [Published(actor=actor)]


def publish_correction(state: Development, note: str, *, actor: str, four_eyes: bool = True) -> list[Event]:
    _require_revision_in_review(state, "a correction")
    note = clean_note(note, "A correction needs a public note saying what was corrected.")
    _check_publishable(state, actor, four_eyes)
    return [CorrectionPublished(actor=actor, note=note)]


def publish_update(state: Development, note: str, *, actor: str, four_eyes: bool = True) -> list[Event]:
    _require_revision_in_review(state, "an update")
    note = clean_note(note, "An update needs a public note saying what is new.")
    _check_publishable(state, actor, four_eyes)
    return [UpdatePublished(actor=actor, note=note)]


def retract(state: Development, reason: str, *, actor: str) -> list[Event]:
    if state.workflow is Workflow.RETRACTED:
        raise TransitionNotAllowed("This development is already retracted.")
    if state.published is None:
        raise TransitionNotAllowed("Only a published development can be retracted.")
    return [Retracted(actor=actor, reason=clean_note(reason, "A retraction needs a reason."))]


# -- invariants --------------------------------------------------------------------------

_WORKFLOW_LABELS = {
    Workflow.DRAFT: "a draft",
    Workflow.IN_REVIEW: "in review",
    Workflow.PUBLISHED: "published",
    Workflow.RETRACTED: "retracted",
}


def _require(state: Development, step: str, *allowed: Workflow) -> None:
    if state.workflow not in allowed:
        wanted = " or ".join(_WORKFLOW_LABELS[w] for w in allowed)
        raise TransitionNotAllowed(
            f"Cannot {step} a development that is {_WORKFLOW_LABELS[state.workflow]}; it must be {wanted}."
        )


def _require_revision_in_review(state: Development, what: str) -> None:
    _require(state, f"publish {what} for", Workflow.IN_REVIEW)
    if state.published is None:
        raise TransitionNotAllowed(f"This development has never been published; publish it first, not as {what}.")


def _check_publishable(state: Development, actor: str, four_eyes: bool) -> None:
    if not state.content.sources:
        raise SourceRequired("Publishing requires at least one source; add one and resubmit.")
    if four_eyes and actor in state.revision_authors:
        raise FourEyesViolation("You wrote part of this revision, so another editor must publish it (four-eyes rule).")


def clean_note(text: str, message: str) -> str:
    """A workflow note as recorded: plain text, trimmed, not empty (`message` says why if it is)."""
    text, problem = clean_text(text or "")
    if problem:
        raise InvalidContent({"note": [problem]})
    if not text:
        raise ReasonRequired(message)
    if len(text) > MAX_NOTE:
        raise ReasonRequired(f"Keep it under {MAX_NOTE} characters.")
    return text
