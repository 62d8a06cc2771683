"""A local stand-in for a SignalWire space: recordings API and media, stdlib only.

    from demo_space import DemoSpace, DEMO_PROJECT_ID, DEMO_API_TOKEN
    with DemoSpace() as space:
        requests.get(space.base_url + "/api/relay/rest/recordings",
                     auth=(DEMO_PROJECT_ID, DEMO_API_TOKEN))

Run it by hand with `python -m demo_space`.
"""

from .audio import iter_wav, wav_size
from .data import (
    DEMO_API_TOKEN,
    DEMO_PROJECT_ID,
    MISSING,
    NO_VOICE_API_TOKEN,
    NO_VOICE_PROJECT_ID,
    OTHER_API_TOKEN,
    OTHER_PROJECT_ID,
)
from .server import DemoSpace

__all__ = [
    "DEMO_API_TOKEN",
    "DEMO_PROJECT_ID",
    "MISSING",
    "NO_VOICE_API_TOKEN",
    "NO_VOICE_PROJECT_ID",
    "OTHER_API_TOKEN",
    "OTHER_PROJECT_ID",
    "DemoSpace",
    "iter_wav",
    "wav_size",
]
