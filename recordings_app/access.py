"""What a request may reach: only the user's own credentials, only well-formed ids.

Every view that touches SignalWire goes through `active_credential`, so none can forget
the ownership check."""

import uuid

from django.http import HttpRequest

from recordings_app.errors import NoActiveCredential, Problem
from recordings_app.models import Credential
from recordings_app.signalwire import is_uuid


def active_credential(request: HttpRequest) -> Credential:
    """The credential the user picked. Only ever the user's own."""
    credential = Credential.objects.filter(user=request.user, is_active=True).first()
    if credential is None:
        raise NoActiveCredential()
    return credential


def checked_recording_id(recording_id: str) -> str:
    """A malformed id is a 404 without asking SignalWire; a good one in its canonical
    form (the same recording always has the same id in links and the audit trail)."""
    if not is_uuid(recording_id):
        raise Problem(
            404,
            "Recording not found",
            "That is not a recording ID: they look like 3f1c2a9e-8b7d-4e21-9a55-0c6d2b1e7f40.",
        )
    return str(uuid.UUID(recording_id))
