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
"""

from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone

from recordings_app.access import client_address
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


def record_play(request: HttpRequest, recording_id: str, credential: Credential) -> None:
    """A play, by the rule in this module's docstring."""
    recent = AuditEvent.objects.filter(
        user=request.user,
        recording_id=recording_id,
        action=Action.PLAY,
        at__gte=timezone.now() - PLAY_SESSION,
    )
    if not recent.exists():
        record(request, Action.PLAY, recording_id=recording_id, credential=credential)


def listeners(recording_id: str, limit: int = 20):
    """The latest plays of a recording, newest first, for its page."""
    return AuditEvent.objects.filter(recording_id=recording_id, action=Action.PLAY)[:limit]
