"""The audit trail: one call per thing worth remembering, from the views.

What is recorded: every view of a recording's page, every play, every download, every
delete (done or failed) and every credential change, with the user, the time, the
remote address, the browser's user agent and the credential's label (never its token).

A *view* is opening a recording's page. A *play* is a person pressing play: the player
reports it (POST /recordings/<id>/played/), because the browser also fetches the audio
on its own, to read its length, when a page with a player opens. It is counted once per
listening session: a user's first press on a recording they have not played in the
last PLAY_SESSION. A *download* is counted for every download answer that delivers the
file from its first byte (a resumed download, from byte n, is the same download),
however the request's Range header was spelled.

Attempts count too: a delete refused for want of permission, and a play or download
that failed upstream, each as its own action with what went wrong in `detail`.

A download is the user's own only when it comes from the dashboard itself, or from the
user: see `is_same_site`. One asked for by another site's page is recorded as such.
"""

from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone

from recordings_app.access import LoggedInRequest, client_address
from recordings_app.errors import explain
from recordings_app.models import AuditEvent, Credential

Action = AuditEvent.Action
PLAY_SESSION = timedelta(minutes=30)


def record(
    request: HttpRequest,
    action: str,
    *,
    recording_id: str = "",
    credential: Credential | None = None,
    detail: str = "",
) -> AuditEvent:
    user = request.user if request.user.is_authenticated else None
    return AuditEvent.objects.create(
        user=user,
        username=user.get_username() if user else "",
        action=action,
        recording_id=recording_id,
        credential_label=credential.label if credential else "",
        space=credential.space if credential else "",
        detail=detail[:200],
        remote_addr=client_address(request),
        user_agent=request.headers.get("User-Agent", "")[:200],
    )


def record_for(
    user,
    username: str,
    action: str,
    *,
    recording_id: str = "",
    credential: Credential | None = None,
    detail: str = "",
    remote_addr: str | None = None,
    user_agent: str = "",
) -> AuditEvent:
    """A row for work done away from a request (a deletion job on the worker), on behalf
    of `user` (None for a retention policy, named in `username`), with the address and
    browser of the request that asked for it."""
    return AuditEvent.objects.create(
        user=user,
        username=username[:150],
        action=action,
        recording_id=recording_id,
        credential_label=credential.label if credential else "",
        space=credential.space if credential else "",
        detail=detail[:200],
        remote_addr=remote_addr,
        user_agent=user_agent[:200],
    )


def record_play(request: LoggedInRequest, recording_id: str, credential: Credential) -> None:
    """A play, by the rule in this module's docstring."""
    recent = AuditEvent.objects.filter(
        user=request.user,
        recording_id=recording_id,
        action=Action.PLAY,
        at__gte=timezone.now() - PLAY_SESSION,
    )
    if not recent.exists():
        record(request, Action.PLAY, recording_id=recording_id, credential=credential)


def listeners(request: LoggedInRequest, recording_id: str, limit: int = 20):
    """The latest plays of a recording, newest first, for its page: everyone's for those
    who may see the activity of every user, else the user's own."""
    plays = AuditEvent.objects.filter(recording_id=recording_id, action=Action.PLAY)
    if not request.user.has_perm("recordings_app.view_activity"):
        plays = plays.filter(user=request.user)
    return plays[:limit]


# Sec-Fetch-Site values that show the user, not another site, asked: our own pages
# (same-origin), a sibling of ours (same-site), or the user themselves (none: typed,
# a bookmark).
OWN_FETCH_SITES = {"same-origin", "same-site", "none"}


def is_same_site(request: HttpRequest) -> bool:
    """The request came from the dashboard or from the user, not from another site.

    Browsers send `Sec-Fetch-Site` on every request (every browser that runs this
    dashboard's pages: Chrome 76, Firefox 90, Safari 16.4 and later), and a page cannot
    forge it. No header at all is a client that is not a browser (curl, a script
    holding the user's session): nothing another site can make the user's browser
    send, so it counts as the user's own."""
    site = request.headers.get("Sec-Fetch-Site")
    return site is None or site in OWN_FETCH_SITES


def record_failure(
    request: HttpRequest, action: str, error, *, recording_id: str, credential: Credential
) -> None:
    """A failed attempt (a play, a download), with the failure's title as its detail."""
    record(
        request,
        action,
        recording_id=recording_id,
        credential=credential,
        detail=explain(error).title,
    )
