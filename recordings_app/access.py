"""What a request may reach: only the user's own credentials, only well-formed ids.

Every view that touches SignalWire goes through `active_credential`, so none can forget
the ownership check."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest

from recordings_app.errors import NoActiveCredential, Problem
from recordings_app.models import Credential
from recordings_app.signalwire import canonical_uuid


def active_credential(request: HttpRequest) -> Credential:
    """The credential the user picked. Only ever the user's own."""
    credential = Credential.objects.filter(user=request.user, is_active=True).first()
    if credential is None:
        raise NoActiveCredential()
    return credential


def checked_recording_id(recording_id: str) -> str:
    """A malformed id is a 404 without asking SignalWire; a good one in its canonical
    form (the same recording always has the same id in links and the audit trail)."""
    canonical = canonical_uuid(recording_id)
    if canonical is None:
        raise Problem(
            404,
            "Recording not found",
            "That is not a recording ID: they look like 3f1c2a9e-8b7d-4e21-9a55-0c6d2b1e7f40.",
        )
    return canonical


def client_address(request: HttpRequest) -> str | None:
    """The address a request came from, for log-in throttling and the audit trail.

    Behind TRUSTED_PROXIES reverse proxies, each appends the address it saw to
    X-Forwarded-For, so the client is that many entries from the right; anything further
    left was written by the client and is not believed. With none, REMOTE_ADDR."""
    address = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXIES
    if proxies:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [hop for hop in hops if hop]
        if len(hops) >= proxies:
            address = hops[-proxies]
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None
