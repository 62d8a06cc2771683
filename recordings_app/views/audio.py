"""/recordings/<id>/audio/: a recording's audio streamed through the dashboard, so the
browser never needs SignalWire's credentials, with downloads audited."""

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_safe

from recordings_app import audio_stream, audit
from recordings_app.access import (
    LoggedInRequest,
    active_credential,
    browser_cache_control,
    checked_recording_id,
)
from recordings_app.signalwire import SignalWireError


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
    download = bool(request.GET.get("download")) and request.method == "GET"
    wanted = audio_stream.wanted_range(request)
    try:
        recording, media = audio_stream.open_audio(credential.client(), recording_id, wanted)
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
    return audio_stream.audio_response(
        request,
        recording_id,
        recording,
        media,
        attachment=bool(request.GET.get("download")),
        cache_control=browser_cache_control(request, credential),
    )
