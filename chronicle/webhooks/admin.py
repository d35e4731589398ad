"""Webhook endpoints in the admin, each with its delivery log."""

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from chronicle.eventstore.admin import ReadOnlyAdmin

from . import endpoints
from .models import Delivery, Endpoint

LOG_ROWS = 50


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "owner", "status", "position", "failing_since", "created_at"]
    list_filter = ["status"]
    search_fields = ["url", "description", "owner__username"]
    readonly_fields = [
        "url", "owner", "description", "countries", "topics", "status", "disabled_reason", "position", "attempts",
        "next_attempt_at", "failing_since", "created_at", "delivery_log",
    ]  # fmt: skip
    actions = ["pause", "resume"]

    def has_add_permission(self, request):
        return False  # registered through the API or `manage.py add_webhook`, which show the secret once

    @admin.display(description=f"Delivery log (latest {LOG_ROWS})")
    def delivery_log(self, endpoint: Endpoint):
        rows = endpoint.deliveries.order_by("-attempted_at", "-id")[:LOG_ROWS]
        if not rows:
            return "No delivery yet."
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} ms</td><td>{}</td></tr>",
            (
                (
                    f"{d.attempted_at:%Y-%m-%d %H:%M:%S}",
                    d.position,
                    d.event_type,
                    d.webhook_id,
                    d.attempt,
                    d.get_outcome_display(),
                    d.duration_ms,
                    d.status_code or d.error,
                )
                for d in rows
            ),
        )
        return format_html(
            '<table class="delivery-log"><caption>Delivery attempts, newest first</caption><thead><tr>'
            '<th scope="col">Attempted (UTC)</th><th scope="col">Position</th><th scope="col">Event</th>'
            '<th scope="col">webhook-id</th><th scope="col">Attempt</th><th scope="col">Outcome</th>'
            '<th scope="col">Took</th><th scope="col">Answer</th></tr></thead><tbody>{}</tbody></table>',
            body,
        )

    @admin.action(description="Pause the selected endpoints")
    def pause(self, request, queryset):
        for endpoint in queryset:
            endpoints.set_paused(endpoint, True)
        self.message_user(request, f"Paused {queryset.count()} endpoints.", messages.SUCCESS)

    @admin.action(description="Resume the selected endpoints (disabled ones too)")
    def resume(self, request, queryset):
        for endpoint in queryset:
            endpoints.set_paused(endpoint, False)
        self.message_user(request, f"Resumed {queryset.count()} endpoints.", messages.SUCCESS)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["attempted_at", "endpoint", "position", "event_type", "attempt", "outcome", "status_code"]
    list_filter = ["outcome"]
    search_fields = ["webhook_id", "endpoint__url"]
    list_select_related = ["endpoint"]
