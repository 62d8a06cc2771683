"""/recordings/<id>/audio/: a recording's audio streamed through the dashboard, so the
browser never needs SignalWire's credentials, with downloads audited."""

from pathlib import PurePosixPath
from urllib.parse import urlsplit

from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from recordings_app import audit, streaming
from recordings_app.access import (
    LoggedInRequest,
    active_credential,
    browser_cache_control,
    checked_recording_id,
)
from recordings_app.signalwire import SignalWireError, single_range

# What a listener can have waiting in the server's send buffer when it reads slowly or
# not at all: a hundred listeners hold one each. Larger chunks stream a local file
# faster, but no listener needs more than a few kB/s.
AUDIO_CHUNK = 64 * 1024


@require_safe
@login_required
def recording_audio(request: LoggedInRequest, recording_id: str):
    """The recording's audio through our own URL, in chunks, with one well-formed `Range`
    passed on so the browser can seek (anything else gets the whole file).
    `?download=1` answers as an attachment, audited when it delivers the file from its
    first byte (a resumed download is the same download), as the user's own only when
    it was asked for from the dashboard or by the user (audit.is_same_site); one that
    fails upstream is audited as a failed download."""
    recording_id = checked_recording_id(recording_id)
    credential = active_credential(request)
    client = credential.client()
    download = bool(request.GET.get("download")) and request.method == "GET"
    wanted = single_range(request.headers.get("Range"))
    try:
        recording = client.get_recording(recording_id)
        media = client.open_media(recording, wanted)
    except SignalWireError as error:
        if download and (wanted is None or wanted.startswith("bytes=0-")):
            audit.record_failure(
                request,
                audit.Action.DOWNLOAD_FAILED,
                error,
                recording_id=recording_id,
                credential=credential,
            )
        raise
    if download and media.starts_at_zero:
        if audit.is_same_site(request):
            action, detail = audit.Action.DOWNLOAD, ""
        else:
            action = audit.Action.DOWNLOAD_CROSS_SITE
            detail = f"Sec-Fetch-Site: {request.headers['Sec-Fetch-Site']}"
        audit.record(
            request, action, recording_id=recording_id, credential=credential, detail=detail
        )
    streaming.without_the_database(request)  # a listen lasts minutes
    response = StreamingHttpResponse(
        media.chunks(AUDIO_CHUNK), status=media.status, headers=media.headers
    )
    response["Cache-Control"] = browser_cache_control(request, credential)
    # Bytes from elsewhere are never a page of ours: not sniffed, and if a browser opens
    # them as a document anyway, sandboxed (no script, no same-origin access).
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    if request.GET.get("download"):
        name = _download_name(recording_id, recording, media.headers.get("Content-Type", ""))
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _download_name(recording_id: str, recording, content_type: str) -> str:
    """2026-12-01_1546_recording-<id>.wav: when it was made, in the user's time zone,
    first, so a folder of downloads sorts by time and still names each recording."""
    name = f"recording-{recording_id}.{_media_extension(recording.url, content_type)}"
    if recording.created_at is None:
        return name
    return f"{timezone.localtime(recording.created_at):%Y-%m-%d_%H%M}_{name}"


def _media_extension(url: str | None, content_type: str) -> str:
    """wav, mp3 or m4a. An MP4 recording is audio only: .m4a is that file's usual name,
    and what players open as audio (an .mp4 is taken for a video)."""
    suffix = PurePosixPath(urlsplit(url or "").path).suffix.lstrip(".").lower()
    if suffix in ("wav", "mp3"):
        return suffix
    if suffix in ("mp4", "m4a"):
        return "m4a"
    content_type = content_type.split(";")[0].strip().lower()
    if content_type == "audio/mpeg":
        return "mp3"
    if content_type in ("audio/mp4", "video/mp4"):
        return "m4a"
    return "wav"
