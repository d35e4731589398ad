"""The admin's development form: every field of a development, with its sources, actors,
amounts and places as inline rows.

The forms only collect input; the domain (`Content.from_dict`, run by the command
functions) decides what is valid, and its errors are put back on the fields and rows they
name, so a curator sees every problem next to its input at once.
"""

from __future__ import annotations

import re
from typing import Any

import pycountry
from django import forms
from django.contrib.admin import widgets
from django.forms import formset_factory
from django.utils import timezone

from chronicle.domain import vocabulary
from chronicle.domain.content import country_name
from chronicle.domain.vocabulary import AMOUNT_QUALIFIERS, DATE_BASES, KINDS, STAGES, TOPICS

from .diffs import FIELD_LABELS

COUNTRY_CHOICES = sorted(
    ((country.alpha_2, f"{country_name(country.alpha_2)} ({country.alpha_2})") for country in pycountry.countries),
    key=lambda choice: choice[1],
)
BLANK = [("", "---------")]


def _short(label: str, size: int, **attrs: Any) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.TextInput(attrs={"size": size, **attrs}))


class DevelopmentForm(forms.Form):
    # Required in the domain's sense: marked in the form, checked by `Content.from_dict`.
    REQUIRED = ("title", "kind", "date", "countries", "topics")

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    slug = forms.CharField(
        label="Slug",
        required=False,
        max_length=120,
        widget=widgets.AdminTextInputWidget(attrs={"placeholder": "derived from the title"}),
        help_text="Its public page will be /developments/<slug>/. Lower-case letters, digits and "
        "hyphens; leave empty to derive it from the title. It cannot be changed later.",
    )
    title = forms.CharField(
        label="Title", required=False, widget=widgets.AdminTextInputWidget(attrs={"class": "vTextField wide"})
    )
    summary = forms.CharField(label="Summary", required=False, widget=widgets.AdminTextareaWidget(attrs={"rows": 5}))
    kind = forms.ChoiceField(label="Kind", required=False, choices=BLANK + vocabulary.choices(KINDS))
    stage = forms.ChoiceField(label="Stage", required=False, choices=BLANK + vocabulary.choices(STAGES))
    date = forms.CharField(
        label="Date",
        required=False,
        widget=forms.TextInput(attrs={"size": 24, "placeholder": "e.g. 2021-06"}),
        help_text="As the source gives it (EDTF): 2005, 2010-03, 1992-01-20, a span 2021-06-01/2021-06-04, "
        "approximate 2021~, uncertain 2021?",
    )
    date_basis = forms.ChoiceField(
        label="Date basis",
        required=False,
        choices=BLANK + vocabulary.choices(DATE_BASES),
        help_text="How the date is known. An open-ended date (../2015-06-18: by then) is bounded.",
    )
    countries = forms.MultipleChoiceField(
        label="Countries",
        required=False,
        choices=COUNTRY_CHOICES,
        widget=widgets.FilteredSelectMultiple("countries", is_stacked=False),
    )
    topics = forms.MultipleChoiceField(
        label="Topics",
        required=False,
        choices=vocabulary.choices(TOPICS),
        widget=forms.CheckboxSelectMultiple,
    )
    related = forms.CharField(
        label="Related",
        required=False,
        widget=widgets.AdminTextInputWidget(attrs={"placeholder": "slugs, separated by spaces"}),
        help_text="Slugs of other developments this one belongs with, e.g. the treaty a test followed; "
        "each page links to the other.",
    )

    def clean_related(self) -> list[str]:
        return self.cleaned_data["related"].replace(",", " ").split()


class LabelledRow(forms.Form):
    """An inline row shows its labels once, in the table head; each input names itself too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", str(field.label))


class SourceForm(LabelledRow):
    title = _short("Title", 28)
    publisher = _short("Publisher", 16)
    author = _short("Author", 14)
    url = _short("URL", 28, placeholder="e.g. https://…")
    published = _short("Published", 10, placeholder="YYYY-MM-DD")
    accessed = _short("Accessed", 10, placeholder="YYYY-MM-DD")
    locator = _short("Locator", 8, placeholder="e.g. p. 3")
    quote = forms.CharField(label="Quote", required=False, widget=forms.Textarea(attrs={"rows": 1, "cols": 24}))


class ActorForm(LabelledRow):
    name = _short("Name", 36)
    role = _short("Role", 28, placeholder="e.g. operator, supplier")


class AmountForm(LabelledRow):
    qualifier = forms.ChoiceField(
        label="Qualifier",
        required=False,
        initial="exact",
        choices=vocabulary.choices(AMOUNT_QUALIFIERS),
    )
    value = _short("Value", 14, placeholder="e.g. 1500000")
    currency = _short("Currency", 5, placeholder="e.g. USD")
    unit = _short("Unit", 8, placeholder="e.g. Gbit/s")
    measures = _short("What it measures", 30, placeholder="e.g. loan, peak download speed")
    period = _short("Period", 12, placeholder="e.g. 2021, 2019/2021")


class PlaceForm(LabelledRow):
    name = _short("Name", 28)
    country = forms.ChoiceField(label="Country", required=False, choices=BLANK + COUNTRY_CHOICES)
    lat = _short("Latitude", 10, placeholder="e.g. 53.9")
    lon = _short("Longitude", 10, placeholder="e.g. 27.5667")


class LabelledRows(forms.BaseFormSet):
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget.attrs["aria-label"] = "Delete this row"


# The inline parts of a development, in the order the form shows them.
PARTS = {
    "sources": (SourceForm, "Sources", "source", "Publishing needs at least one source with a publisher or author."),
    "actors": (ActorForm, "Actors", "actor", "Organisations or people and their role."),
    "amounts": (
        AmountForm,
        "Amounts",
        "amount",
        "A value with a currency (ISO 4217) or a unit; the qualifier says whether the source gives it exactly, "
        "as more or less than it, or as approximate; the period (EDTF) is the time it covers, if any.",
    ),
    "places": (PlaceForm, "Places", "place", "Optionally with a WGS84 point."),
}
_NESTED = re.compile(r"^(?P<part>\w+)\[(?P<index>\d+)\](?:\.(?P<field>\w+))?$")


class Part:
    """One inline formset and the bookkeeping to route domain errors back to its rows."""

    def __init__(self, name: str, formset: forms.BaseFormSet, label: str, item: str, help_text: str) -> None:
        self.name, self.formset, self.label, self.item, self.help_text = name, formset, label, item, help_text
        self.kept: list[int] = []  # formset index of each item handed to the domain

    def items(self) -> list[dict[str, Any]]:
        items, self.kept = [], []
        for index, form in enumerate(self.formset.forms):
            if form.cleaned_data.get("DELETE"):
                continue
            values = {key: value for key, value in form.cleaned_data.items() if key != "DELETE" and value}
            if values:
                items.append(values)
                self.kept.append(index)
        return items

    def add_error(self, index: int, field: str | None, message: str) -> bool:
        if not 0 < index <= len(self.kept):
            return False
        form = self.formset.forms[self.kept[index - 1]]
        if field in form.fields:
            form.add_error(field, _sentence(form.fields[field].label, message))
        else:
            form.add_error(None, _sentence(f"This {self.item}", message))
        return True


class DevelopmentEditor:
    """The development form with its inline parts, read as one content dict."""

    def __init__(
        self,
        data=None,
        *,
        content: dict[str, Any] | None = None,
        version: int | None = None,
        adding: bool = False,
    ) -> None:
        content = content or {}
        initial = {name: content.get(name, [] if name in ("countries", "topics") else "") for name in FIELD_LABELS}
        initial["related"] = " ".join(content.get("related", []))
        self.form = DevelopmentForm(data, initial={**initial, "version": version})
        if adding:
            del self.form.fields["version"]
        else:
            del self.form.fields["slug"]
            self.form.fields["version"].required = True
        self.parts = {}
        for name, (form_class, label, item, help_text) in PARTS.items():
            formset_class = formset_factory(form_class, formset=LabelledRows, extra=1, can_delete=True)
            rows = [{key: _initial(value) for key, value in row.items()} for row in content.get(name, [])]
            formset = formset_class(data, initial=rows, prefix=name)
            self.parts[name] = Part(name, formset, label, item, help_text)

    @property
    def media(self) -> forms.Media:
        return self.form.media

    def is_valid(self) -> bool:
        # Validate every form (no short-circuit), so all their errors show at once.
        results = [self.form.is_valid()] + [part.formset.is_valid() for part in self.parts.values()]
        return all(results)

    def content(self) -> dict[str, Any]:
        """The content dict for the command layer; call after `is_valid()`."""
        data = {name: self.form.cleaned_data[name] for name in FIELD_LABELS if name in self.form.cleaned_data}
        for name, part in self.parts.items():
            data[name] = part.items()
        return data

    @property
    def slug(self) -> str:
        return self.form.cleaned_data.get("slug", "")

    def add_content_errors(self, errors: dict[str, list[str]]) -> None:
        """Put the domain's errors (keys like `title`, `sources[2].url`) next to their inputs."""
        for key, messages in errors.items():
            for message in messages:
                self._add_content_error(key, message)

    def _add_content_error(self, key: str, message: str) -> None:
        nested = _NESTED.match(key)
        if nested and nested["part"] in self.parts:
            part = self.parts[nested["part"]]
            if part.add_error(int(nested["index"]), nested["field"], message):
                return
        if key in self.form.fields and key != "version":
            self.form.add_error(key, _sentence(self.form.fields[key].label, message))
            return
        self.form.add_error(None, _sentence(FIELD_LABELS.get(key) or key.capitalize(), message))

    def add_error(self, message: str) -> None:
        self.form.add_error(None, message)

    @property
    def has_errors(self) -> bool:
        return bool(self.form.errors) or any(part.formset.total_error_count() for part in self.parts.values())


def _sentence(subject: str, message: str) -> str:
    """The domain's messages are either predicates ("is required.") or whole sentences."""
    return message if message[:1].isupper() else f"{subject} {message}"


def _initial(value: Any) -> Any:
    return "" if value is None else value


def post_data(content: dict[str, Any], names) -> dict[str, list[str]]:
    """What the form posts for the fields `names` of `content` (the inverse of `content()`)."""
    data: dict[str, list[str]] = {}
    for name in names:
        if name in PARTS:
            rows = content.get(name, [])
            data[f"{name}-TOTAL_FORMS"] = [str(len(rows))]
            data[f"{name}-INITIAL_FORMS"] = [str(len(rows))]
            for index, row in enumerate(rows):
                for key, value in row.items():
                    data[f"{name}-{index}-{key}"] = [str(_initial(value))]
        elif name in ("countries", "topics"):
            data[name] = list(content.get(name, []))
        elif name == "related":
            data[name] = [" ".join(content.get(name, []))]
        else:
            data[name] = [content.get(name, "")]
    return data


class NoteForm(forms.Form):
    """A workflow step: the version it was asked on, and the comment, note or reason it needs."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ScheduleForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    publish_at = forms.DateTimeField(
        label="Publish at (UTC)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def clean_publish_at(self):
        publish_at = self.cleaned_data["publish_at"]
        if publish_at <= timezone.now():
            raise forms.ValidationError("Choose a time in the future.")
        return publish_at
