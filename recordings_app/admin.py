from django.contrib import admin

from recordings_app.models import AuditEvent, Credential


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    # The encrypted token is never shown, not even to staff; they see the hint.
    list_display = ("label", "user", "space", "project_id", "masked_token", "is_active")
    list_filter = ("is_active",)
    search_fields = ("label", "space", "user__username")
    fields = (
        "user",
        "label",
        "space",
        "project_id",
        "masked_token",
        "is_active",
        "shared_with",
        "created_at",
    )
    # Where the token goes and whose it is are read-only here: the admin's form would
    # save a space unchecked (`127.0.0.1:8443/x#` was accepted) and the next page or
    # sync would send the token there; a new owner would use a token not theirs. The
    # user's own form normalises the space, guards the address and checks it against the
    # API before saving; doing all that again here would be a second copy to keep in
    # step, so staff change only the label and which set is in use.
    # Who it is shared with is shown, not changed: the owner shares from the credentials
    # page, which needs the `manage_shared_credentials` permission and is audited.
    readonly_fields = ("user", "space", "project_id", "masked_token", "shared_with", "created_at")

    @admin.display(description="Shared with")
    def shared_with(self, credential):
        return credential.shared_with_names() or "—"

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
