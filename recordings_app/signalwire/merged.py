"""Both families' recordings as one list, newest first, paged by an opaque cursor.

The cursor records, per family, the upstream cursor of the page being read and how
many of that page's items were already shown (in the order shown), or that the family
has nothing left. Page n+1 resumes exactly where page n stopped: no repeats, no gaps,
as long as the upstream lists do not change in between.

SignalWire: the RELAY list's order is not documented, so each RELAY page is sorted
newest first before merging; the merged order is exact only when RELAY's pages are
themselves newest first (each page holding recordings no newer than the page before).
The Compatibility list is documented newest first and taken as it comes.

Only next and first links are made; there is no prev cursor for the merged list.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from .exceptions import (
    CredentialsRejected,
    InvalidCursor,
    ScopeMissing,
    SignalWireError,
    SpaceNotFound,
)
from .recording import FAMILIES, FAMILY_LABELS, LATEST, Recording, RecordingPage

# A family whose list answers one of these is left out of the page and named in
# `RecordingPage.unavailable`, with these words.
REFUSALS: dict[type[SignalWireError], str] = {
    CredentialsRejected: "SignalWire answered 401: these credentials may not read them, "
    "or the API token lacks the Voice scope",
    ScopeMissing: "SignalWire answered 403: the API token lacks the scope to read them",
    SpaceNotFound: "SignalWire answered 404: this space does not serve them",
}
# Pages fetched per family for one merged page, at most: a run of empty upstream pages
# ends the merged page early (the cursor resumes there) rather than looping.
MAX_FETCHES = 4
_PREFIX = "m1."

Fetch = Callable[[str | None], RecordingPage]


@dataclass(frozen=True)
class Position:
    """Where one family's reading stands between two merged pages."""

    cursor: str | None = None  # upstream cursor of the page being read; None: the first
    shown: int = 0  # items of that page already shown
    done: bool = False  # nothing left in this family
    # The upstream cursor of the page after it (when `shown` > 0), so that page can be
    # asked for at the same time as this one: it is likely to be needed.
    next: str | None = None


def merged_page(fetchers: dict[str, Fetch], cursor: str | None, page_size: int) -> RecordingPage:
    """Up to `page_size` recordings of both families, newest first, from `cursor`.

    `fetchers` give one upstream page of a family for an upstream cursor (None: its
    first page). Each family's current page is fetched once; its next page only when
    the current one runs out within this merged page. A family refused with 401, 403
    or 404 is left out and named in `unavailable`; when both are, RELAY's error is
    raised."""
    start = start_positions(cursor)
    readers: dict[str, _Reader] = {}
    refused: dict[str, SignalWireError] = {}
    for family in FAMILIES:
        if start[family].done:
            continue
        try:
            readers[family] = _Reader(family, fetchers[family], start[family])
        except tuple(REFUSALS) as error:
            refused[family] = error
    if len(refused) == len(FAMILIES):
        raise refused["relay"]

    shown: list[Recording] = []
    while len(shown) < page_size:
        heads = {family: reader.head() for family, reader in readers.items()}
        if any(head is None and not readers[family].done for family, head in heads.items()):
            break  # a family stalled on empty pages: nothing after this point is known
        candidates = {family: head for family, head in heads.items() if head is not None}
        if not candidates:
            break
        # Newest first; undated recordings go out as soon as they are at the front; on
        # equal times RELAY goes first. The choice depends only on the cursor's state.
        family = max(candidates, key=lambda f: (_time(candidates[f]), f == "relay"))
        shown.append(candidates[family])
        readers[family].shown += 1

    after = dict(start)
    after.update({family: reader.position() for family, reader in readers.items()})
    finished = all(after[family].done for family in readers)
    return RecordingPage(
        recordings=tuple(shown),
        next_cursor=None if finished else encode_cursor(after),
        prev_cursor=None,
        first_cursor=encode_cursor(dict.fromkeys(FAMILIES, Position())),
        unavailable=tuple(
            f"{FAMILY_LABELS[family]} recordings: {_refusal_words(error)}"
            for family, error in refused.items()
        ),
    )


class _Reader:
    """One family's recordings from a position: the page there, then the next ones."""

    def __init__(self, family: str, fetch: Fetch, position: Position):
        self.family, self.fetch, self.fetches = family, fetch, 0
        self.done = False
        self._load(position.cursor)
        self.shown = position.shown

    def _load(self, cursor: str | None) -> None:
        page = self.fetch(cursor)
        self.fetches += 1
        items = page.recordings
        if self.family == "relay":
            # SignalWire: RELAY's order is undocumented: newest first here. An undated
            # recording (a broken created_at) cannot be placed in time: it goes first,
            # so the newest page shows it (marked incomplete) rather than a random one.
            items = tuple(sorted(items, key=_time, reverse=True))
        self.cursor, self.items, self.next_cursor = cursor, items, page.next_cursor

    def head(self) -> Recording | None:
        """The next recording to show; None when the family is done (`done`) or when
        MAX_FETCHES pages were read without finding one."""
        while self.shown >= len(self.items):
            if self.next_cursor is None:
                self.done = True
                return None
            if self.fetches >= MAX_FETCHES:
                return None
            self._load(self.next_cursor)
            self.shown = 0
        return self.items[self.shown]

    def position(self) -> Position:
        if self.shown < len(self.items):
            return Position(self.cursor, self.shown, next=self.next_cursor)
        # This page is used up: start the next merged page on the next upstream page
        # rather than fetching this one again only to skip all of it.
        if self.next_cursor is None:
            return Position(done=True)
        return Position(self.next_cursor, 0)


def _time(recording: Recording) -> datetime:
    return recording.created_at or LATEST


def _refusal_words(error: SignalWireError) -> str:
    return next(words for kind, words in REFUSALS.items() if isinstance(error, kind))


# ------------------------------------------------------------------- the cursor


def start_positions(cursor: str | None) -> dict[str, Position]:
    """Where each family's reading starts for a merged cursor (None: the first page)."""
    return decode_cursor(cursor) if cursor is not None else dict.fromkeys(FAMILIES, Position())


def encode_cursor(positions: dict[str, Position]) -> str:
    state = {
        f: [positions[f].cursor, positions[f].shown, positions[f].done, positions[f].next]
        for f in FAMILIES
    }
    text = json.dumps(state, separators=(",", ":"))
    return _PREFIX + base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Position]:
    """The positions a merged cursor records; InvalidCursor for anything else (such as
    a RELAY cursor from before the lists were merged)."""
    if not isinstance(cursor, str) or not cursor.startswith(_PREFIX):
        raise InvalidCursor()
    body = cursor.removeprefix(_PREFIX)
    try:
        state = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        raise InvalidCursor() from None
    if not isinstance(state, dict) or set(state) != set(FAMILIES):
        raise InvalidCursor()
    positions = {}
    for family in FAMILIES:
        match state[family]:
            case [
                str() | None as upstream,
                int() as shown,
                bool() as done,
                str() | None as nxt,
            ] if not isinstance(shown, bool) and 0 <= shown <= 10_000:
                positions[family] = Position(upstream, shown, done, nxt)
            case _:
                raise InvalidCursor()
    return positions
