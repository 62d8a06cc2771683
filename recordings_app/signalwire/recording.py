"""The recordings of both API families as one frozen type, parsed at the boundary.

RELAY (`/api/relay/rest/recordings`) and Compatibility (cXML/LaML,
`/api/laml/2010-04-01/Accounts/{project}/Recordings`) describe a recording with
different field names, date formats, price signs and status words; `Recording` is the
one shape the rest of the project sees. Parsing is lenient: a missing or malformed
field becomes None and is named in `problems`, so a page can render what is valid.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

SOURCES = {
    # SignalWire: a RELAY recording carries exactly one of these; conference-only means
    # a Relay conference recording (leg recordings may carry a conference id too).
    "relay_pstn_leg_id": "pstn",
    "relay_sip_leg_id": "sip",
    "relay_webrtc_leg_id": "webrtc",
}
SOURCE_LABELS = {
    "pstn": "PSTN",
    "sip": "SIP",
    "webrtc": "WebRTC",
    "conference": "Conference",
    "cxml": "cXML",
    "unknown": "Unknown",
}
FAMILIES = ("relay", "compat")
FAMILY_LABELS = {"relay": "RELAY", "compat": "Compatibility (cXML)"}

# Status words grouped for filters and reports. SignalWire: the families use different
# words (Compatibility: queued ... stopped; RELAY: recording, finished, no_input, error
# and completed), and neither documents `failed`. Matching is exact, so a filter on
# these words and `status_family` always agree.
STATUS_FAMILIES = {
    "in_progress": "In progress",
    "done": "Done",
    "no_audio": "No audio",
    "failed": "Failed",
    "other": "Other",
}
STATUS_FAMILY_WORDS: dict[str, tuple[str, ...]] = {
    "in_progress": ("queued", "in-progress", "recording", "paused", "resumed"),
    "done": ("completed", "finished", "stopped"),
    "no_audio": ("absent", "no_input"),
    "failed": ("failed", "error"),
    "other": (),  # every word not above; a recording with an error_code is "failed"
}
_FAMILY_OF_WORD = {word: family for family, words in STATUS_FAMILY_WORDS.items() for word in words}

MAX_PRICE = Decimal(10**9)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def status_family(status: str | None, error_code: str | None = None) -> str:
    """ "in_progress", "done", "no_audio", "failed" or "other" (a word we do not know,
    or none). Any status with an error code counts as failed."""
    if error_code:
        return "failed"
    return _FAMILY_OF_WORD.get(status or "", "other")


# ------------------------------------------------------------------------ the data


@dataclass(frozen=True)
class Recording:
    """One recording as the API described it. Fields that were missing or of the wrong
    type are None and named in `problems`, so a page can render what is valid.

    `family` says which API holds it ("relay" or "compat"); Compatibility recordings
    have `source` "cxml", the upstream source word in `cxml_source`, their call in
    `call_sid`, no `track` and no `byte_size`."""

    id: str | None
    project_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    duration_seconds: int | None = None
    # What the recording cost, positive; None until upstream has rated it.
    price: Decimal | None = None
    price_unit: str | None = None
    status: str | None = None
    error_code: str | None = None
    url: str | None = None
    stereo: bool | None = None
    track: str | None = None
    byte_size: int | None = None
    source: str = "unknown"
    leg_id: str | None = None
    conference_id: str | None = None
    problems: tuple[str, ...] = ()
    family: str = "relay"
    cxml_source: str | None = None
    call_sid: str | None = None
    # Who called whom (parties.Parties), where a page or the index joined it; None: not
    # asked. Never from the recording's own JSON, which has no numbers.
    parties: object | None = None

    @property
    def source_label(self) -> str:
        label = SOURCE_LABELS[self.source]
        return f"{label} ({self.cxml_source})" if self.cxml_source else label

    @property
    def status_family(self) -> str:
        return status_family(self.status, self.error_code)

    @property
    def channel_parties(self) -> tuple[str, str]:
        """Who is on the left and right channel, where it can be said ("" where not).

        SignalWire: a stereo recording carries one party per channel, and says no more.
        A recording of track "both" holds the call leg's inbound audio (its own party,
        usually the caller) and its outbound audio (what it hears: the other party, the
        callee); we read them as left and right. Any other track, or mono: not said."""
        if self.stereo and self.track == "both":
            return ("caller", "callee")
        return ("", "")

    @property
    def has_audio(self) -> bool:
        """False where there is nothing to play: no audio, failed, deleted, or empty."""
        return (
            bool(self.url)
            and self.status_family not in ("no_audio", "failed")
            and self.status != "deleted"
            and self.duration_seconds != 0
        )

    @classmethod
    def from_api(cls, raw: object) -> Recording:
        """A RELAY recording (`/api/relay/rest/recordings`)."""
        if not isinstance(raw, dict):
            return cls(id=None, problems=("not a recording object",))
        problems: list[str] = []
        take = _taker(raw, problems)

        legs = [key for key in SOURCES if isinstance(raw.get(key), str)]
        conference_id = take("relay_conference_id", canonical_uuid, required=False)
        if len(legs) == 1:
            source, leg_id = SOURCES[legs[0]], canonical_uuid(raw[legs[0]])
            if leg_id is None:
                problems.append(legs[0])
        elif not legs and conference_id:
            source, leg_id = "conference", None
        else:
            source, leg_id = "unknown", None
            problems.append("source")

        return cls(
            **_shared_fields(take, "relay"),
            url=take("url", _text),
            stereo=take("stereo", _bool),
            track=take("track", _text),
            byte_size=take("byte_size", _count, required=False),
            source=source,
            leg_id=leg_id,
            conference_id=conference_id,
            problems=tuple(problems),  # last: the arguments above fill it
        )

    @classmethod
    def from_compat(cls, raw: object, space: str) -> Recording:
        """A Compatibility recording (`.../Accounts/{project}/Recordings`), whose media
        is its `uri` without `.json` on the space's host (WAV; `.mp3` gives MP3)."""
        if not isinstance(raw, dict):
            return cls(
                id=None, family="compat", source="cxml", problems=("not a recording object",)
            )
        problems: list[str] = []
        take = _taker(raw, problems)
        # SignalWire: `channels` is "1" or "2"; the spec also lists a singular `channel`.
        channels = "channels" if "channels" in raw or "channel" not in raw else "channel"
        return cls(
            **_shared_fields(take, "compat"),
            url=take("uri", lambda uri: _compat_media_url(uri, space)),
            stereo=take(channels, _stereo),
            source="cxml",
            conference_id=take("conference_sid", canonical_uuid, required=False),
            family="compat",
            cxml_source=take("source", _text),
            call_sid=take("call_sid", canonical_uuid, required=False),
            problems=tuple(problems),  # last: the arguments above fill it
        )


def _taker(raw: dict, problems: list[str]):
    def take(name, parse, required=True):
        if name not in raw or raw[name] is None:
            if required:
                problems.append(name)
            return None
        value = parse(raw[name])
        if value is None:
            problems.append(name)
        return value

    return take


@dataclass(frozen=True)
class RecordingPage:
    """One page of a list. Cursors are the query strings of upstream's own links (or, for
    the merged list, an opaque string), to hand back to the method that made the page;
    None where there is no such page. `unavailable` names, in words, what could not be
    read for this page (the merged list shows one family when the other is refused)."""

    recordings: tuple[Recording, ...]
    next_cursor: str | None
    prev_cursor: str | None
    first_cursor: str | None
    unavailable: tuple[str, ...] = ()

    @property
    def totals(self) -> PageTotals:
        # Derived when a page shows it: the index sync reads 1,000-row pages and never does.
        return PageTotals.of(self.recordings)


@dataclass(frozen=True)
class PageTotals:
    count: int
    seconds: int
    # Currency code -> sum. Different currencies are never added together.
    price_by_currency: dict[str, Decimal]

    @classmethod
    def of(cls, recordings) -> PageTotals:
        prices: dict[str, Decimal] = {}
        for recording in recordings:
            if recording.price is not None and recording.price_unit:
                unit = recording.price_unit
                prices[unit] = prices.get(unit, Decimal(0)) + recording.price
        return cls(
            count=len(recordings),
            seconds=sum(r.duration_seconds or 0 for r in recordings),
            price_by_currency=dict(sorted(prices.items())),
        )


# ------------------------------------------------------------------- field parsers


def canonical_uuid(value) -> str | None:
    """The UUID in its one canonical form (lower case, dashed), or None if it is none."""
    if not isinstance(value, str):
        return None
    if _CANONICAL_UUID.fullmatch(value):
        return value  # already canonical: a sync parses 100,000 of these, skip the round trip
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def is_uuid(value: str) -> bool:
    return canonical_uuid(value) is not None


def _within_range(parsed: datetime) -> datetime | None:
    # Far-off years are nonsense for a recording, and overflow when shown in a time
    # zone away from UTC (9999-12-31T23:00Z is year 10000 in Kiritimati).
    return parsed if EARLIEST <= parsed <= LATEST else None


def _iso_datetime(value) -> datetime | None:
    """RELAY's ISO 8601 times; one without a zone is refused, not guessed."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if not parsed.tzinfo:
        return None
    return _within_range(parsed)


def _rfc2822_datetime(value) -> datetime | None:
    """Compatibility's RFC 2822 times (`Tue, 25 Sep 2018 23:00:00 +0000`)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        # RFC 2822's `-0000` means UTC with no local zone given; the API says GMT.
        parsed = parsed.replace(tzinfo=UTC)
    return _within_range(parsed)


def _count(value) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _count_or_digits(value) -> int | None:
    # SignalWire: documented as an integer; Twilio-style APIs send "4", so take both.
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return _count(value)


def _decimal(value) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        # str() keeps what the JSON said (0.0025), not the float's binary expansion.
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    # No recording costs a billion; a price beyond that is nonsense, not data to format.
    return number if number.is_finite() and abs(number) < MAX_PRICE else None


def _price(value) -> Decimal | None:
    """RELAY's price: a JSON number, the cost as is."""
    return None if isinstance(value, str) else _decimal(value)


def _compat_cost(value) -> Decimal | None:
    """Compatibility's price is a string, negative for a cost: the cost is its negation
    (`"-0.0025"` -> 0.0025; subtracting from 0 keeps `"0"` from becoming -0)."""
    number = _decimal(value)
    return None if number is None else Decimal(0) - number


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _code(value) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(value)


def _bool(value) -> bool | None:
    return value if isinstance(value, bool) else None


def _stereo(value) -> bool | None:
    return {"1": False, "2": True}.get(str(value)) if isinstance(value, str | int) else None


def _compat_media_url(uri, space: str) -> str | None:
    """The media file of a Compatibility recording: its `uri` without `.json`, on the
    space's own host (only the path is kept, so the host is always the space's)."""
    if not isinstance(uri, str) or not space:
        return None
    path = urlsplit(uri).path
    if not path.startswith("/api/laml/"):
        return None
    return f"https://{space}.signalwire.com{path.removesuffix('.json')}"


# ------------------------------------------------------- fields both families describe

_OPTIONAL = False  # as a field's third item: upstream may leave it out, not a problem

# Recording field -> where RELAY keeps it and how it is read, then the same for
# Compatibility, in the order `problems` names them. The fields one family lacks, or reads
# in its own way (`url`, `stereo`), are read by that family's parser.
_SHARED_FIELDS = {
    "id": (("id", canonical_uuid), ("sid", canonical_uuid)),
    "project_id": (("project_id", canonical_uuid), ("account_sid", canonical_uuid)),
    "created_at": (("created_at", _iso_datetime), ("date_created", _rfc2822_datetime)),
    "updated_at": (("updated_at", _iso_datetime), ("date_updated", _rfc2822_datetime)),
    "duration_seconds": (("duration_in_seconds", _count), ("duration", _count_or_digits)),
    # SignalWire: Compatibility's price is null until the recording is rated.
    "price": (("price", _price), ("price", _compat_cost, _OPTIONAL)),
    "price_unit": (("price_unit", _text), ("price_unit", _text)),
    "status": (("status", _text), ("status", _text)),
    "error_code": (("error_code", _text, _OPTIONAL), ("error_code", _code, _OPTIONAL)),
}


def _shared_fields(take, family: str) -> dict:
    """The fields of `_SHARED_FIELDS` as `family` ("relay" or "compat") describes them."""
    column = FAMILIES.index(family)
    return {field: take(*places[column]) for field, places in _SHARED_FIELDS.items()}
