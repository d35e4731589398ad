"""The editorial admin of developments, on the `DevelopmentRecord` read model.

The list and filters read the read model; adding, saving, the workflow buttons and the
history are editorial pages in `admin_views`, which go through the command functions.
Nothing is ever deleted (a published development is retracted instead).
"""

from django.contrib import admin
from django.db.models import QuerySet
from django.urls import path
from django.utils.html import format_html

from chronicle.domain import vocabulary
from chronicle.domain.content import country_name
from chronicle.domain.development import Workflow
from chronicle.domain.vocabulary import KINDS, TOPICS

from . import admin_views
from .models import DevelopmentRecord, PublicCountry

STATE_COLOURS = {
    Workflow.DRAFT: "#8a6d00",
    Workflow.IN_REVIEW: "#0b5cad",
    Workflow.PUBLISHED: "#1e7d32",
    Workflow.RETRACTED: "#a4161a",
}


class _JsonListFilter(admin.SimpleListFilter):
    """Filters on one value of a JSON list column (countries, topics) on any database."""

    column = ""

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value():
            # The list is stored as JSON text on every backend, so a quoted value matches one entry.
            return queryset.filter(**{f"{self.column}__icontains": f'"{self.value()}"'})
        return queryset


class CountryFilter(_JsonListFilter):
    title = "country"
    parameter_name = "country"
    column = "countries"

    def lookups(self, request, model_admin):
        # Countries of published developments: a short, relevant list instead of all 249.
        codes = set(PublicCountry.objects.values_list("code", flat=True).distinct())
        if self.value():
            codes.add(self.value())
        return sorted(((code, country_name(code)) for code in codes), key=lambda item: item[1])


class TopicFilter(_JsonListFilter):
    title = "topic"
    parameter_name = "topic"
    column = "topics"

    def lookups(self, request, model_admin):
        return vocabulary.choices(TOPICS)


class StateFilter(admin.ChoicesFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "state"


class PendingRevisionFilter(admin.BooleanFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "revision of a published development"


class KindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return vocabulary.choices(KINDS)

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(DevelopmentRecord)
class DevelopmentAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "state",
        "kind_label",
        "date_as_entered",
        "country_codes",
        "topic_labels",
        "last_change",
    )
    list_filter = (
        ("workflow", StateFilter),
        ("has_pending_revision", PendingRevisionFilter),
        KindFilter,
        CountryFilter,
        TopicFilter,
    )
    search_fields = ("title", "slug", "content")
    search_help_text = "Search titles, slugs and every text of the content (summary, actors, sources…)."
    ordering = ("-last_changed_at",)
    list_per_page = 50
    show_full_result_count = False
    actions = None

    @admin.display(description="state", ordering="workflow")
    def state(self, record: DevelopmentRecord) -> str:
        label = admin_views.state_label(record)
        if record.publish_at:
            label += f" · publishes {record.publish_at:%Y-%m-%d %H:%M} UTC"
        return format_html('<span style="color: {}">●</span> {}', STATE_COLOURS[record.workflow], label)

    @admin.display(description="kind", ordering="kind")
    def kind_label(self, record: DevelopmentRecord) -> str:
        return vocabulary.label(KINDS, record.kind)

    @admin.display(description="date", ordering="date_earliest")
    def date_as_entered(self, record: DevelopmentRecord) -> str:
        return record.date

    @admin.display(description="countries")
    def country_codes(self, record: DevelopmentRecord) -> str:
        return ", ".join(record.countries)

    @admin.display(description="topics")
    def topic_labels(self, record: DevelopmentRecord) -> str:
        return ", ".join(vocabulary.label(TOPICS, slug) for slug in record.topics)

    @admin.display(description="last change", ordering="last_changed_at")
    def last_change(self, record: DevelopmentRecord) -> str:
        return f"{record.last_changed_at:%Y-%m-%d %H:%M} by {record.last_changed_by}"

    # -- permissions: view to see, draft_development to edit, the commands check the rest --

    def has_add_permission(self, request) -> bool:
        return request.user.has_perm("developments.draft_development")

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("developments.draft_development")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    # -- the editorial pages ------------------------------------------------------------

    def get_urls(self):
        step = path(
            "<path:object_id>/workflow/<slug:step_name>/",
            self.admin_site.admin_view(self.step_view),
            name="developments_developmentrecord_workflow",
        )
        return [step, *super().get_urls()]

    def add_view(self, request, form_url="", extra_context=None):
        return admin_views.add_development(self, request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return admin_views.change_development(self, request, object_id)

    def history_view(self, request, object_id, extra_context=None):
        return admin_views.development_history(self, request, object_id)

    def step_view(self, request, object_id, step_name):
        return admin_views.run_step(self, request, object_id, step_name)
