from django.conf import settings
from django.db import models
from django.db.models import Q

from recordings_app import crypto
from recordings_app.signalwire import SignalWireClient
from recordings_app.upstream_cache import CachedClient


class Credential(models.Model):
    """One set of SignalWire credentials a user stored. The token is encrypted at rest
    and write-only: pages show `token_hint` (its last four characters) and nothing else."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credentials"
    )
    label = models.CharField(max_length=80)
    space = models.CharField(max_length=63, help_text="Space name, e.g. acme")
    project_id = models.UUIDField()
    encrypted_token = models.TextField()
    token_hint = models.CharField(max_length=4)
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["user", "label"], name="unique_label_per_user"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_active=True), name="one_active_credential_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.space})"

    @property
    def masked_token(self) -> str:
        return f"••••{self.token_hint}"

    def set_token(self, api_token: str) -> None:
        self.encrypted_token = crypto.encrypt(api_token)
        self.token_hint = api_token[-4:]

    def client(self, cached: bool = False) -> SignalWireClient | CachedClient:
        """A client for this space. Pages pass `cached=True` to reuse recent answers
        (see upstream_cache); background work such as a sync reads fresh."""
        token = crypto.decrypt(self.encrypted_token)
        client = SignalWireClient(self.space, str(self.project_id), token)
        if not cached:
            return client
        identity = f"{self.pk}:{self.space}:{self.project_id}:{self.encrypted_token}"
        return CachedClient(client, identity)


class Recording(models.Model):
    """No table: the recordings live in SignalWire. This only carries the permissions
    that the Support and Supervisor groups hand out."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("delete_recording", "Can delete recordings in SignalWire"),
            ("view_costs", "Can see what recordings cost"),
        ]

    def __str__(self) -> str:
        return "recording permissions"
