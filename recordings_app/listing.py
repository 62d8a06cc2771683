"""The recordings table on /recordings/: one page of rows and its totals, whichever
source fed it.

Without filters or a sort in the URL the table is SignalWire's own list, live: both API
families merged newest first (RELAY and Compatibility recordings), paged by the
client's cursors; with one, it is the credential's index (search.py). Either way the
template gets one `Table` of the client's `Recording`s and one `PageTotals`, and the
rendered table is cached under a digest of the whole `Table`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.urls import reverse

from recordings_app import index, paging, search
from recordings_app.signalwire import (
    PageTotals,
    Recording,
    UpstreamFailed,
    UpstreamTimeout,
    UpstreamUnreachable,
)

# SignalWire not answering: the first page of the live list then shows the index's copy.
NOT_ANSWERING = (UpstreamFailed, UpstreamTimeout, UpstreamUnreachable)


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
    except NOT_ANSWERING:
        copy = None if trail else _index_copy(credential, size, because="not answering")
        if copy is None:
            raise
        return copy

    def link(trail):
        token = paging.sign_trail(credential, trail)
        return f"?size={size}" if token is None else "?" + urlencode({"size": size, "page": token})

    return Table(
        recordings=page.recordings,
        totals=page.totals,
        page_size=size,
        next_url=link([*trail, page.next_cursor]) if page.next_cursor else None,
        prev_url=link(trail[:-1]) if trail else None,
        first_url=f"?size={size}" if len(trail) > 1 else None,
        unavailable=page.unavailable,
        sorting=_sort_links(size),
        index_total=index.indexed_recordings(credential).count(),
    )


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
    page = search.page_of(rows, size, query.get("p"))
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
        totals=search.totals(rows),
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
