"""Short-lived reuse of SignalWire answers, per credential.

List pages and recording details are kept for SIGNALWIRE_CACHE_SECONDS in Django's
cache (Redis when REDIS_URL is set, so every app server sees the same entries).

- Keys are scoped by a digest of the credential's identity (its row, space, project
  and encrypted token), so one credential's answers can never be served to another,
  and editing a credential starts afresh. The token itself is never part of a key.
- Only successful answers are stored: an upstream error raises before anything is
  written, so it is never replayed as if it were data.
- A delete forgets the recording and every list page of that credential (list keys
  carry a generation number that the delete bumps).
- If Redis fails, recordings_app.cache answers misses, so the answer comes from
  upstream as if nothing were cached.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache

from recordings_app.signalwire import Recording, RecordingPage, SignalWireClient


class CachedClient:
    def __init__(self, client: SignalWireClient, identity: str):
        self._client = client
        self._scope = "sw:" + hashlib.sha256(identity.encode()).hexdigest()[:32]

    def list_recordings(self, cursor: str | None = None, page_size: int = 50) -> RecordingPage:
        digest = hashlib.sha256(f"{page_size}?{cursor or ''}".encode()).hexdigest()[:32]
        key = f"{self._scope}:list:{self._generation()}:{digest}"
        return self._cached(key, lambda: self._client.list_recordings(cursor, page_size))

    def get_recording(self, recording_id: str) -> Recording:
        key = f"{self._scope}:recording:{recording_id.lower()}"
        return self._cached(key, lambda: self._client.get_recording(recording_id))

    def delete_recording(self, recording_id: str) -> None:
        try:
            self._client.delete_recording(recording_id)
        finally:
            # Even a failed delete may have happened upstream: forget what we knew.
            cache.delete(f"{self._scope}:recording:{recording_id.lower()}")
            self._bump_generation()

    def open_media(self, recording: Recording, range_header: str | None = None):
        return self._client.open_media(recording, range_header)

    def _cached(self, key, fetch):
        seconds = settings.SIGNALWIRE_CACHE_SECONDS
        if not seconds:
            return fetch()
        value = cache.get(key)
        if value is None:
            value = fetch()
            cache.set(key, value, seconds)
        return value

    def _generation(self) -> int:
        return cache.get(f"{self._scope}:generation") or 0

    def _bump_generation(self) -> None:
        key = f"{self._scope}:generation"
        # add() is a no-op when the key exists; incr() is atomic on Redis.
        cache.add(key, 0, None)
        cache.incr(key)
