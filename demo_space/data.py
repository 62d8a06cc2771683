"""The demo projects and their seeded recordings.

Why seeded: tests, screenshots and benchmarks must see the same data on every run, so every
value comes from random.Random(fixed seed) and a fixed `now`.
"""

import math
import random
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

from .audio import wav_size
from .compressed_audio import MediaFile, media_file, mp3_size

# Three projects: the demo user's, a second user's, and one whose token lacks the Voice scope.
DEMO_PROJECT_ID = "5d3a8c1e-9b47-4f62-a0d5-7c2e91b4f8a3"
DEMO_API_TOKEN = "PTdemo3f9a1c7e5b2d8f4a6c0e9b3d7f1a5c8e2b6d4f0a9c1e"  # noqa: S105 (public demo credentials)
OTHER_PROJECT_ID = "a81f2c6d-3e94-4b7a-8c15-d0e6f92b4a7c"
OTHER_API_TOKEN = "PTother7b2e9d4c1a8f3e6b0d5c2a9f7e4b1d8c3a6f0e5b2d9"  # noqa: S105 (public demo credentials)
NO_VOICE_PROJECT_ID = "e2c47b90-1d5f-4a38-9e6b-3f8a0c1d7b52"
NO_VOICE_API_TOKEN = "PTnovoice4e8b1f6a3d9c2e7b5a0f8d3c6e1b9a4f7d2c5e8b"  # noqa: S105 (public demo credentials)

# SignalWire: media lives at https://files.signalwire.com/<space id>/<project id>/recordings/...
DEMO_SPACE_ID = "0c7e4b1a-6f2d-4e89-b3a5-91d8c2f06e47"
FILES_HOST = "files.signalwire.com"

DEMO_SEED = 20240115
OTHER_SEED = 777
NO_VOICE_SEED = 4242
OTHER_COUNT = 300
NO_VOICE_COUNT = 20

HISTORY_DAYS = 90
USD_PER_MINUTE = 0.0025  # billed per started minute, so sub-cent prices appear
EUR_PER_MINUTE = 0.0023
ERROR_CODES = ("30005", "media_timeout", "30003", "storage_unavailable")
# A real day: a couple of calls being recorded right now, the rest finished and priced.
# Past these, a recording drawn as in flight is drawn as completed instead.
LIVE_RELAY = 2
LIVE_COMPAT = 1

LEG_KEYS = ("relay_pstn_leg_id", "relay_sip_leg_id", "relay_webrtc_leg_id")
SOURCE_KEYS = (*LEG_KEYS, "relay_conference_id")
REQUIRED_KEYS = (
    "id",
    "project_id",
    "created_at",
    "updated_at",
    "duration_in_seconds",
    "price",
    "price_unit",
    "status",
    "url",
    "stereo",
    "track",
)
OPTIONAL_KEYS = ("error_code", "byte_size")


class _Sentinel:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


MISSING = _Sentinel("MISSING")  # as an add_recording() override: remove that key
AUTO_SIZE = _Sentinel("AUTO_SIZE")  # stored in "byte_size": served as the media file's size


@dataclass(frozen=True)
class MediaUrl:
    """Stored in "url": served as the URL of this space's media file in `format`.

    `host` None follows the space's media_host; "space", "files" or "foreign" pin it.
    """

    format: str = "wav"
    host: str | None = None


AUTO_URL = MediaUrl()


def default_now() -> datetime:
    """The start of the current UTC hour: stable within an hour, so reruns agree."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def as_utc(now: datetime | None) -> datetime:
    if now is None:
        return default_now()
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)


def iso(moment: datetime) -> str:
    # SignalWire: ISO 8601 UTC with a Z suffix, whole seconds, e.g. 2024-01-15T09:30:00Z.
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def canonical_id(value: str) -> str | None:
    """A UUID in its canonical form, or None: ids are looked up however a client spells them."""
    return str(uuid.UUID(value)) if _UUID.match(value) else None


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def price_for(duration: int, unit: str) -> float:
    rate = EUR_PER_MINUTE if unit == "EUR" else USD_PER_MINUTE
    return round(math.ceil(duration / 60) * rate, 6)


def _busy(moment: datetime) -> float:
    """How likely a call is at that moment: office hours on weekdays, little at night."""
    hour = moment.hour
    weight = 1.0 if 8 <= hour < 18 else 0.45 if 6 <= hour < 22 else 0.1
    return weight * (0.3 if moment.weekday() >= 5 else 1.0)


def _random_start(rng: random.Random, now: datetime) -> datetime:
    while True:
        moment = now - timedelta(seconds=rng.uniform(1, HISTORY_DAYS * 86400))
        if rng.random() < _busy(moment):
            return moment.replace(microsecond=0)


def _duration(rng: random.Random, status: str) -> int:
    if status == "completed":
        if rng.random() < 0.03:
            return rng.randint(900, 3600)
        return int(min(900, max(5, rng.lognormvariate(math.log(90), 0.9))))
    if status == "failed":
        return rng.randint(1, 40) if rng.random() < 0.25 else 0
    if status == "in-progress":
        return rng.randint(5, 1500)
    return 0  # absent: nothing was recorded


def _recording(
    rng: random.Random, project_id: str, now: datetime, conferences: list[str], live_ok: bool
):
    rec_id = new_uuid(rng)
    status = rng.choices(("completed", "failed", "absent", "in-progress"), (88, 5, 5, 2))[0]
    if status == "in-progress" and not live_ok:
        status = "completed"
    stereo = rng.random() < 0.4
    track = "both" if stereo else rng.choices(("inbound", "outbound", "both"), (5, 3, 2))[0]
    kind = rng.choices(("pstn", "sip", "webrtc", "conference"), (45, 25, 15, 15))[0]
    unit = "EUR" if rng.random() < 0.05 else "USD"
    duration = _duration(rng, status)

    if status == "in-progress":
        # Still recording: started `duration` seconds ago, last updated now.
        created = now - timedelta(seconds=duration + rng.randint(1, 20))
        updated = created + timedelta(seconds=duration)
    else:
        created = _random_start(rng, now)
        lag = timedelta(seconds=duration + rng.randint(1, 30))
        created = min(created, now - lag)  # it must have ended before now
        updated = created + lag

    price = price_for(duration, unit) if status == "completed" else 0.0
    if status == "failed" and duration and rng.random() < 0.5:
        price = price_for(duration, unit)  # SignalWire: a failed recording can still be billed

    rec = {
        "id": rec_id,
        "project_id": project_id,
        "created_at": iso(created),
        "updated_at": iso(updated),
        "duration_in_seconds": duration,
    }
    if status == "failed":
        rec["error_code"] = rng.choice(ERROR_CODES)
    rec.update(price=price, price_unit=unit, status=status, url=AUTO_URL, stereo=stereo)
    if rng.random() < 0.9:
        rec["byte_size"] = wav_size(duration, stereo)
    rec["track"] = track
    if kind == "conference":
        rec["relay_conference_id"] = rng.choice(conferences)
    else:
        rec[f"relay_{kind}_leg_id"] = new_uuid(rng)
        if rng.random() < 0.1:
            rec["relay_conference_id"] = rng.choice(conferences)
    return rec


def generate(
    project_id: str,
    count: int,
    seed: int,
    now: datetime,
    status_words: str = "legacy",
    formats: str = "wav",
) -> list[dict]:
    """`count` recordings of one project, deterministic for (seed, now); in no particular order.

    The switches re-word and re-encode the same recordings (ids, times, durations stay), each
    with a random stream of its own.
    """
    rng = random.Random(seed)
    conferences = [new_uuid(rng) for _ in range(max(4, count // 40))]
    recs, live = [], 0
    for _ in range(count):
        recs.append(_recording(rng, project_id, now, conferences, live < LIVE_RELAY))
        live += recs[-1]["status"] == "in-progress"
    if status_words == "real":
        _reword(recs, random.Random(f"words:{seed}"))
    elif status_words != "legacy":
        raise ValueError(f"status_words must be 'legacy' or 'real', not {status_words!r}")
    if formats == "mixed":
        _mix_formats(recs, random.Random(f"formats:{seed}"))
    elif formats != "wav":
        raise ValueError(f"formats must be 'wav' or 'mixed', not {formats!r}")
    return recs


def _reword(recs: list[dict], rng: random.Random) -> None:
    """SignalWire: the words real spaces report. RELAY record states are recording, paused,
    finished, no_input and error; a REST recording is also seen as completed; and a word
    nobody documented turns up now and then."""
    live = 0
    for rec in recs:
        status = rec["status"]
        if status == "completed":
            word = rng.choices(("finished", "completed", "transcoding"), (85, 14.5, 0.5))[0]
        elif status == "in-progress":  # the few live ones: one recording, one paused
            word, live = ("recording", "paused")[live % 2], live + 1
        else:
            word = {"failed": "error", "absent": "no_input"}[status]
        rec["status"] = word


def _mix_formats(recs: list[dict], rng: random.Random) -> None:
    """Some recordings as MP3 (the REST Calling API's default), a few as MP4; those that hold
    no audio stay WAV."""
    for rec in recs:
        media_format = rng.choices(("wav", "mp3", "mp4"), (65, 28, 7))[0]
        if rec["duration_in_seconds"] == 0 or media_format == "wav":
            continue
        rec["url"] = MediaUrl(media_format)
        if "byte_size" in rec:
            rec["byte_size"] = media_size(media_format, rec["duration_in_seconds"], rec["stereo"])


def media_size(media_format: str, duration: int, stereo: bool):
    """byte_size for a new recording: MP4's is known only once its AAC clip is encoded, so
    it is left to the server to fill in when it serves the recording."""
    if media_format == "mp3":
        return mp3_size(duration, stereo)
    if media_format == "mp4":
        return AUTO_SIZE
    return wav_size(duration, stereo)


def relay_format(rec: dict) -> str:
    media = rec.get("url")
    return media.format if isinstance(media, MediaUrl) else "wav"


def relay_media(rec: dict) -> MediaFile:
    """The file a RELAY recording is served as, in its own format."""
    seed = rec["id"] if isinstance(rec.get("id"), str) else ""
    return media_file(relay_format(rec), rec.get("duration_in_seconds"), rec.get("stereo"), seed)


def compat_media(rec: dict, media_format: str) -> MediaFile:
    """SignalWire: a Compatibility recording is served as WAV or, asked for .mp3, as MP3."""
    return media_file(media_format, rec.get("duration"), rec.get("channels") == "2", rec["sid"])


def with_overrides(rec: dict, overrides: dict) -> dict:
    """`rec` with a test's overrides applied: a value replaces the key's, MISSING removes it."""
    for key, value in overrides.items():
        if value is MISSING:
            rec.pop(key, None)
        else:
            rec[key] = value
    return rec


def extra_recording(
    project_id: str,
    number: int,
    now: datetime,
    overrides: dict,
    media_format: str = "wav",
    media_host: str | None = None,
) -> dict:
    """A recording added by a test: plain defaults, then the overrides (MISSING removes a key).

    Defaults adapt to the overrides: byte_size and price follow an overridden duration/stereo
    and the format, and a PSTN leg is added only if no source key was given.
    """
    rng = random.Random(f"extra:{project_id}:{number}")
    duration = overrides.get("duration_in_seconds", 60)
    stereo = overrides.get("stereo", False)
    sized = isinstance(duration, int) and not isinstance(duration, bool) and duration >= 0
    moment = now + timedelta(seconds=number)  # newer than any seeded one, in adding order
    rec = {
        "id": new_uuid(rng),
        "project_id": project_id,
        "created_at": iso(moment),
        "updated_at": iso(moment),
        "duration_in_seconds": duration,
        "price": price_for(duration, "USD") if sized else 0.0,
        "price_unit": "USD",
        "status": "completed",
        "url": MediaUrl(media_format, media_host),
        "stereo": stereo,
        "byte_size": media_size(media_format, duration, stereo is True) if sized else 0,
        "track": "both" if stereo is True else "inbound",
    }
    if not any(key in overrides for key in SOURCE_KEYS):
        rec["relay_pstn_leg_id"] = new_uuid(rng)
    return with_overrides(rec, overrides)


# ---- the Compatibility (cXML/LaML) API's recordings and calls ---------------------------------

COMPAT_SHARE = 0.15  # cXML recordings per RELAY recording in a project
API_VERSION = "2010-04-01"
COMPAT_ROOT = f"/api/laml/{API_VERSION}/Accounts"
COMPAT_STATUSES = ("completed", "absent", "stopped", "in-progress", "paused", "resumed", "queued")
IN_FLIGHT = ("in-progress", "paused", "resumed", "queued")
CALL_SOURCES = ("RecordVerb", "DialVerb", "OutBoundApi", "Trunking", "StartCallRecordingApi")
CONFERENCE_SOURCES = ("Conference", "StartConferenceRecording")
AREA_CODES = ("212", "310", "415", "512", "617", "720", "206", "305")


def rfc2822(moment: datetime) -> str:
    # SignalWire (Compatibility API): RFC 2822 in UTC, e.g. "Tue, 25 Sep 2018 23:00:00 +0000".
    return format_datetime(moment.astimezone(UTC))


def compat_price(duration: int, unit: str) -> str:
    # SignalWire: a Compatibility price is a string, negative for a cost: "-0.0025".
    rate = EUR_PER_MINUTE if unit == "EUR" else USD_PER_MINUTE
    cost = math.ceil(duration / 60) * rate
    return f"{-cost:.4f}" if cost else "0.0000"


def compat_uri(project_id: str, sid: str) -> str:
    return f"{COMPAT_ROOT}/{project_id}/Recordings/{sid}.json"


def _compat_recording(rng, project_id, now, conferences, calls, live_ok: bool) -> dict:
    sid = new_uuid(rng)
    status = rng.choices(COMPAT_STATUSES, (88, 4, 2, 2, 1.5, 1.5, 1))[0]
    if status in IN_FLIGHT and not (live_ok and status == "in-progress"):
        status = "completed"
    source = rng.choices((*CALL_SOURCES, *CONFERENCE_SOURCES), (30, 25, 10, 5, 15, 10, 5))[0]
    stereo = source != "Conference" and rng.random() < 0.3
    unit = "EUR" if rng.random() < 0.05 else "USD"
    if status in ("completed", "stopped"):
        duration = int(min(1800, max(3, rng.lognormvariate(math.log(75), 0.9))))
    elif status in ("in-progress", "paused", "resumed"):
        duration = rng.randint(5, 900)
    else:
        duration = 0  # absent: nothing was recorded; queued: not started
    if status in IN_FLIGHT:
        created = now - timedelta(seconds=duration + rng.randint(2, 30))
        start = None if status == "queued" else created
        end = None
        updated = created + timedelta(seconds=duration)
    else:
        created = _random_start(rng, now)
        lag = timedelta(seconds=duration + rng.randint(1, 20))
        created = min(created, now - lag)
        start, end = created, created + timedelta(seconds=duration)
        updated = end + timedelta(seconds=rng.randint(0, 3))
    if status in IN_FLIGHT:
        price = None
    elif now - created < timedelta(days=2) and rng.random() < 0.4:
        price = None  # not rated yet
    elif status == "absent":
        price = "0.0000" if rng.random() < 0.5 else None
    else:
        price = compat_price(duration, unit)
    call_sid = conference_sid = None
    if source in CONFERENCE_SOURCES:
        conference_sid = rng.choice(conferences)
    else:
        call_sid = rng.choice(list(calls)) if calls and rng.random() < 0.1 else None
        if call_sid is not None and _started(calls[call_sid]) > created:
            call_sid = None  # a call cannot be recorded before it started
        if call_sid is None:
            call_sid = new_uuid(rng)
            calls[call_sid] = _call(rng, project_id, call_sid, created, duration, status)
    channels = "2" if stereo else "1"
    return {
        "sid": sid,
        "account_sid": project_id,
        "api_version": API_VERSION,
        "call_sid": call_sid,
        "conference_sid": conference_sid,
        "channel": channels,
        "channels": channels,
        "date_created": rfc2822(created),
        "date_updated": rfc2822(updated),
        "start_time": None if start is None else rfc2822(start),
        "end_time": None if end is None else rfc2822(end),
        "duration": duration,
        "price": price,
        "price_unit": unit,
        "source": source,
        "status": status,
        "error_code": rng.choice(ERROR_CODES)
        if status == "absent" and rng.random() < 0.5
        else None,
        "uri": compat_uri(project_id, sid),
        "subresource_uris": {
            "transcriptions": f"{COMPAT_ROOT}/{project_id}/Recordings/{sid}/Transcriptions.json"
        },
        "encryption_details": None,
        "trim": "trim-silence" if rng.random() < 0.1 else "do-not-trim",
    }


def _started(call: dict) -> datetime:
    return parsedate_to_datetime(call["start_time"])


def _phone(rng: random.Random) -> tuple[str, str]:
    area, exchange, line = rng.choice(AREA_CODES), rng.randint(200, 999), rng.randint(0, 9999)
    return f"+1{area}{exchange}{line:04d}", f"({area}) {exchange}-{line:04d}"


def _call(rng, project_id, sid, recording_created, recording_duration, status) -> dict:
    """The call a cXML recording belongs to, as GET .../Calls/{sid}.json serves it."""
    started = recording_created - timedelta(seconds=rng.randint(0, 20))
    live = status in IN_FLIGHT
    duration = recording_duration + rng.randint(1, 40)
    direction = rng.choice(("inbound", "outbound"))
    ours, theirs = _phone(rng), _phone(rng)
    (from_, from_fmt), (to, to_fmt) = (theirs, ours) if direction == "inbound" else (ours, theirs)
    ended = None if live else started + timedelta(seconds=duration)
    rtt = rng.randint(20, 90)
    return {
        "sid": sid,
        "account_sid": project_id,
        "date_created": rfc2822(started),
        "date_updated": rfc2822(ended or started),
        "parent_call_sid": None,
        "to": to,
        "formatted_to": to_fmt,
        "to_formatted": to_fmt,
        "from": from_,
        "formatted_from": from_fmt,
        "from_formatted": from_fmt,
        "phone_number_sid": new_uuid(rng) if direction == "inbound" else None,
        "status": "in-progress" if live else "completed",
        "start_time": rfc2822(started),
        "end_time": None if ended is None else rfc2822(ended),
        "duration": 0 if live else duration,
        "price": None if live else -round(math.ceil(duration / 60) * 0.0085, 4),
        "price_unit": "USD",
        "direction": direction,
        "answered_by": "human" if direction == "outbound" and rng.random() < 0.5 else None,
        "api_version": API_VERSION,
        "forwarded_from": None,
        "caller_name": None,
        "uri": f"{COMPAT_ROOT}/{project_id}/Calls/{sid}.json",
        "subresource_uris": {
            "notifications": None,
            "recordings": f"{COMPAT_ROOT}/{project_id}/Calls/{sid}/Recordings.json",
        },
        "annotation": None,
        "group_sid": None,
        "audio_in_mos": None if live else round(rng.uniform(3.6, 4.5), 2),
        "sip_result_code": "200",
        "audio_rtt_avg": rtt,
        "audio_rtt_min": rtt - rng.randint(1, 15),
        "audio_rtt_max": rtt + rng.randint(1, 60),
        "audio_out_jitter_min": 0,
        "audio_out_jitter_max": rng.randint(5, 30),
        "audio_out_jitter_avg": rng.randint(1, 5),
        "audio_out_lost": rng.randint(0, 12),
    }


def generate_compat(
    project_id: str, count: int, seed: int, now: datetime
) -> tuple[list[dict], dict[str, dict]]:
    """`count` cXML recordings of one project and the calls they belong to (by call sid),
    deterministic for (seed, now) and independent of the RELAY recordings."""
    rng = random.Random(f"compat:{seed}")
    conferences = [new_uuid(rng) for _ in range(max(2, count // 30))]
    calls: dict[str, dict] = {}
    recs: list[dict] = []
    live = 0
    for _ in range(count):
        recs.append(_compat_recording(rng, project_id, now, conferences, calls, live < LIVE_COMPAT))
        live += recs[-1]["status"] in IN_FLIGHT
    return recs, calls


def extra_compat_recording(project_id: str, number: int, now: datetime, overrides: dict) -> dict:
    """A cXML recording added by a test (a completed 60 s call recording unless overridden);
    MISSING removes a key."""
    rng = random.Random(f"extra-compat:{project_id}:{number}")
    moment = now + timedelta(seconds=number)
    sid = new_uuid(rng)
    duration = overrides.get("duration", 60)
    sized = isinstance(duration, int) and not isinstance(duration, bool) and duration >= 0
    rec = {
        "sid": sid,
        "account_sid": project_id,
        "api_version": API_VERSION,
        "call_sid": new_uuid(rng),
        "conference_sid": None,
        "channel": "1",
        "channels": "1",
        "date_created": rfc2822(moment),
        "date_updated": rfc2822(moment),
        "start_time": rfc2822(moment),
        "end_time": rfc2822(moment + timedelta(seconds=duration if sized else 0)),
        "duration": duration,
        "price": compat_price(duration, "USD") if sized else None,
        "price_unit": "USD",
        "source": "RecordVerb",
        "status": "completed",
        "error_code": None,
        "uri": compat_uri(project_id, sid),
        "subresource_uris": {
            "transcriptions": f"{COMPAT_ROOT}/{project_id}/Recordings/{sid}/Transcriptions.json"
        },
        "encryption_details": None,
        "trim": "do-not-trim",
    }
    return with_overrides(rec, overrides)


# ---- who called whom: voice logs (the legs of RELAY recordings) and the calls' numbers --------
# SignalWire: a RELAY recording's relay_*_leg_id is reported to be its leg's id in voice logs
# (GET /api/voice/logs[/{id}]), which carry `from`, `to` and `direction`. Every leg of a seeded
# recording has a voice log here, and a few calls that nobody recorded have one too. The numbers
# are fictional ranges (US 555-01xx, Ofcom's drama numbers, ...), in several countries.

# The business's own numbers: what customers call, and what agents call out from.
OUR_NUMBERS = ("+14155550199", "+12125550142", "+442079460999")
# Customers who call often: an agent looking one of them up finds several recordings.
REGULARS = ("+14155550100", "+442079460000", "+61255501234", "+4930901820")
ANONYMOUS = "anonymous"
SIP_DOMAIN = "acme.sip.signalwire.com"
UNRECORDED_SHARE = 0.1  # voice logs of calls nobody recorded, per recorded leg
REGULAR_SHARE = 0.025  # of the calls with a customer, one of REGULARS
ANONYMOUS_SHARE = 0.03  # of inbound calls, the caller withheld their number
VOICE_TYPES = {
    "relay_pstn_leg_id": "relay_pstn_call",
    "relay_sip_leg_id": "relay_sip_call",
    "relay_webrtc_leg_id": "relay_webrtc_call",
}
_COUNTRY_PATTERNS = (
    # (weight, pattern: each N is a random digit)
    (40, "+1415555NNNN"),
    (20, "+1212555NNNN"),
    (10, "+1310555NNNN"),
    (8, "+4420794600NN"),
    (4, "+447700900NNN"),
    (5, "+4930901NNN"),
    (4, "+33199000NNN"),
    (5, "+6125550NNNN"),
    (4, "+61491570NNN"),
)


def _customer(rng: random.Random) -> str:
    if rng.random() < REGULAR_SHARE:
        return rng.choice(REGULARS)
    weights = [weight for weight, _ in _COUNTRY_PATTERNS]
    pattern = rng.choices([p for _, p in _COUNTRY_PATTERNS], weights)[0]
    return "".join(str(rng.randint(0, 9)) if c == "N" else c for c in pattern)


def _ends(rng: random.Random, kind: str) -> tuple[str, str, str]:
    """(from, to, direction) of a leg of this kind ("relay_pstn_call", ...)."""
    ours, customer = rng.choice(OUR_NUMBERS), _customer(rng)
    if kind == "relay_webrtc_call":
        # A browser calling in: a client name on one end, shown as it is.
        return f"visitor-{rng.randint(1000, 9999)}", ours, "inbound"
    if kind == "relay_sip_call":
        agent = f"sip:agent-{rng.randint(1, 40)}@{SIP_DOMAIN}"
        if rng.random() < 0.5:
            return agent, customer, "outbound"
        return customer, agent, "inbound"
    if rng.random() < 0.65:
        caller = ANONYMOUS if rng.random() < ANONYMOUS_SHARE else customer
        return caller, ours, "inbound"
    return ours, customer, "outbound"


def voice_log(rng: random.Random, leg_id: str, kind: str, created: datetime, duration) -> dict:
    """A voice log as GET /api/voice/logs/{id} serves it (the spec's RelayVoiceLog: every
    field it requires, none it does not know)."""
    from_, to, direction = _ends(rng, kind)
    seconds = duration if isinstance(duration, int) and not isinstance(duration, bool) else 0
    seconds = max(0, seconds) + rng.randint(1, 30)
    charge = round(math.ceil(seconds / 60) * 0.0085, 4)
    return {
        "id": leg_id,
        "from": from_,
        "to": to,
        "source": "realtime_api",
        "charge": charge,
        "charge_details": [{"description": "Voice", "charge": charge}],
        "created_at": iso(created),
        "type": kind,
        "url": None,
        "direction": direction,
        "status": "completed",
        "duration": seconds,
        "duration_ms": seconds * 1000 + rng.randint(0, 999),
        "billing_ms": math.ceil(seconds / 60) * 60000,
        "parent_id": None,
    }


def generate_voice_logs(recs: list[dict], seed: int) -> list[dict]:
    """A voice log for the leg of every RELAY recording that has one (its id the leg id,
    created up to two minutes before the recording), and some of calls nobody recorded.
    Its own random stream, so the recordings stay what they were."""
    rng = random.Random(f"voice:{seed}")
    logs: dict[str, dict] = {}
    for rec in recs:
        key = next((k for k in VOICE_TYPES if isinstance(rec.get(k), str)), None)
        created = _parse_iso(rec.get("created_at"))
        if key is None or created is None or rec[key] in logs:
            continue
        started = created - timedelta(seconds=rng.randint(0, 120))
        logs[rec[key]] = voice_log(
            rng, rec[key], VOICE_TYPES[key], started, rec.get("duration_in_seconds")
        )
        if rng.random() < UNRECORDED_SHARE:
            other = started - timedelta(seconds=rng.randint(60, 6 * 3600))
            unrecorded = voice_log(
                rng, new_uuid(rng), "relay_pstn_call", other, rng.randint(5, 600)
            )
            logs[unrecorded["id"]] = unrecorded
    return list(logs.values())


def renumber_calls(calls: dict[str, dict], seed: int) -> None:
    """Give the Compatibility calls the same kinds of numbers as the voice logs (several
    countries, the regular customers, a withheld caller), in a random stream of their own."""
    rng = random.Random(f"calls:{seed}")
    for call in calls.values():
        ours, customer = rng.choice(OUR_NUMBERS), _customer(rng)
        if call["direction"] == "inbound":
            if rng.random() < ANONYMOUS_SHARE:
                customer = ANONYMOUS
            call["from"], call["to"] = customer, ours
        else:
            call["from"], call["to"] = ours, customer
        for end in ("from", "to"):
            shown = _formatted(call[end])
            call[f"formatted_{end}"] = call[f"{end}_formatted"] = shown


def _formatted(number: str) -> str:
    # SignalWire: formatted_* is "(310) 567-8901" for a North American number.
    if number.startswith("+1") and len(number) == 12:
        return f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    return number


def parse_moment(value: str) -> str | None:
    """A time filter as the voice logs list reads it: ISO 8601 (a zone, or UTC when none) as
    "YYYY-MM-DDTHH:MM:SSZ", or a bare day as "YYYY-MM-DD"; None if it is neither."""
    value = value.strip()
    if re.fullmatch(r"\d{4}-\d\d-\d\d", value):
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%d")
        except ValueError:
            return None
    moment = _parse_iso(value)
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso(moment.astimezone(UTC))


def _parse_iso(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
