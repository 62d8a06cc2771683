"""Everything the dashboard caches about one credential, under one scope.

Every key starts with `Credential.cache_scope` (a digest of the credential's identity,
never its token), so one credential's answers can never be served to another and
editing a credential starts afresh. What lives under it:

- SignalWire's answers (merged list pages, recordings, and who called whom: one leg's
  parties, a window of voice logs or calls), for SIGNALWIRE_CACHE_SECONDS, read
  through `CachedClient`. Only successful answers are stored: an upstream error raises
  before anything is written, so it is never replayed as if it were data.
- Waveform peaks, for a day (`remember`, from waveform.py).
- Rendered tables, keyed by a digest of what they show (fragments.content_key, with the
  scope among the parts).

`forget_recording` is the one way to drop what is known of a recording: its answer, its
peaks, and every list page of the credential (list keys carry a generation number that
it bumps). A delete calls it, whether or not the delete worked upstream.

The cache is Django's (Redis when REDIS_URL is set, so every app server sees the same
entries); if Redis fails, redis_cache answers misses and the work is done again.
"""

import hashlib
from datetime import datetime

from django.conf import settings
from django.core.cache import cache

from recordings_app.signalwire import (
    Parties,
    Recording,
    RecordingPage,
    SignalWireClient,
)

PEAKS_SECONDS = 24 * 3600


def key(credential, *parts) -> str:
    return ":".join((credential.cache_scope, *map(str, parts)))


def remember(credential, parts: tuple, compute, seconds: int):
    """The cached value under the credential's scope, computed and stored if missing."""
    name = key(credential, *parts)
    value = cache.get(name)
    if value is None:
        value = compute()
        cache.set(name, value, seconds)
    return value


def forget_recording(credential, recording_id: str) -> None:
    cache.delete_many(
        [key(credential, "recording", recording_id), key(credential, "peaks", recording_id)]
    )
    generation = key(credential, "generation")
    # add() is a no-op when the key exists; incr() is atomic on Redis.
    cache.add(generation, 0, None)
    cache.incr(generation)


class CachedClient:
    """What pages read from SignalWireClient (the merged list, one recording), answered
    from the cache while fresh; deleting and media pass straight through. (The index
    sync and the credentials check read the RELAY list fresh, never through here.)"""

    def __init__(self, client: SignalWireClient, credential):
        self._client = client
        self._credential = credential

    def list_all(self, cursor: str | None = None, page_size: int = 50) -> RecordingPage:
        generation = cache.get(key(self._credential, "generation")) or 0
        digest = hashlib.sha256(f"{page_size}?{cursor or ''}".encode()).hexdigest()[:32]
        return self._cached(
            ("all", generation, digest), lambda: self._client.list_all(cursor, page_size)
        )

    def get_recording(self, recording_id: str) -> Recording:
        return self._cached(
            ("recording", recording_id), lambda: self._client.get_recording(recording_id)
        )

    def get_parties(self, recording: Recording) -> Parties:
        """Who called whom on one recording's call (one request, see the client). Only
        numbers and "not found" are kept: a refusal or a failure is asked again."""
        key_id = recording.call_sid if recording.family == "compat" else recording.leg_id
        if not key_id:
            return self._client.get_parties(recording)
        parts = ("parties", recording.family, key_id)
        cached = cache.get(key(self._credential, *parts)) if self._seconds() else None
        if cached is not None:
            return cached
        parties = self._client.get_parties(recording)
        if self._seconds() and parties.state in ("found", "not_found"):
            cache.set(key(self._credential, *parts), parties, self._seconds())
        return parties

    def parties_in_window(self, family: str, after: datetime, before: datetime) -> dict:
        """{leg id or call sid: Parties} from the first page (up to 1,000) of voice logs
        (RELAY) or calls (Compatibility) in the window: what a live list page joins its
        rows with, in one request. Raises the SignalWireError of a refusal or failure."""

        def fetch():
            if family == "compat":
                page = self._client.list_calls(started_after=after, started_before=before)
            else:
                page = self._client.list_voice_logs(created_after=after, created_before=before)
            return {p.id: p for p in page.items if p.id and p.known}

        window = f"{after.isoformat()}/{before.isoformat()}"
        return self._cached(("window", family, window), fetch)

    def delete_recording(self, recording_id: str) -> None:
        try:
            self._client.delete_recording(recording_id)
        finally:
            # Even a failed delete may have happened upstream: forget what we knew.
            forget_recording(self._credential, recording_id)

    def open_media(self, recording: Recording, range_header: str | None = None):
        return self._client.open_media(recording, range_header)

    def _cached(self, parts: tuple, fetch):
        seconds = self._seconds()
        if not seconds:
            return fetch()
        return remember(self._credential, parts, fetch, seconds)

    @staticmethod
    def _seconds() -> int:
        return settings.SIGNALWIRE_CACHE_SECONDS
