"""The recordings table on /recordings/: one page of rows and its totals, whichever
source fed it.

Without filters or a sort in the URL the table is SignalWire's own list, live: both API
families merged newest first (RELAY and Compatibility recordings), paged by the
client's cursors; with one, it is the credential's index (search.py). Either way the
template gets one `Table` of the client's `Recording`s and one `PageTotals`, and the
rendered table is cached under a digest of the whole `Table`.

Who called whom (`Recording.parties`) comes from the index where it has joined them;
the live list's other rows are joined with one read of voice logs and one of calls for
the page's time window (`with_parties`), never a request per row. A row that is not in
that first page of the window shows "—" until the sync joins it; its own page looks
the one leg up.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse

from recordings_app import index, paging, search
from recordings_app.signalwire import (
    NOT_ANSWERING,
    LegNotFound,
    PageTotals,
    Parties,
    Recording,
    RecordingNotFound,
    SignalWireError,
)

# "Open by ID" lists at most this many recordings of one call leg or call.
MAX_MATCHES = 50


@dataclass(frozen=True)
class Table:
    recordings: tuple[Recording, ...]
    totals: PageTotals
    page_size: int
    next_url: str | None = None
    prev_url: str | None = None
    first_url: str | None = None
    # The index's answer to filters or a sort: totals over every match, not the page.
    filtered: bool = False
    caption: str = "Recordings, newest first"
    # {column: {"url": ..., "aria": "ascending" | "descending" | None}} for the headers.
    sorting: dict = field(default_factory=dict)
    page_number: int | None = None
    page_count: int | None = None
    csv_url: str | None = None
    # What SignalWire would not let us read (one API family refused), in words.
    unavailable: tuple[str, ...] = ()
    # How many recordings the index holds (the live list cannot count upstream's).
    index_total: int | None = None
    # The rows are the index's copy as of this moment, because SignalWire did not answer
    # ("not answering") or lists this space's RELAY recordings oldest first ("oldest first").
    index_as_of: datetime | None = None
    index_because: str = ""
    # The filters do not parse: what to fix, one line per field, and no rows.
    mistakes: tuple[str, ...] = ()


def live(credential, query) -> Table:
    """A page of SignalWire's own lists, both families merged; page links carry the
    trail of cursors that led here, signed (see paging). The column headers sort, which
    switches to the index. When SignalWire does not answer, the first page is the
    index's copy, marked as such (a later page has no copy to show and fails).

    SignalWire: the RELAY list's order is undocumented, and the merged list is newest
    first only when RELAY's pages are. A space whose RELAY list the sync found oldest
    first is shown from the index instead, newest first, saying so."""
    size = paging.page_size(query.get("size"))
    trail = paging.unsign_trail(credential, query.get("page"))
    if not trail and not index.sync_state(credential).relay_newest_first:
        copy = _index_copy(credential, size, because="oldest first")
        if copy is not None:
            return copy
    try:
        page = credential.client().list_all(trail[-1] if trail else None, page_size=size)
    except NOT_ANSWERING:  # the first page then shows the index's copy
        copy = None if trail else _index_copy(credential, size, because="not answering")
        if copy is None:
            raise
        return copy

    def link(trail):
        token = paging.sign_trail(credential, trail)
        return f"?size={size}" if token is None else "?" + urlencode({"size": size, "page": token})

    return Table(
        recordings=with_parties(credential, page.recordings),
        totals=page.totals,
        page_size=size,
        next_url=link([*trail, page.next_cursor]) if page.next_cursor else None,
        prev_url=link(trail[:-1]) if trail else None,
        first_url=f"?size={size}" if len(trail) > 1 else None,
        unavailable=page.unavailable,
        sorting=_sort_links(size),
        index_total=index.indexed_recordings(credential).count(),
    )


def with_parties(credential, recordings) -> tuple[Recording, ...]:
    """`recordings` with who called whom: the index's where it has them, else from one
    read per API family of the page's time window (cached); "—" for the rest."""
    ids = [rec.id for rec in recordings if rec.id]
    known = {
        row.recording_id: row.parties
        for row in index.indexed_recordings(credential)
        .filter(recording_id__in=ids)
        .only(
            "recording_id",
            "family",
            "leg_id",
            "call_sid",
            "from_address",
            "to_address",
            "direction",
            "numbers_state",
        )
    }
    joined = {}
    for family in ("relay", "compat"):
        wanted = [
            rec
            for rec in recordings
            if rec.family == family
            and rec.created_at
            and _join_key(rec)
            and known.get(rec.id, Parties.unknown("pending")).state == "pending"
        ]
        if wanted:
            joined[family] = _window(credential, family, wanted)
    result = []
    for rec in recordings:
        parties = known.get(rec.id)
        if parties is None or parties.state == "pending":
            if not _join_key(rec):
                parties = Parties.unknown("none")
            else:
                found = joined.get(rec.family, {})
                parties = found.get(_join_key(rec)) if isinstance(found, dict) else found
                parties = parties or Parties.unknown("pending")
        result.append(replace(rec, parties=parties))
    return tuple(result)


def with_own_parties(credential, recording: Recording) -> Recording:
    """One recording with who called whom: the index's, else its own leg (or call) looked
    up, one request, cached. A recording always shows; numbers that cannot be had say
    why."""
    row = (
        index.indexed_recordings(credential)
        .filter(recording_id=recording.id, numbers_state__in=("found", "none", "not_found"))
        .first()
    )
    parties = row.parties if row is not None else credential.client().get_parties(recording)
    return replace(recording, parties=parties)


def recordings_by_any_id(credential, wanted: str) -> list[Recording]:
    """The recordings `wanted` (a canonical UUID) names as their own id, their call leg's
    or their call's: the index first; what it does not know, from SignalWire (the
    recording by id, then Compatibility recordings by `CallSid`), newest first."""
    rows = (
        index.indexed_recordings(credential)
        .filter(Q(recording_id=wanted) | Q(leg_id=wanted) | Q(call_sid=wanted))
        .order_by("-created_at", "-recording_id")[:MAX_MATCHES]
    )
    found = [row.as_recording() for row in rows]
    if found:
        return found
    client = credential.client()
    try:
        return [client.get_recording(wanted)]
    except RecordingNotFound:
        pass
    # SignalWire: the Compatibility list filters by CallSid; RELAY's list has no filter by
    # leg, so a leg id the index has not seen yet cannot be found.
    page = credential.fresh_client().list_compat_recordings(page_size=MAX_MATCHES, call_sid=wanted)
    return [rec for rec in page.recordings if rec.id and rec.call_sid == wanted]


def _join_key(rec: Recording) -> str | None:
    return rec.call_sid if rec.family == "compat" else rec.leg_id


def _window(credential, family: str, wanted: list[Recording]):
    """{key: Parties} of the first page of voice logs or calls in the window of `wanted`,
    or the `Parties` that says why they cannot be read. The window is rounded out to
    whole minutes, so the next request for the same page reuses the cached read."""
    times = [rec.created_at for rec in wanted if rec.created_at]  # all of them: see the caller
    oldest = min(times) - index.JOIN_BEFORE
    newest = max(times) + index.JOIN_AFTER
    after = oldest.replace(second=0, microsecond=0)
    before = newest.replace(second=0, microsecond=0) + timedelta(minutes=1)
    try:
        return credential.client().parties_in_window(family, after, before)
    except LegNotFound:
        return Parties.unknown("refused")  # the list's 404: this space serves none
    except SignalWireError as error:
        # The list of recordings still shows; its rows say "—" and why on hover.
        return Parties.after(error)


def _sort_links(size: int) -> dict:
    """Header links of the live list: each opens the index's view in that order."""
    params = [("size", str(size))] if size != paging.DEFAULT_PAGE_SIZE else []
    return {
        "created": {"url": search.link(params, sort="created"), "aria": "descending"},
        "duration": {"url": search.link(params, sort="-duration"), "aria": None},
        "price": {"url": search.link(params, sort="-price"), "aria": None},
    }


def _index_copy(credential, size: int, because: str) -> Table | None:
    """The newest indexed recordings, for when the live list cannot be shown as it is;
    None when the index has never been filled."""
    state = index.sync_state(credential)
    if state.indexed_as_of is None:
        return None
    rows = index.indexed_recordings(credential).order_by("-created_at", "-recording_id")
    recordings = tuple(row.as_recording() for row in rows[:size])
    # The numbers the index has not joined yet stay "—": SignalWire is not answering (or
    # lists oldest first, and the index is the list's source), so no window is read.
    params = [("sort", "-created")] + (
        [("size", str(size))] if size != paging.DEFAULT_PAGE_SIZE else []
    )
    return Table(
        recordings=recordings,
        totals=PageTotals.of(recordings),
        page_size=size,
        next_url=search.link(params, p=2) if rows[size : size + 1].exists() else None,
        sorting=_sort_links(size),
        index_total=rows.count(),
        index_as_of=state.indexed_as_of,
        index_because=because,
    )


def needs_fixing(filters: search.RecordingFilters, query) -> Table:
    """No rows, and what is wrong with the filters: the page stays, the form says which
    field to fix."""
    return Table(
        recordings=(),
        totals=PageTotals.of(()),
        page_size=paging.page_size(query.get("size")),
        filtered=True,
        caption="The filters need fixing",
        mistakes=tuple(filters.mistakes()),
    )


def indexed(credential, filters: search.RecordingFilters, query) -> Table:
    """A page of the index's recordings matching the filters, in the chosen order."""
    data = filters.checked()
    size = paging.page_size(query.get("size"))
    rows = search.filtered(credential, data)
    totals = search.filtered_totals(credential, data, rows)
    page = search.page_of(rows, size, query.get("p"), count=totals.count)
    params = filters.params()
    if size != paging.DEFAULT_PAGE_SIZE:
        params.append(("size", str(size)))
    sort = data.get("sort") or "-created"
    sorting = {}
    for column in ("created", "duration", "price"):
        current = sort.lstrip("-") == column
        descending = sort.startswith("-")
        sorting[column] = {
            "url": search.link(params, sort=column if current and descending else f"-{column}"),
            "aria": ("descending" if descending else "ascending") if current else None,
        }
    return Table(
        recordings=tuple(row.as_recording() for row in page.object_list),
        totals=totals,
        page_size=size,
        next_url=search.link(params, p=page.next_page_number()) if page.has_next() else None,
        prev_url=(
            search.link(params, p=page.previous_page_number()) if page.has_previous() else None
        ),
        first_url=search.link(params, p=1) if page.number > 2 else None,
        filtered=True,
        caption=f"Recordings matching the filters, {search.SORT_LABELS[sort]}",
        sorting=sorting,
        page_number=page.number,
        page_count=page.paginator.num_pages,
        csv_url=reverse("recordings_csv") + search.link(filters.params()),
    )
