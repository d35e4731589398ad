"""The admin's editorial pages: add, change, workflow steps and history of a development.

Thin adapters over the command functions: every save and every workflow button calls one
command with the acting user and the version the page was loaded at. Nothing here writes
an event or a read model. Refusals (DomainError) come back as messages, never as errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from chronicle.domain.content import Content
from chronicle.domain.errors import DomainError, InvalidContent
from chronicle.eventstore import store

from . import commands, diffs
from .forms import DevelopmentEditor, NoteForm, ScheduleForm, post_data
from .models import DevelopmentRecord, Workflow

EDITABLE = (Workflow.DRAFT, Workflow.PUBLISHED)
SUBMITTED = "Submitted for review. An editor will publish it or ask for changes."


@dataclass(frozen=True)
class Step:
    """A workflow button: who may press it, what it asks for, which command it runs."""

    name: str
    label: str
    done: str
    permission: str
    run: Callable[..., commands.Outcome]
    note: str = ""  # the label of the text the step needs; empty if none
    placeholder: str = ""
    schedule: bool = False
    danger: bool = False

    @property
    def form_class(self):
        return ScheduleForm if self.schedule else NoteForm


STEPS = {
    step.name: step
    for step in [
        Step(
            "request-changes",
            "Request changes",
            "Sent back to the curators with your comment.",
            "review_development",
            lambda pk, user, version, data: commands.request_changes(
                pk, data["note"], actor=user, expected_version=version
            ),
            note="What should change?",
            placeholder="Shown to the curators, not to the public.",
        ),
        Step(
            "publish",
            "Publish",
            "Published. It is now on the public site, in the API and the feeds.",
            "publish_development",
            lambda pk, user, version, data: commands.publish_development(pk, actor=user, expected_version=version),
        ),
        Step(
            "schedule",
            "Schedule publication",
            "Publication scheduled.",
            "publish_development",
            lambda pk, user, version, data: commands.schedule_publication(
                pk, data["publish_at"], actor=user, expected_version=version
            ),
            schedule=True,
        ),
        Step(
            "publish-correction",
            "Publish correction",
            "The correction is published with its note.",
            "publish_development",
            lambda pk, user, version, data: commands.publish_correction(
                pk, data["note"], actor=user, expected_version=version
            ),
            note="Public note: what was corrected (required)",
            placeholder="e.g. The test took place in Minsk, not in Brest.",
        ),
        Step(
            "publish-update",
            "Publish update",
            "The update is published with its note.",
            "publish_development",
            lambda pk, user, version, data: commands.publish_update(
                pk, data["note"], actor=user, expected_version=version
            ),
            note="Public note: what is new (required)",
            placeholder="e.g. The agreement entered into force.",
        ),
        Step(
            "retract",
            "Retract",
            "Retracted. The public page now shows it as retracted, with your reason.",
            "retract_development",
            lambda pk, user, version, data: commands.retract_development(
                pk, data["note"], actor=user, expected_version=version
            ),
            note="Reason for the retraction (public, required)",
            danger=True,
        ),
    ]
}


def wrote_pending_revision(record: DevelopmentRecord, user) -> bool:
    """Whether the four-eyes rule keeps `user` from publishing this revision."""
    return settings.CHRONICLE_FOUR_EYES and str(user.pk) in record.revision_authors


def state_label(record: DevelopmentRecord) -> str:
    if record.has_pending_revision:
        return "Published · revision " + ("in review" if record.workflow == Workflow.IN_REVIEW else "drafted")
    return record.get_workflow_display()


def available_steps(record: DevelopmentRecord, user) -> list[Step]:
    """The workflow buttons `user` may press on `record` now, in the order they are shown.

    Submitting is not among them: it is the content form's "Save and submit" button, so
    unsaved edits cannot be left behind.
    """
    names = []
    published = record.published_content is not None
    if record.workflow == Workflow.IN_REVIEW:
        names.append("request-changes")
        if not wrote_pending_revision(record, user):
            names += ["publish-correction", "publish-update"] if published else ["publish", "schedule"]
    if published and record.workflow != Workflow.RETRACTED:
        names.append("retract")
    return [STEPS[name] for name in names if user.has_perm(f"developments.{STEPS[name].permission}")]


# -- pages -------------------------------------------------------------------------------


def add_development(model_admin, request):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    editor = DevelopmentEditor(request.POST if request.method == "POST" else None, adding=True)
    if request.method == "POST" and editor.is_valid():
        try:
            outcome = commands.draft_development(
                editor.content(), actor=request.user, slug=editor.slug or None, origin="admin"
            )
        except InvalidContent as invalid:
            editor.add_content_errors(invalid.errors)
        except DomainError as error:
            editor.add_error(error.message)
        else:
            messages.success(request, "Draft saved.")
            if "_submit" in request.POST:
                _submit_after_save(request, outcome)
            return redirect(_change_url(outcome.development_id))
    return _edit_page(model_admin, request, editor, None)


def change_development(model_admin, request, object_id):
    record = _record(model_admin, request, object_id)
    editable = model_admin.has_change_permission(request, record) and record.workflow in EDITABLE
    their_changes = both_changed = None
    if request.method != "POST":
        editor = DevelopmentEditor(content=record.content, version=record.version) if editable else None
        return _edit_page(model_admin, request, editor, record)
    if not model_admin.has_change_permission(request, record):
        raise PermissionDenied
    # A page loaded before the development was submitted still posts here; the command
    # refuses it with a conflict naming the submission, and the input is kept.
    editor = DevelopmentEditor(request.POST)
    if editor.is_valid():
        content = editor.content()
        try:
            outcome = commands.revise_development(
                record.pk, content, actor=request.user, expected_version=editor.form.cleaned_data["version"]
            )
        except commands.ConflictError as conflict:
            editor, their_changes, both_changed = _after_conflict(request, record, conflict, content)
            record.refresh_from_db()
        except InvalidContent as invalid:
            editor.add_content_errors(invalid.errors)
        except DomainError as error:
            editor.add_error(error.message)
        else:
            if outcome.changed:
                messages.success(request, "Saved.")
            if "_submit" in request.POST:
                _submit_after_save(request, outcome)
            elif not outcome.changed:
                messages.info(request, "Nothing had changed, so nothing was recorded.")
            return redirect(_change_url(record.pk))
    return _edit_page(model_admin, request, editor, record, their_changes=their_changes, both_changed=both_changed)


def _after_conflict(request, record: DevelopmentRecord, conflict: commands.ConflictError, mine: dict[str, Any]):
    """Rebase the curator's input on the current version and show what changed meanwhile.

    Fields the curator left alone take the current values, so saving again cannot quietly
    undo the other change; fields the curator changed keep their input.
    """
    history = store.read_stream(record.pk)
    loaded = diffs.content_at(history, conflict.expected) or {}
    current = diffs.content_at(history, conflict.actual) or {}
    # Their input passed validation before the version was checked, so it normalises.
    mine = Content.from_dict(mine).to_dict()
    untouched = [name for name in diffs.FIELD_LABELS if mine.get(name) == loaded.get(name)]
    data = request.POST.copy()
    for name in untouched:
        for key in [key for key in data if key == name or key.startswith(f"{name}-")]:
            del data[key]
    for key, values in post_data(current, untouched).items():
        data.setlist(key, values)
    data["version"] = str(conflict.actual)
    editor = DevelopmentEditor(data)
    editor.is_valid()
    editor.add_error(conflict.message)
    their_changes = diffs.compare(loaded, current)
    both_changed = [change.label for change in their_changes if change.name not in untouched]
    return editor, their_changes, both_changed


def _submit_after_save(request, outcome: commands.Outcome) -> None:
    try:
        commands.submit_development(outcome.development_id, actor=request.user, expected_version=outcome.version)
    except DomainError as error:
        messages.error(request, f"Not submitted: {error.message}")
    else:
        messages.success(request, SUBMITTED)


def run_step(model_admin, request, object_id, step_name):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    record = _record(model_admin, request, object_id)
    step = STEPS.get(step_name)
    if step is None:
        raise Http404("No such workflow step.")
    form = step.form_class(request.POST)
    if not form.is_valid():
        problems = " ".join(error for errors in form.errors.values() for error in errors)
        messages.error(request, f"{step.label}: {problems}")
        return redirect(_change_url(record.pk))
    try:
        step.run(record.pk, request.user, form.cleaned_data["version"], form.cleaned_data)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, step.done)
    return redirect(_change_url(record.pk))


def development_history(model_admin, request, object_id):
    record = _record(model_admin, request, object_id)
    entries = diffs.history(store.read_stream(record.pk))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": DevelopmentRecord._meta,
        "title": f"History of “{record.title}”",
        "record": record,
        "entries": list(reversed(entries)),
        "pending_changes": (
            diffs.compare(record.published_content, record.content) if record.has_pending_revision else None
        ),
    }
    return TemplateResponse(request, "admin/developments/history.html", context)


# -- helpers -----------------------------------------------------------------------------


def _record(model_admin, request, object_id) -> DevelopmentRecord:
    record = model_admin.get_object(request, object_id)
    if record is None:
        raise Http404("No development has this id.")
    if not model_admin.has_view_permission(request, record):
        raise PermissionDenied
    return record


def _change_url(pk) -> str:
    return reverse("admin:developments_developmentrecord_change", args=[pk])


def _edit_page(model_admin, request, editor: DevelopmentEditor | None, record: DevelopmentRecord | None, **extra: Any):
    user = request.user
    steps = []
    if record is not None:
        for step in available_steps(record, user):
            steps.append((step, step.form_class(initial={"version": record.version})))
    blocked_by_four_eyes = (
        record is not None
        and record.workflow == Workflow.IN_REVIEW
        and user.has_perm("developments.publish_development")
        and wrote_pending_revision(record, user)
    )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": DevelopmentRecord._meta,
        "title": "Add development" if record is None else record.title,
        "record": record,
        "editor": editor,
        "editable": editor is not None,
        "facts": diffs.facts(record.content) if editor is None else None,
        "state": state_label(record) if record else "",
        "steps": steps,
        "blocked_by_four_eyes": blocked_by_four_eyes,
        "media": model_admin.media + editor.media if editor else model_admin.media,
        **extra,
    }
    return TemplateResponse(request, "admin/developments/edit.html", context)
