from django.contrib import admin

from recordings_app.models import Credential


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
