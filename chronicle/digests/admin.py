from django.contrib import admin, messages

from chronicle.eventstore.admin import ReadOnlyAdmin

from . import delivery
from .models import Digest, Subscriber

PREVIEW_LIMIT = 20


class DigestInline(admin.TabularInline):
    model = Digest
    fields = ("period", "state", "new_count", "change_count", "finished_at", "last_error")
    readonly_fields = fields
    ordering = ("-created_at",)
    extra = 0
    max_num = 0
    show_change_link = True
    can_delete = False


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ("email", "state", "frequency", "scope", "confirmed_at", "last_digest_at")
    list_filter = ("state", "frequency")
    search_fields = ("email",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "email",
        "created_at",
        "confirmation_sent_at",
        "confirmed_at",
        "unsubscribed_at",
        "high_water",
        "last_digest_at",
        "permanent_failures",
    )
    fields = ("email", "state", "frequency", "topics", "countries", *readonly_fields[1:])
    inlines = [DigestInline]
    actions = ["send_preview"]

    def has_add_permission(self, request) -> bool:
        return False  # addresses come in through double opt-in only

    @admin.display(description="scope")
    def scope(self, subscriber: Subscriber) -> str:
        return " · ".join(filter(None, [", ".join(subscriber.topics), ", ".join(subscriber.countries)])) or "everything"

    @admin.action(description="Send me a preview of their next digest")
    def send_preview(self, request, queryset):
        if not request.user.email:
            self.message_user(request, "Your account has no email address to send previews to.", messages.ERROR)
            return
        if queryset.count() > PREVIEW_LIMIT:
            self.message_user(request, f"Choose at most {PREVIEW_LIMIT} subscribers to preview.", messages.ERROR)
            return
        for subscriber in queryset:
            content = delivery.send_preview(subscriber, request.user.email)
            if content.is_empty:
                self.message_user(request, f"Nothing new for {subscriber.email}; no preview sent.", messages.WARNING)
            else:
                self.message_user(
                    request,
                    f"Sent {request.user.email} the digest {subscriber.email} would get now "
                    f"({len(content.new)} new, {len(content.changes)} corrections or updates).",
                )


@admin.register(Digest)
class DigestAdmin(ReadOnlyAdmin):
    """The ledger, for audit: written only by digest passes."""

    list_display = ("period", "subscriber", "state", "new_count", "change_count", "attempts", "finished_at")
    list_filter = ("state", "frequency", "period")
    search_fields = ("subscriber__email", "=id")
    list_select_related = ("subscriber",)
    show_full_result_count = False
