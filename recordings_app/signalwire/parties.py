"""Who called whom: the two ends and the direction of the call a recording belongs to.

SignalWire: a recording carries no numbers. A RELAY recording's `relay_*_leg_id` is, as
far as anyone reports, the id of that leg in voice logs (`/api/voice/logs`, see
voice_logs.py); a Compatibility recording's `call_sid` names its call (`.../Calls`,
see calls.py). A conference recording has no single pair of numbers.

`Parties` is what either answers, parsed leniently: an address is shown as it came (an
E.164 number, a SIP URI, a client name, "anonymous"), and a search key is derived
only from what parses as a phone number (the `phonenumbers` library, never our own
patterns).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

import phonenumbers

from .exceptions import (
    CredentialsRejected,
    LegNotFound,
    ScopeMissing,
    SignalWireError,
)
from .recording import _iso_datetime, _rfc2822_datetime, canonical_uuid

# Longer than any honest address (a SIP URI with parameters); the rest is cut off.
MAX_ADDRESS = 128
MAX_DIRECTION = 16

# What a recording's numbers are known as, and why not where they are not.
STATES = {
    "found": "",
    "pending": "The dashboard has not matched this recording with its call yet.",
    "none": "A conference recording has no single pair of numbers.",
    "not_found": "SignalWire has no record of this recording's call leg.",
    "refused": "SignalWire would not show the call's numbers to these credentials "
    "(the API token may lack the scope for voice logs or calls).",
    "failed": "SignalWire did not answer with the call's numbers (an error or a malformed "
    "answer). The dashboard tries again later.",
}


@dataclass(frozen=True)
class Parties:
    """The ends of one call leg (voice log) or call (Compatibility). `from_address` and
    `to_address` are upstream's text, unchanged but trimmed; `state` is "found" or says
    why there are none (a key of STATES). `id` is the leg id or call sid it was read by."""

    from_address: str | None = None
    to_address: str | None = None
    direction: str | None = None
    state: str = "found"
    id: str | None = None
    started_at: datetime | None = None

    @property
    def known(self) -> bool:
        return self.state == "found"

    @property
    def reason(self) -> str:
        return STATES.get(self.state, "")

    @classmethod
    def unknown(cls, state: str) -> Parties:
        if state not in STATES or state == "found":
            raise ValueError(f"not a reason for missing numbers: {state!r}")
        return cls(state=state)

    @classmethod
    def after(cls, error: SignalWireError) -> Parties:
        """No numbers, because asking for them raised `error`."""
        if isinstance(error, LegNotFound):
            return cls(state="not_found")
        if isinstance(error, CredentialsRejected | ScopeMissing):
            return cls(state="refused")
        return cls(state="failed")

    @classmethod
    def from_voice_log(cls, raw: object) -> Parties:
        """One voice log (`GET /api/voice/logs[/{id}]`): `id`, `from`, `to`, `direction`,
        `created_at` (ISO 8601). A discarded log carries none of the parties."""
        if not isinstance(raw, dict):
            return cls(state="failed")
        return cls(
            from_address=address(raw.get("from")),
            to_address=address(raw.get("to")),
            direction=_direction(raw.get("direction")),
            id=canonical_uuid(raw.get("id")),
            started_at=_iso_datetime(raw.get("created_at")),
        )

    @classmethod
    def from_call(cls, raw: object) -> Parties:
        """One Compatibility call (`.../Calls/{sid}.json`): `sid`, `from`, `to`,
        `direction`, `start_time` (RFC 2822)."""
        if not isinstance(raw, dict):
            return cls(state="failed")
        return cls(
            from_address=address(raw.get("from")),
            to_address=address(raw.get("to")),
            direction=_direction(raw.get("direction")),
            id=canonical_uuid(raw.get("sid")),
            started_at=_rfc2822_datetime(raw.get("start_time")),
        )


@dataclass(frozen=True)
class PartiesPage:
    """One page of voice logs or calls; `next_cursor` as RecordingPage's."""

    items: tuple[Parties, ...]
    next_cursor: str | None


def address(value) -> str | None:
    """An end of a call as upstream wrote it, trimmed and bounded; None if it is no text."""
    if not isinstance(value, str):
        return None
    value = value.strip()[:MAX_ADDRESS]
    return value or None


def _direction(value) -> str | None:
    # SignalWire: inbound, outbound, outbound-api, outbound-dial; shown as given.
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:MAX_DIRECTION]


def phone_number(text: str | None):
    """The phone number an address holds, or None: "+14155550100", and the user part of
    "sip:+14155550100@host". A client name, "anonymous" or a SIP URI of a name is none."""
    if not text:
        return None
    candidate = text
    if candidate.lower().startswith(("sip:", "sips:", "tel:")):
        candidate = candidate.split(":", 1)[1].split("@", 1)[0].split(";", 1)[0]
    if not candidate.startswith("+"):
        return None  # SignalWire sends E.164; anything else is not guessed at
    try:
        number = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None


@functools.lru_cache(maxsize=4096)  # a sync meets the same customers' numbers again and again
def number_digits(text: str | None) -> str:
    """The digits of the E.164 form of the number an address holds ("14155550100"), or
    "" when it holds none: what the index searches."""
    number = phone_number(text)
    if number is None:
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
