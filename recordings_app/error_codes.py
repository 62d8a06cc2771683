"""SignalWire's error codes on failed recordings, in words.

Only what the code itself tells us is claimed. The word codes name their cause
(`storage_unavailable`, `media_timeout`); a numeric code is SignalWire's own number, and
the Twilio-compatible numbers we know of (30003, 30005, ...) are about messages, not
recordings, so their meaning here is not guessed at: the page says whose code it is and
where to ask. Any other code is shown as it came, with no words (`describe` is None).
"""

import re

KNOWN = {
    "storage_unavailable": (
        "SignalWire could not store the recording: its storage was unavailable."
    ),
    "media_timeout": "No audio reached SignalWire's recorder in time (a media timeout).",
}

_NUMBER = re.compile(r"^[0-9]{1,10}$")


def describe(code: str | None) -> str | None:
    """The code in words, or None where we do not know what it means."""
    code = (code or "").strip()
    if code in KNOWN:
        return KNOWN[code]
    if _NUMBER.match(code):
        return (
            f"SignalWire's code {code}. SignalWire support can say what it means "
            "for this recording; give them the recording's ID."
        )
    return None
