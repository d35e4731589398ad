import json

from django.contrib import admin
from django.utils.html import format_html

from .models import Event


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record only Chronicle writes (a log, a ledger): staff read it; nobody adds, changes or deletes."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """The event log, for audit: read-only, as the database itself insists."""

    list_display = ("position", "recorded_at", "type", "stream_id", "version", "actor", "origin")
    list_filter = ("type",)
    search_fields = ("=stream_id", "=event_id", "type")
    date_hierarchy = "recorded_at"
    ordering = ("-position",)
    list_per_page = 100
    show_full_result_count = False
    readonly_fields = (
        "position",
        "event_id",
        "stream_id",
        "version",
        "type",
        "schema_version",
        "recorded_at",
        "pretty_data",
        "pretty_metadata",
    )
    exclude = ("data", "metadata")

    @admin.display(description="actor")
    def actor(self, event: Event) -> str:
        return event.metadata.get("actor", {}).get("username", "")

    @admin.display(description="origin")
    def origin(self, event: Event) -> str:
        return event.metadata.get("origin", "")

    @admin.display(description="data")
    def pretty_data(self, event: Event) -> str:
        return format_html("<pre>{}</pre>", json.dumps(event.data, indent=2, ensure_ascii=False))

    @admin.display(description="metadata")
    def pretty_metadata(self, event: Event) -> str:
        return format_html("<pre>{}</pre>", json.dumps(event.metadata, indent=2, ensure_ascii=False))
