"""A recording's audio as the dashboard streams it, for every door it is heard through:
the recording's own audio URL (views/audio.py) and a share link's (views/shares.py).

The upstream bytes are passed on in chunks with one well-formed `Range` forwarded, so
the browser can seek and memory stays flat; who may hear what, and what is audited, is
the caller's business."""

from django.http import HttpRequest, StreamingHttpResponse

from recordings_app import filenames, streaming
from recordings_app.credential_cache import CachedClient
from recordings_app.signalwire import single_range

# What a listener can have waiting in the server's send buffer when it reads slowly or
# not at all: a hundred listeners hold one each. Larger chunks stream a local file
# faster, but no listener needs more than a few kB/s.
AUDIO_CHUNK = 64 * 1024


def wanted_range(request: HttpRequest) -> str | None:
    """The request's one well-formed `Range` (anything else: the whole file)."""
    return single_range(request.headers.get("Range"))


def open_audio(client: CachedClient, recording_id: str, wanted: str | None):
    """The recording and its media stream from `wanted` on; SignalWireError if either
    cannot be had."""
    recording = client.get_recording(recording_id)
    return recording, client.open_media(recording, wanted)


def audio_response(
    request: HttpRequest,
    recording_id: str,
    recording,
    media,
    *,
    attachment: bool,
    cache_control: str,
) -> StreamingHttpResponse:
    """The open media as the answer, streamed without holding a database connection;
    as a download named after the recording when `attachment`."""
    streaming.without_the_database(request)  # a listen lasts minutes
    response = StreamingHttpResponse(
        media.chunks(AUDIO_CHUNK), status=media.status, headers=media.headers
    )
    response["Cache-Control"] = cache_control
    # Bytes from elsewhere are never a page of ours: not sniffed, and if a browser opens
    # them as a document anyway, sandboxed (no script, no same-origin access).
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    if attachment:
        name = filenames.download_name(
            recording_id, recording, media.headers.get("Content-Type", "")
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
