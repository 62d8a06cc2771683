"""A local stand-in for a SignalWire space: recordings APIs and media, on loopback.

    from demo_space import DemoSpace, DEMO_PROJECT_ID, DEMO_API_TOKEN
    with DemoSpace() as space:
        requests.get(space.base_url + "/api/relay/rest/recordings",
                     auth=(DEMO_PROJECT_ID, DEMO_API_TOKEN))

Run it by hand with `python -m demo_space` (`--realistic` for how real spaces behave).
"""

from .audio import TalkSpans, iter_wav, talk_spans, wav_size
from .compressed_audio import MediaFile, media_file, mp3_size
from .data import (
    DEMO_API_TOKEN,
    DEMO_PROJECT_ID,
    DEMO_SPACE_ID,
    FILES_HOST,
    MISSING,
    NO_VOICE_API_TOKEN,
    NO_VOICE_PROJECT_ID,
    OTHER_API_TOKEN,
    OTHER_PROJECT_ID,
)
from .server import DemoSpace, LoggedRequest

__all__ = [
    "DEMO_API_TOKEN",
    "DEMO_PROJECT_ID",
    "DEMO_SPACE_ID",
    "FILES_HOST",
    "MISSING",
    "NO_VOICE_API_TOKEN",
    "NO_VOICE_PROJECT_ID",
    "OTHER_API_TOKEN",
    "OTHER_PROJECT_ID",
    "DemoSpace",
    "LoggedRequest",
    "MediaFile",
    "TalkSpans",
    "iter_wav",
    "media_file",
    "mp3_size",
    "talk_spans",
    "wav_size",
]
