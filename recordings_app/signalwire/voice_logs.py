"""Voice logs: the call legs of a space, with `from`, `to` and `direction`.

    GET /api/voice/logs           list, paged by `links` like RELAY (page_size up to 1000),
                                  filters `created_after`, `created_before`, `created_on`
    GET /api/voice/logs/{id}      one log

SignalWire: a RELAY recording's `relay_*_leg_id` is reported to be the id of its leg
here; nobody has confirmed it on a live space, so a leg that is not found is "number
not available", never an error. Errors: `{"errors": [{"type", "code", "message",
"attribute", "url"}]}` (422), `{"error": "..."}` otherwise. The token needs the Voice
scope.
"""

from datetime import UTC, datetime
from urllib.parse import urlencode

from . import transport
from .exceptions import LegNotFound, MalformedResponse
from .parties import Parties, PartiesPage
from .recording import canonical_uuid

LIST_PATH = "/api/voice/logs"
MAX_PAGE_SIZE = 1000


def list_page(
    base_url: str,
    auth,
    cursor: str | None,
    page_size: int,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> PartiesPage:
    """GET /api/voice/logs, the first page of a window or the page a cursor names (whose
    query carries the window on)."""
    if cursor is None:
        query: list[tuple[str, int | str]] = [
            ("page_size", max(1, min(MAX_PAGE_SIZE, int(page_size))))
        ]
        # SignalWire: the format of these is not documented beyond "string"; ISO 8601
        # UTC is what every other RELAY REST time is.
        if created_after is not None:
            query.append(("created_after", _iso(created_after)))
        if created_before is not None:
            query.append(("created_before", _iso(created_before)))
        url = f"{base_url}{LIST_PATH}?{urlencode(query)}"
    else:
        url = f"{base_url}{LIST_PATH}?{cursor}"
    response = transport._send("GET", url, auth=auth)
    # A 404 on the list path: this space serves no voice logs (as good as refused).
    transport._raise_for_status(response, not_found=LegNotFound())
    body = transport._listing(response, "data")
    links = transport._links(body)
    return PartiesPage(
        items=tuple(Parties.from_voice_log(item) for item in body["data"]),
        next_cursor=transport._link_query(base_url, (LIST_PATH,), links.get("next")),
    )


def get(base_url: str, auth, leg_id: str) -> Parties:
    """GET /api/voice/logs/{id}; 404 (or an id that is no UUID) raises LegNotFound."""
    canonical = canonical_uuid(leg_id)
    if canonical is None:
        raise LegNotFound()
    response = transport._send("GET", f"{base_url}{LIST_PATH}/{canonical}", auth=auth)
    transport._raise_for_status(response, not_found=LegNotFound())
    parties = Parties.from_voice_log(transport._json(response))
    if parties.id is None:
        raise MalformedResponse("voice log without an id")
    return parties


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("voice log windows take aware datetimes")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
