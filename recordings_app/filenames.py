"""What a downloaded recording is called: one rule for a single download
(views/audio.py) and for each file in a bulk archive (archive.py)."""

from datetime import tzinfo
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from django.utils import timezone

from recordings_app.signalwire import Recording


def download_name(
    recording_id: str, recording: Recording, content_type: str, zone: tzinfo | None = None
) -> str:
    """2026-12-01_1546_recording-<id>.wav: when it was made, in the user's time zone
    (`zone`, else the one active now), first, so a folder of downloads sorts by time and
    still names each recording."""
    name = f"recording-{recording_id}.{media_extension(recording.url, content_type)}"
    if recording.created_at is None:
        return name
    return f"{timezone.localtime(recording.created_at, zone):%Y-%m-%d_%H%M}_{name}"


def media_extension(url: str | None, content_type: str) -> str:
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
