from django.contrib import admin

from recordings_app.models import AuditEvent, Credential


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    # The encrypted token is never shown, not even to staff; they see the hint.
    list_display = ("label", "user", "space", "project_id", "masked_token", "is_active")
    list_filter = ("is_active",)
    search_fields = ("label", "space", "user__username")
    fields = ("user", "label", "space", "project_id", "masked_token", "is_active", "created_at")
    readonly_fields = ("masked_token", "created_at")

    def has_add_permission(self, request):
        # Adding needs the token, and the token goes through the checked form only.
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is evidence, so nobody adds, changes or deletes rows here."""

    list_display = ("at", "username", "action", "recording_id", "credential_label", "remote_addr")
    list_filter = ("action",)
    search_fields = ("username", "recording_id", "credential_label")
    date_hierarchy = "at"

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("recordings_app.view_activity")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
