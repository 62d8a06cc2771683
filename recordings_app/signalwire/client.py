"""One client for one space and one project's credentials, over both API families."""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime

from django.views.decorators.debug import sensitive_variables

from . import calls, compat, merged, relay, voice_logs
from .exceptions import RecordingNotFound, SignalWireError
from .media import MediaStream, open_media
from .parties import Parties, PartiesPage
from .recording import FAMILIES, Recording, RecordingPage
from .space import space_base_url

# Upstream pages read for the merged list hold this many merged pages' worth, so that
# a family's page rarely runs out within a merged page (which costs a second request).
MERGED_READ_AHEAD = 1
# Both families' pages for a merged page are asked for at once, on these threads: a
# merged page then waits one round trip, not two. Long-lived threads keep their own
# pooled connections (the transport's session is per thread).
_FAMILY_FETCHES = ThreadPoolExecutor(max_workers=4, thread_name_prefix="signalwire-family")


class SignalWireClient:
    """Talks to one space with one project's credentials.

    RELAY and Compatibility recordings have ids of the same form and each id lives in
    one family only; methods that take an id ask RELAY first unless told the family."""

    @sensitive_variables("api_token")
    def __init__(self, space: str, project_id: str, api_token: str):
        self.space = space
        self.base_url = space_base_url(space)
        self._auth = (str(project_id), api_token)

    def __repr__(self) -> str:  # never the token
        return f"<SignalWireClient {self.base_url} project={self._auth[0]}>"

    # ---------------------------------------------------------------- lists

    def list_recordings(self, cursor: str | None = None, page_size: int = 50) -> RecordingPage:
        """The RELAY list: GET /api/relay/rest/recordings, first page or the page a
        cursor names (the index sync reads this one)."""
        return relay.list_page(self.base_url, self._auth, cursor, page_size)

    def _cursor(self, link) -> str | None:
        """The query string of a RELAY paging link, or None. A link that points anywhere
        but this space's list endpoint is ignored: we never fetch it."""
        return relay.page_cursor(self.base_url, link)

    def list_compat_recordings(
        self,
        cursor: str | None = None,
        page_size: int = 50,
        created_after: datetime | None = None,
        call_sid: str | None = None,
    ) -> RecordingPage:
        """The Compatibility list: GET /api/laml/2010-04-01/Accounts/{project}/Recordings,
        newest first; `created_after` (aware) filters the first page by `DateCreated>`,
        `call_sid` by `CallSid`."""
        return compat.list_page(
            self.base_url, self.space, self._auth, cursor, page_size, created_after, call_sid
        )

    def list_all(self, cursor: str | None = None, page_size: int = 50) -> RecordingPage:
        """Both families as one list, newest first, `page_size` at a time.

        The cursors are opaque strings for this method only; `prev_cursor` is always
        None (the merged list pages forward, and back to `first_cursor`). A family
        whose list is refused (401, 403, 404) is left out and named in `unavailable`;
        when both are, RELAY's error is raised. See `merged` for the order's limits."""
        upstream_size = min(compat.MAX_PAGE_SIZE, max(1, int(page_size)) * MERGED_READ_AHEAD)
        fetchers = {
            "relay": lambda upstream: self.list_recordings(upstream, upstream_size),
            "compat": lambda upstream: self.list_compat_recordings(upstream, upstream_size),
        }
        # Every upstream page this merged page is likely to read is asked for at once: each
        # family's current page and, once that is partly shown, the page after it. Each
        # thread runs in a copy of this context, so its upstream calls count towards this
        # request's usage (the request log).
        ahead = {}
        for family, position in merged.start_positions(cursor).items():
            if position.done:
                continue
            wanted = [position.cursor]
            if position.shown and position.next:
                wanted.append(position.next)
            for upstream in wanted:
                ahead[family, upstream] = _FAMILY_FETCHES.submit(
                    contextvars.copy_context().run, fetchers[family], upstream
                )

        def from_ahead(family):
            def fetch(upstream):
                future = ahead.pop((family, upstream), None)
                return fetchers[family](upstream) if future is None else future.result()

            return fetch

        try:
            return merged.merged_page({f: from_ahead(f) for f in FAMILIES}, cursor, page_size)
        finally:
            # A page asked ahead but not needed still finishes before this request does,
            # so no upstream call outlives it (and the request log counts every one).
            wait(ahead.values())

    # ------------------------------------------------------- who called whom

    def list_voice_logs(
        self,
        cursor: str | None = None,
        page_size: int = voice_logs.MAX_PAGE_SIZE,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
    ) -> PartiesPage:
        """GET /api/voice/logs for a window of creation times (aware), or the page a
        cursor names: the legs of RELAY recordings, with their numbers."""
        return voice_logs.list_page(
            self.base_url, self._auth, cursor, page_size, created_after, created_before
        )

    def list_calls(
        self,
        cursor: str | None = None,
        page_size: int = compat.MAX_PAGE_SIZE,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
    ) -> PartiesPage:
        """GET .../Accounts/{project}/Calls for a window of start times (aware), or the
        page a cursor names: the calls of Compatibility recordings, with their numbers."""
        return calls.list_page(
            self.base_url, self._auth, cursor, page_size, started_after, started_before
        )

    def get_parties(self, recording: Recording) -> Parties:
        """Who called whom on `recording`'s call, by one request: its leg's voice log
        (GET /api/voice/logs/{leg id}) for RELAY, its call (GET .../Calls/{sid}.json) for
        Compatibility. Never raises for upstream's answer: numbers that cannot be had
        come back as a `Parties` whose `state` says why (a conference has none)."""
        try:
            if recording.family == "compat" and recording.call_sid:
                return calls.get(self.base_url, self._auth, recording.call_sid)
            if recording.family == "relay" and recording.leg_id:
                return voice_logs.get(self.base_url, self._auth, recording.leg_id)
        except SignalWireError as error:
            return Parties.after(error)
        return Parties.unknown("none")

    # -------------------------------------------------------- one recording

    def get_recording(self, recording_id: str, family: str | None = None) -> Recording:
        """GET one recording from `family`'s API; without one, RELAY's
        (/api/relay/rest/recordings/{id}) and, when RELAY has no such id, the
        Compatibility API's (.../Recordings/{sid}.json)."""
        _check_family(family)
        if family == "compat":
            return compat.get(self.base_url, self.space, self._auth, recording_id)
        try:
            return relay.get(self.base_url, self._auth, recording_id)
        except RecordingNotFound:
            if family == "relay":
                raise
        return compat.get(self.base_url, self.space, self._auth, recording_id)

    def delete_recording(self, recording_id: str, family: str | None = None) -> None:
        """DELETE one recording from `family`'s API; without one, RELAY's and, when
        RELAY has no such id, the Compatibility API's. 204 on success; 404 in the API
        asked last raises RecordingNotFound."""
        _check_family(family)
        if family == "compat":
            return compat.delete(self.base_url, self._auth, recording_id)
        try:
            return relay.delete(self.base_url, self._auth, recording_id)
        except RecordingNotFound:
            if family == "relay":
                raise
        return compat.delete(self.base_url, self._auth, recording_id)

    def open_media(self, recording: Recording, range_header: str | None = None) -> MediaStream:
        """GET the recording's media file, streaming, passing `Range` through.

        The credentials go only to SignalWire's own hosts; media elsewhere (or a
        redirect to storage elsewhere) is fetched without them."""
        return open_media(
            recording.url, space=self.space, auth=self._auth, range_header=range_header
        )


def _check_family(family: str | None) -> None:
    if family is not None and family not in FAMILIES:
        raise ValueError(f"unknown recording family: {family!r}")
