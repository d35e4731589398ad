"""The admin's editorial pages: add, change, workflow steps and history of a development.

Thin adapters over the command functions: every save and every workflow button calls one
command with the acting user and the version the page was loaded at. Nothing here writes
an event or a read model. Refusals (DomainError) come back as messages, never as errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from chronicle.domain.content import Content
from chronicle.domain.development import RULES, Step, Workflow, open_steps
from chronicle.domain.errors import DomainError, InvalidContent
from chronicle.eventstore import store

from . import commands, diffs
from .forms import DevelopmentEditor, NoteForm, ScheduleForm, post_data
from .models import DevelopmentRecord

SUBMITTED = "Submitted for review. An editor will publish it or ask for changes."


@dataclass(frozen=True)
class Button:
    """How the admin offers a workflow step: its button, what it asks for, what it says after."""

    step: Step
    label: str
    done: str
    note: str = ""  # the label of the text the step needs; empty if none
    placeholder: str = ""
    schedule: bool = False
    danger: bool = False

    @property
    def name(self) -> str:
        return self.step.value

    @property
    def form_class(self):
        return ScheduleForm if self.schedule else NoteForm

    def inputs(self, data: dict[str, Any]) -> list[Any]:
        """What the step's command takes from the submitted form."""
        return [data["publish_at"]] if self.schedule else [data["note"]] if self.note else []


# Submitting is not a button here: it is the content form's "Save and submit", so unsaved
# edits cannot be left behind.
BUTTONS = {
    button.step: button
    for button in [
        Button(
            Step.REQUEST_CHANGES,
            "Request changes",
            "Sent back to the curators with your comment.",
            note="What should change?",
            placeholder="Shown to the curators, not to the public.",
        ),
        Button(Step.PUBLISH, "Publish", "Published. It is now on the public site, in the API and the feeds."),
        Button(Step.SCHEDULE, "Schedule publication", "Publication scheduled.", schedule=True),
        Button(
            Step.PUBLISH_CORRECTION,
            "Publish correction",
            "The correction is published with its note.",
            note="Public note: what was corrected (required)",
            placeholder="e.g. The test took place in Minsk, not in Brest.",
        ),
        Button(
            Step.PUBLISH_UPDATE,
            "Publish update",
            "The update is published with its note.",
            note="Public note: what is new (required)",
            placeholder="e.g. The agreement entered into force.",
        ),
        Button(
            Step.RETRACT,
            "Retract",
            "Retracted. The public page now shows it as retracted, with your reason.",
            note="Reason for the retraction (public, required)",
            danger=True,
        ),
    ]
}


def _open_steps(record: DevelopmentRecord, user, *, four_eyes: bool = True) -> list[Step]:
    """The domain's steps open to `user` on `record` now that their permissions allow."""
    steps = open_steps(
        Workflow(record.workflow),
        is_public=record.published_content is not None,
        revision_authors=record.revision_authors,
        actor=str(user.pk),
        four_eyes=four_eyes and commands.four_eyes_apply_to(user),
    )
    return [step for step in steps if commands.may_take(user, step)]


def state_label(record: DevelopmentRecord) -> str:
    if record.has_pending_revision:
        return "Published · revision " + ("in review" if record.workflow == Workflow.IN_REVIEW else "drafted")
    return record.get_workflow_display()


def available_buttons(record: DevelopmentRecord, user) -> list[Button]:
    """The workflow buttons `user` may press on `record` now, in the order they are shown."""
    return [BUTTONS[step] for step in _open_steps(record, user) if step in BUTTONS]


def blocked_by_four_eyes(record: DevelopmentRecord, user) -> bool:
    """Whether only the four-eyes rule keeps `user` from publishing this revision."""
    return bool(set(_open_steps(record, user, four_eyes=False)) - set(_open_steps(record, user)))


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
    editable = model_admin.has_change_permission(request, record) and record.workflow in RULES[Step.REVISE].workflows
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
    button = BUTTONS.get(Step(step_name)) if step_name in set(Step) else None
    if button is None:
        raise Http404("No such workflow step.")
    form = button.form_class(request.POST)
    if not form.is_valid():
        problems = " ".join(error for errors in form.errors.values() for error in errors)
        messages.error(request, f"{button.label}: {problems}")
        return redirect(_change_url(record.pk))
    try:
        commands.take_step(
            button.step,
            record.pk,
            *button.inputs(form.cleaned_data),
            actor=request.user,
            expected_version=form.cleaned_data["version"],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, button.done)
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
        for button in available_buttons(record, user):
            steps.append((button, button.form_class(initial={"version": record.version})))
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
        "blocked_by_four_eyes": record is not None and blocked_by_four_eyes(record, user),
        "media": model_admin.media + editor.media if editor else model_admin.media,
        **extra,
    }
    return TemplateResponse(request, "admin/developments/edit.html", context)
