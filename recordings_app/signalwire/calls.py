"""Compatibility (cXML/LaML) calls: the call a Compatibility recording belongs to.

    GET /api/laml/2010-04-01/Accounts/{project}/Calls[.json]    list, newest first,
                                    filters `StartTime>` / `StartTime<`, `PageSize` up to
                                    1000, paged by `next_page_uri`
    GET /api/laml/2010-04-01/Accounts/{project}/Calls/{sid}.json  one call

Errors are flat, as for Compatibility recordings: `{"code", "message", "more_info",
"status"}`.
"""

from datetime import datetime
from urllib.parse import quote, urlencode

from . import transport
from .compat import API_PATH, MAX_PAGE_SIZE, rfc2822
from .exceptions import LegNotFound, MalformedResponse
from .parties import Parties, PartiesPage
from .recording import canonical_uuid

# SignalWire: without `.json` a Twilio-style API may answer in XML; ask for JSON.
_JSON = {"Accept": "application/json"}


def list_path(project_id: str) -> str:
    return f"{API_PATH}/Accounts/{quote(str(project_id), safe='')}/Calls"


def list_page(
    base_url: str,
    auth,
    cursor: str | None,
    page_size: int,
    started_after: datetime | None = None,
    started_before: datetime | None = None,
) -> PartiesPage:
    """GET .../Accounts/{project}/Calls, the first page of a window or the page a cursor
    names (upstream's `next_page_uri` carries the filter on)."""
    path = list_path(auth[0])
    if cursor is None:
        query: list[tuple[str, int | str]] = [
            ("PageSize", max(1, min(MAX_PAGE_SIZE, int(page_size))))
        ]
        # SignalWire: `StartTime>` / `StartTime<` (inclusive: `StartTime>=` on the wire),
        # RFC 2822 as the recordings' `DateCreated>`; a day (YYYY-MM-DD) is taken too.
        if started_after is not None:
            query.append(("StartTime>", rfc2822(started_after)))
        if started_before is not None:
            query.append(("StartTime<", rfc2822(started_before)))
        url = f"{base_url}{path}.json?{urlencode(query)}"
    else:
        url = f"{base_url}{path}.json?{cursor}"
    response = transport._send("GET", url, auth=auth, headers=_JSON)
    transport._raise_for_status(response, not_found=LegNotFound())
    body = transport._listing(response, "calls")
    return PartiesPage(
        items=tuple(Parties.from_call(item) for item in body["calls"]),
        next_cursor=transport._link_query(
            base_url, (path, path + ".json"), body.get("next_page_uri")
        ),
    )


def get(base_url: str, auth, call_sid: str) -> Parties:
    """GET .../Accounts/{project}/Calls/{sid}.json; 404 raises LegNotFound."""
    canonical = canonical_uuid(call_sid)
    if canonical is None:
        raise LegNotFound()
    url = f"{base_url}{list_path(auth[0])}/{canonical}.json"
    response = transport._send("GET", url, auth=auth, headers=_JSON)
    transport._raise_for_status(response, not_found=LegNotFound())
    parties = Parties.from_call(transport._json(response))
    if parties.id is None:
        raise MalformedResponse("call without a sid")
    return parties
