"""The development aggregate: its state is the fold of its events.

Command functions take the current state and return the new events, or raise a
DomainError; they never change anything themselves. `apply` is the only place state
changes, so "state == fold of events" holds by construction.

Workflow (the editorial workflow; `RULES` says where each step may start):

    draft ──submit──▶ in_review ──publish──▶ published ──revise──▶ draft (pending revision)
      ▲                  │                       │
      └─request changes──┘                       └──retract──▶ retracted

A published development stays public while a revision of it is drafted and reviewed;
the revision goes out as a correction or an update.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Iterable
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
# Developments get stable ids derived from their slug within this namespace, so an
# import of the same record twice names the same development.
NAMESPACE = uuid.UUID("6f1c2a3e-58d7-4c1b-9a57-0c4e7d7a1e10")


class Workflow(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    RETRACTED = "retracted"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Step(StrEnum):
    """What someone may do to a development; the order is the order they are offered in."""

    REVISE = "revise"
    SUBMIT = "submit"
    REQUEST_CHANGES = "request-changes"
    PUBLISH = "publish"
    SCHEDULE = "schedule"
    PUBLISH_CORRECTION = "publish-correction"
    PUBLISH_UPDATE = "publish-update"
    RETRACT = "retract"


@dataclass(frozen=True)
class Rule:
    """Where a step may start: the workflow states, and whether the development must have
    been published (True), must not have been (False) or either (None)."""

    verb: str  # "Cannot <verb> a development that is …"
    workflows: tuple[Workflow, ...]
    public: bool | None = None
    refusal: str = ""  # why not, when `public` does not hold
    publishes: bool = False  # makes a revision public: needs a source, and four eyes


RULES: dict[Step, Rule] = {
    Step.REVISE: Rule("revise", (Workflow.DRAFT, Workflow.PUBLISHED)),
    Step.SUBMIT: Rule("submit for review", (Workflow.DRAFT,)),
    Step.REQUEST_CHANGES: Rule("request changes to", (Workflow.IN_REVIEW,)),
    Step.PUBLISH: Rule(
        "publish",
        (Workflow.IN_REVIEW,),
        public=False,
        refusal="This development is already published; publish the revision as a correction or an update.",
        publishes=True,
    ),
    Step.SCHEDULE: Rule(
        "schedule",
        (Workflow.IN_REVIEW,),
        public=False,
        refusal="Only a first publication can be scheduled; publish a correction or update directly.",
        publishes=True,
    ),
    Step.PUBLISH_CORRECTION: Rule(
        "publish a correction for",
        (Workflow.IN_REVIEW,),
        public=True,
        refusal="This development has never been published; publish it first, not as a correction.",
        publishes=True,
    ),
    Step.PUBLISH_UPDATE: Rule(
        "publish an update for",
        (Workflow.IN_REVIEW,),
        public=True,
        refusal="This development has never been published; publish it first, not as an update.",
        publishes=True,
    ),
    Step.RETRACT: Rule(
        "retract",
        (Workflow.DRAFT, Workflow.IN_REVIEW, Workflow.PUBLISHED),
        public=True,
        refusal="Only a published development can be retracted.",
    ),
}


def open_steps(
    workflow: Workflow, *, is_public: bool, revision_authors: Collection[str], actor: str, four_eyes: bool = True
) -> list[Step]:
    """The steps `actor` may take now, four eyes included (permissions are the caller's
    to check). A step offered here can still be refused for what the development says,
    e.g. a publication without a source."""
    return [
        step
        for step, rule in RULES.items()
        if _refusal(rule, workflow, is_public) is None
        and not (rule.publishes and four_eyes and actor in revision_authors)
    ]


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


def development_id_for(slug: str) -> uuid.UUID:
    """The id of the development at `slug`: the same for the same slug, for good."""
    return uuid.uuid5(NAMESPACE, slug)


# -- the fold ----------------------------------------------------------------------------


def apply(state: Development | None, event: Event) -> Development:
    """The state after `event`."""
    if isinstance(event, Drafted):
        return Development(slug=event.slug, content=event.content, version=1, revision_authors=frozenset({event.actor}))
    if state is None:
        raise ValueError(f"A stream cannot start with {event.type}.")
    version = state.version + 1  # given with each change: one copy of the state per event
    if isinstance(event, Revised):
        return replace(
            state,
            version=version,
            content=event.content,
            workflow=Workflow.DRAFT,
            revision_authors=state.revision_authors | {event.actor},
            publish_at=None,
        )
    if isinstance(event, Submitted):
        return replace(state, version=version, workflow=Workflow.IN_REVIEW, review_comment="")
    if isinstance(event, ChangesRequested):
        return replace(state, version=version, workflow=Workflow.DRAFT, review_comment=event.comment, publish_at=None)
    if isinstance(event, PublicationScheduled):
        return replace(state, version=version, publish_at=event.publish_at)
    if isinstance(event, (Published, CorrectionPublished, UpdatePublished)):
        return replace(
            state,
            version=version,
            workflow=Workflow.PUBLISHED,
            published=state.content,
            revision_authors=frozenset(),
            publish_at=None,
        )
    if isinstance(event, Retracted):
        return replace(
            state, version=version, workflow=Workflow.RETRACTED, retraction_reason=event.reason, publish_at=None
        )
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
    _require(state, Step.REVISE)
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
    _require(state, Step.SUBMIT)
    if state.published is not None and state.content == state.published:
        raise NothingToSubmit("This revision changes nothing in the published version; edit it first.")
    return [Submitted(actor=actor)]


def request_changes(state: Development, comment: str, *, actor: str) -> list[Event]:
    _require(state, Step.REQUEST_CHANGES)
    return [ChangesRequested(actor=actor, comment=clean_note(comment, "Say what should change."))]


def schedule_publication(
    state: Development, publish_at: datetime, *, actor: str, four_eyes: bool = True
) -> list[Event]:
    _require(state, Step.SCHEDULE)
    if publish_at.tzinfo is None:
        raise ValueError("publish_at must be timezone-aware")
    _check_publishable(state, actor, four_eyes)
    return [PublicationScheduled(actor=actor, publish_at=publish_at)]


def publish(state: Development, *, actor: str, four_eyes: bool = True) -> list[Event]:
    _require(state, Step.PUBLISH)
    _check_publishable(state, actor, four_eyes)
    return [Published(actor=actor)]


def publish_correction(state: Development, note: str, *, actor: str, four_eyes: bool = True) -> list[Event]:
    _require(state, Step.PUBLISH_CORRECTION)
    note = clean_note(note, "A correction needs a public note saying what was corrected.")
    _check_publishable(state, actor, four_eyes)
    return [CorrectionPublished(actor=actor, note=note)]


def publish_update(state: Development, note: str, *, actor: str, four_eyes: bool = True) -> list[Event]:
    _require(state, Step.PUBLISH_UPDATE)
    note = clean_note(note, "An update needs a public note saying what is new.")
    _check_publishable(state, actor, four_eyes)
    return [UpdatePublished(actor=actor, note=note)]


def retract(state: Development, reason: str, *, actor: str) -> list[Event]:
    if state.workflow is Workflow.RETRACTED:
        raise TransitionNotAllowed("This development is already retracted.")
    _require(state, Step.RETRACT)
    return [Retracted(actor=actor, reason=clean_note(reason, "A retraction needs a reason."))]


# -- invariants --------------------------------------------------------------------------

_WORKFLOW_LABELS = {
    Workflow.DRAFT: "a draft",
    Workflow.IN_REVIEW: "in review",
    Workflow.PUBLISHED: "published",
    Workflow.RETRACTED: "retracted",
}


def _require(state: Development, step: Step) -> None:
    refusal = _refusal(RULES[step], state.workflow, state.is_public)
    if refusal is not None:
        raise TransitionNotAllowed(refusal)


def _refusal(rule: Rule, workflow: Workflow, is_public: bool) -> str | None:
    """Why the step cannot start from here; None if it can."""
    if workflow not in rule.workflows:
        wanted = " or ".join(_WORKFLOW_LABELS[w] for w in rule.workflows)
        return f"Cannot {rule.verb} a development that is {_WORKFLOW_LABELS[workflow]}; it must be {wanted}."
    if rule.public is not None and is_public != rule.public:
        return rule.refusal
    return None


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
