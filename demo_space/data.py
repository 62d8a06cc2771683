"""The demo projects and their seeded recordings.

Why seeded: tests, screenshots and benchmarks must see the same data on every run, so every
value comes from random.Random(fixed seed) and a fixed `now`.
"""

import math
import random
import uuid
from datetime import UTC, datetime, timedelta

from .audio import wav_size

# Three projects: the demo user's, a second user's, and one whose token lacks the Voice scope.
DEMO_PROJECT_ID = "5d3a8c1e-9b47-4f62-a0d5-7c2e91b4f8a3"
DEMO_API_TOKEN = "PTdemo3f9a1c7e5b2d8f4a6c0e9b3d7f1a5c8e2b6d4f0a9c1e"  # noqa: S105 (public demo credentials)
OTHER_PROJECT_ID = "a81f2c6d-3e94-4b7a-8c15-d0e6f92b4a7c"
OTHER_API_TOKEN = "PTother7b2e9d4c1a8f3e6b0d5c2a9f7e4b1d8c3a6f0e5b2d9"  # noqa: S105 (public demo credentials)
NO_VOICE_PROJECT_ID = "e2c47b90-1d5f-4a38-9e6b-3f8a0c1d7b52"
NO_VOICE_API_TOKEN = "PTnovoice4e8b1f6a3d9c2e7b5a0f8d3c6e1b9a4f7d2c5e8b"  # noqa: S105 (public demo credentials)

DEMO_SEED = 20240115
OTHER_SEED = 777
NO_VOICE_SEED = 4242
OTHER_COUNT = 300
NO_VOICE_COUNT = 20

HISTORY_DAYS = 90
USD_PER_MINUTE = 0.0025  # billed per started minute, so sub-cent prices appear
EUR_PER_MINUTE = 0.0023
ERROR_CODES = ("30005", "media_timeout", "30003", "storage_unavailable")

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
AUTO_URL = _Sentinel("AUTO_URL")  # stored in "url": served as this server's media URL


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


def _recording(rng: random.Random, project_id: str, now: datetime, conferences: list[str]):
    rec_id = new_uuid(rng)
    status = rng.choices(("completed", "failed", "absent", "in-progress"), (88, 5, 5, 2))[0]
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


def generate(project_id: str, count: int, seed: int, now: datetime) -> list[dict]:
    """`count` recordings of one project, deterministic for (seed, now); in no particular order."""
    rng = random.Random(seed)
    conferences = [new_uuid(rng) for _ in range(max(4, count // 40))]
    return [_recording(rng, project_id, now, conferences) for _ in range(count)]


def extra_recording(project_id: str, number: int, now: datetime, overrides: dict) -> dict:
    """A recording added by a test: plain defaults, then the overrides (MISSING removes a key).

    Defaults adapt to the overrides: byte_size and price follow an overridden duration/stereo,
    and a PSTN leg is added only if no source key was given.
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
        "url": AUTO_URL,
        "stereo": stereo,
        "byte_size": wav_size(duration, stereo is True) if sized else 0,
        "track": "both" if stereo is True else "inbound",
    }
    if not any(key in overrides for key in SOURCE_KEYS):
        rec["relay_pstn_leg_id"] = new_uuid(rng)
    for key, value in overrides.items():
        if value is MISSING:
            rec.pop(key, None)
        else:
            rec[key] = value
    return rec
