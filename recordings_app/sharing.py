"""Share links: a link to one recording (or a moment in it), played through the
sharer's credential, for a chosen time of at most MAX_VALIDITY.

- The token is 32 random bytes (`secrets`), in the link only: the database keeps its
  SHA-256, so a copy of the database opens no link.
- By default the link plays for anyone logged in to the dashboard (a colleague), limited
  to that one recording; with SHARE_LINKS_PUBLIC=1 for anyone who holds it.
- Listening only, unless the sharer allowed downloads when making it.
- A link stops working when it expires, is revoked, or its sharer can no longer use the
  credential or make links: it then answers 410 and says which.
- Every opening, listen (the audio from its first byte, once per address in half an
  hour) and download is audited with the client's address; so is every refusal.
- Each address may ask for at most RATE_LIMIT share-link pages and audio requests (a
  seek is one) per RATE_WINDOW, good tokens or bad: guessing is slow as well as hopeless.
"""

import hashlib
import secrets
from datetime import timedelta

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from recordings_app import audit, notes
from recordings_app.access import LoggedInRequest, client_address
from recordings_app.errors import Explanation, Problem
from recordings_app.models import Credential, ShareLink

MAX_VALIDITY = timedelta(days=7)
VALIDITY_CHOICES = [
    ("1", "1 hour"),
    ("24", "1 day"),
    ("72", "3 days"),
    ("168", "7 days"),
]
RATE_LIMIT = 120
RATE_WINDOW = 60  # seconds
PERMISSION = "recordings_app.share_recording"
LISTEN_SESSION = timedelta(minutes=30)


class ShareForm(forms.Form):
    hours = forms.TypedChoiceField(choices=VALIDITY_CHOICES, coerce=int, initial="24")
    at = notes.MomentField(required=False, max_length=12)
    allow_download = forms.BooleanField(required=False)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_link(
    request: LoggedInRequest,
    credential: Credential,
    recording_id: str,
    *,
    hours: int,
    at: int | None,
    allow_download: bool,
) -> tuple[ShareLink, str]:
    """A new link and its token (the only time the token exists outside the link)."""
    validity = min(timedelta(hours=hours), MAX_VALIDITY)
    token = secrets.token_urlsafe(32)
    link = ShareLink.objects.create(
        token_hash=token_hash(token),
        user=request.user,
        credential=credential,
        recording_id=recording_id,
        at_seconds=at,
        allow_download=allow_download,
        expires_at=timezone.now() + validity,
    )
    audit.record(
        request,
        audit.Action.SHARE_CREATE,
        recording_id=recording_id,
        credential=credential,
        detail=f"Link {link.pk}, until {link.expires_at:%Y-%m-%d %H:%M} UTC"
        + (", download allowed" if allow_download else ", listening only"),
    )
    return link, token


def live_links_of(user):
    return ShareLink.objects.filter(
        user=user, revoked_at=None, expires_at__gt=timezone.now()
    ).select_related("credential")


def revoke(request: LoggedInRequest, link_id: int) -> ShareLink:
    """Revoke one of the user's own links (anyone else's is a 404, as if not there)."""
    link = ShareLink.objects.filter(user=request.user, pk=link_id).first()
    if link is None:
        raise Problem(404, "No such share link", "You have no share link with that number.")
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        audit.record(
            request,
            audit.Action.SHARE_REVOKE,
            recording_id=link.recording_id,
            credential=link.credential,
            detail=f"Link {link.pk}",
        )
    return link


def check_rate(request: HttpRequest) -> None:
    """Count this request against its address; past RATE_LIMIT in the window, a 429."""
    address = client_address(request) or "unknown"
    window = int(timezone.now().timestamp()) // RATE_WINDOW
    key = f"share-rate:{address}:{window}"
    cache.add(key, 0, RATE_WINDOW * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr: count this one as the first
        cache.set(key, 1, RATE_WINDOW * 2)
        count = 1
    if count > RATE_LIMIT:
        problem = Problem(429, "Too many requests", "")
        problem.explanation = Explanation(
            429,
            "Too many requests",
            "This address has opened share links too often in the last minute. "
            "Wait a minute and try again.",
            retry_after=RATE_WINDOW - int(timezone.now().timestamp()) % RATE_WINDOW,
        )
        raise problem


def link_for(request: HttpRequest, token: str) -> ShareLink:
    """The usable link `token` opens: a 404 for no such link, a 410 that says why for
    one that no longer works (audited as a refusal, with the address)."""
    link = (
        ShareLink.objects.filter(token_hash=token_hash(token))
        .select_related("credential", "user")
        .first()
    )
    if link is None:
        raise Problem(404, "No such share link", "This link is not one the dashboard made.")
    reason = _why_not_usable(link)
    if reason:
        _record_use(request, link, audit.Action.SHARE_REFUSED, reason)
        raise Problem(410, "This share link no longer works", reason)
    return link


def _why_not_usable(link: ShareLink) -> str:
    if link.revoked_at is not None:
        return "Its sharer revoked it. Ask them for a new one."
    if link.expires_at <= timezone.now():
        return "It has expired. Ask its sharer for a new one."
    sharer = link.user
    if not sharer.is_active or not sharer.has_perm(PERMISSION):
        return "Its sharer may no longer share recordings."
    usable = Credential.objects.usable_by(sharer).filter(Q(pk=link.credential_id))
    if not usable.exists():
        return "Its sharer can no longer use the credentials it plays through."
    return ""


def record_open(request: HttpRequest, link: ShareLink) -> None:
    _record_use(request, link, audit.Action.SHARE_OPEN, "")


def record_listen(request: HttpRequest, link: ShareLink) -> None:
    """The audio delivered from its first byte: the page's player loading it, or anyone
    fetching the audio URL alone. Once per link and address per LISTEN_SESSION, as
    seeking and replaying ask again."""
    key = f"share-listen:{link.pk}:{client_address(request)}"
    if cache.add(key, 1, int(LISTEN_SESSION.total_seconds())):
        _record_use(request, link, audit.Action.SHARE_LISTEN, "")


def record_download(request: HttpRequest, link: ShareLink) -> None:
    _record_use(request, link, audit.Action.SHARE_DOWNLOAD, "")


def refuse_download(request: HttpRequest, link: ShareLink) -> None:
    _record_use(request, link, audit.Action.SHARE_REFUSED, "Download not allowed")
    raise Problem(
        403,
        "Listening only",
        "This share link lets you listen to the recording, not download it.",
    )


def _record_use(request: HttpRequest, link: ShareLink, action: str, reason: str) -> None:
    who = "" if request.user.is_authenticated else "someone not logged in, "
    audit.record(
        request,
        action,
        recording_id=link.recording_id,
        credential=link.credential,
        detail=f"{who}link {link.pk} of {link.user.get_username()}"
        + (f": {reason}" if reason else ""),
    )


def form_context(request: HttpRequest) -> dict:
    """What a recording's page needs for its "Share a link" form."""
    return {
        "can_share": request.user.has_perm(PERMISSION),
        "share_validity": VALIDITY_CHOICES,
        "share_public": settings.SHARE_LINKS_PUBLIC,
    }
