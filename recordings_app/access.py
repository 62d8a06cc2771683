"""What a request may reach: only credentials the user owns or that are shared with
them, only well-formed ids.

Every view that touches SignalWire goes through `active_credential`, so none can forget
the check. It asks the database on every request, never a cached decision: a grant
revoked on one app server is refused by every server from the user's next request on,
before anything cached for that credential (pages, audio, peaks) is read."""

import ipaddress

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from recordings_app.errors import NoActiveCredential, Problem
from recordings_app.models import Credential, Profile
from recordings_app.signalwire import canonical_uuid


class LoggedInRequest(HttpRequest):
    """A request behind `login_required`, as the middleware leaves it: what our views
    read of it beyond Django's own HttpRequest, declared for the type checker."""

    user: User  # not AnonymousUser: login_required let it in
    htmx: HtmxDetails  # django_htmx.middleware.HtmxMiddleware
    phone_region: str  # recordings_app.middleware.user_preferences


def active_credential(request: LoggedInRequest) -> Credential:
    """The credential the user picked: one of their own, or one still shared with them.
    Without one (none picked, or the picked one no longer shared), another they may
    use is put in use, else NoActiveCredential sends them to add or pick one."""
    credential = credential_in_use(request.user)
    if credential is None:
        credential = _fall_back(request)
    return credential


def credential_in_use(user) -> Credential | None:
    """The user's choice, if they may still use it; reads only (the credentials page
    shows it without writing anything)."""
    own = Credential.objects.filter(user=user, is_active=True).first()
    if own is not None:
        return own
    picked = Profile.objects.filter(user=user).values("shared_credential")
    return Credential.objects.shared_with(user).filter(pk__in=picked).first()


def _fall_back(request: LoggedInRequest) -> Credential:
    """After a revoked grant, a removed credential, or on a first visit: the newest of
    the user's own credentials, else the one credential shared with them; with several
    shared and none picked, the user picks on the credentials page."""
    user = request.user
    with transaction.atomic():
        hold_credentials_of(user)
        credential = credential_in_use(user)  # another request may have picked meanwhile
        if credential is not None:
            return credential
        lost = (
            Credential.objects.filter(
                pk__in=Profile.objects.filter(user=user).values("shared_credential")
            )
            .values_list("label", flat=True)
            .first()
        )
        usable = list(Credential.objects.usable_by(user).order_by("-created_at"))
        own = [c for c in usable if c.user_id == user.pk]
        successor = own[0] if own else (usable[0] if len(usable) == 1 else None)
        if successor is not None:
            put_in_use(user, successor)
        elif lost:
            Profile.objects.filter(user=user).update(shared_credential=None)
    was = f"“{lost}” is no longer shared with you. " if lost else ""
    if successor is not None:
        if lost:
            messages.warning(request, f"{was}Now showing recordings for “{successor.label}”.")
        return successor
    if usable:
        raise NoActiveCredential(was + "Pick the credentials to use.", "credential_list")
    if lost:
        raise NoActiveCredential(was + "Add your own SignalWire credentials, or ask for others.")
    raise NoActiveCredential()


def put_in_use(user, credential: Credential) -> None:
    """Make `credential` (one the user may use) the one they use. Call it holding
    `hold_credentials_of(user)`. Their own carry the choice as `is_active`, a shared one
    is pointed at from their profile; at most one of the two is set."""
    Credential.objects.filter(user=user, is_active=True).exclude(pk=credential.pk).update(
        is_active=False
    )
    if credential.user_id == user.pk:
        Credential.objects.filter(pk=credential.pk).update(is_active=True)
        Profile.objects.filter(user=user).update(shared_credential=None)
    else:
        Profile.objects.update_or_create(user=user, defaults={"shared_credential": credential})


def hold_credentials_of(user) -> None:
    """Take the user's row lock for the rest of the transaction, so one user's credential
    changes run one at a time. Without it two "make active" clicks (or two adds) at once
    deadlock or both set a credential active, and one of them is a 500 (Postgres; SQLite
    runs one write transaction at a time anyway). The user's row, not their credentials':
    a user with none yet has no credential row to lock."""
    list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk"))


def browser_cache_control(request: HttpRequest, credential: Credential) -> str:
    """Cache-Control for audio and peaks. The browser may keep them an hour when the
    credential is the user's own; not at all when it is shared with them, so a revoked
    grant cannot leave a recording playable from the browser's cache."""
    if credential.user_id == request.user.pk:
        return "private, max-age=3600"
    return "private, no-store"


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
