from django.conf import settings
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from .models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Create and revoke partners' keys. A key is shown once, on the page after creating it.

    Editors and partner managers issue keys; one who may not see the user accounts issues
    keys they own themselves (the key's name says whom it is for).
    """

    list_display = ("name", "owner", "prefix", "status", "created_at", "expires_at", "last_used_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix", "owner__username", "owner__email")
    autocomplete_fields = ("owner",)
    readonly_fields = ("prefix", "created_at", "revoked_at", "last_used_at")
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "owner", "expires_at") if self._may_choose_owner(request) else ("name", "expires_at")
        return ("name", "owner", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "expires_at":
            # The date and the time are two inputs under one label; name each.
            date_input, time_input = field.widget.widgets
            date_input.attrs["aria-label"] = "Expires on (date)"
            time_input.attrs["aria-label"] = "Expires at (time)"
        return field

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is None else ("owner", *self.readonly_fields)

    @staticmethod
    def _may_choose_owner(request) -> bool:
        return request.user.has_perm("auth.view_user")

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        if not self._may_choose_owner(request):
            obj.owner = request.user
        # Never stored: only its digest is. Handed to response_add for this one page.
        request._new_api_key = obj.save_with_new_secret()

    def response_add(self, request, obj, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "key": obj,
            "secret": request._new_api_key,
            "title": "Copy the new API key now",
        }
        return TemplateResponse(request, "admin/api/apikey/created.html", context)

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        revoked = queryset.revoke()
        self.message_user(
            request,
            f"Revoked {revoked} key(s); requests with them get 401 within {settings.API_KEY_CACHE_SECONDS} seconds.",
            messages.SUCCESS,
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the key's record says who could read when
