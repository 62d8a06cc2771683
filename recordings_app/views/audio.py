"""/recordings/<id>/audio/: a recording's audio streamed through the dashboard, so the
browser never needs SignalWire's credentials, with downloads audited."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, StreamingHttpResponse
from django.views.decorators.http import require_safe

from recordings_app import audit, filenames, streaming
from recordings_app.access import (
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
def recording_audio(request: HttpRequest, recording_id: str):
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
        name = filenames.download_name(
            recording_id, recording, media.headers.get("Content-Type", "")
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
