"""Compatibility (cXML/LaML) recordings: what `<Record>`, `<Dial record>`, conferences
and `Record=true` calls record. A space that records with cXML sees none of these
through the RELAY endpoint.

    GET    /api/laml/2010-04-01/Accounts/{project}/Recordings             list, newest first
    GET    /api/laml/2010-04-01/Accounts/{project}/Recordings/{sid}.json  one recording
    DELETE /api/laml/2010-04-01/Accounts/{project}/Recordings/{sid}       204
    GET    /api/laml/2010-04-01/Accounts/{project}/Recordings/{sid}       the WAV file

Errors are flat: `{"code", "message", "more_info", "status"}`.
"""

from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import quote, urlencode, urlsplit

from . import transport
from .exceptions import MalformedResponse, RecordingNotFound, SpaceNotFound
from .recording import Recording, RecordingPage, canonical_uuid

API_PATH = "/api/laml/2010-04-01"
MAX_PAGE_SIZE = 1000
# SignalWire: without `.json` a Twilio-style API may answer in XML; ask for JSON.
_JSON = {"Accept": "application/json"}


def list_path(project_id: str) -> str:
    return f"{API_PATH}/Accounts/{quote(str(project_id), safe='')}/Recordings"


def list_page(
    base_url: str,
    space: str,
    auth,
    cursor: str | None,
    page_size: int,
    created_after: datetime | None = None,
    call_sid: str | None = None,
) -> RecordingPage:
    """GET .../Accounts/{project}/Recordings, first page or the page a cursor names.

    `created_after` filters the first page (`DateCreated>`, for incremental syncs),
    `call_sid` by the call (`CallSid`); a cursor carries upstream's own query, filters
    included, so they are ignored then."""
    path = list_path(auth[0])
    if cursor is None:
        query: list[tuple[str, int | str]] = [
            ("PageSize", max(1, min(MAX_PAGE_SIZE, int(page_size))))
        ]
        if created_after is not None:
            query.append(("DateCreated>", rfc2822(created_after)))
        if call_sid is not None:
            query.append(("CallSid", call_sid))
        url = f"{base_url}{path}?{urlencode(query)}"
    else:
        url = f"{base_url}{path}?{cursor}"
    response = transport._send("GET", url, auth=auth, headers=_JSON)
    transport._raise_for_status(response, not_found=SpaceNotFound(urlsplit(url).hostname or ""))
    body = transport._listing(response, "recordings")
    return RecordingPage(
        recordings=tuple(Recording.from_compat(item, space) for item in body["recordings"]),
        next_cursor=page_cursor(base_url, path, body.get("next_page_uri")),
        prev_cursor=page_cursor(base_url, path, body.get("previous_page_uri")),
        first_cursor=page_cursor(base_url, path, body.get("first_page_uri")),
    )


def page_cursor(base_url: str, path: str, link) -> str | None:
    """The query string of a `*_page_uri`, if it points at this project's list on this
    space (with or without `.json`); anything else is never fetched."""
    return transport._link_query(base_url, (path, path + ".json"), link)


def get(base_url: str, space: str, auth, recording_sid: str) -> Recording:
    """GET .../Accounts/{project}/Recordings/{sid}.json"""
    url = _recording_url(base_url, auth, recording_sid) + ".json"
    response = transport._send("GET", url, auth=auth, headers=_JSON)
    transport._raise_for_status(response, not_found=RecordingNotFound())
    recording = Recording.from_compat(transport._json(response), space)
    if recording.id is None:
        raise MalformedResponse("recording without a sid")
    return recording


def delete(base_url: str, auth, recording_sid: str) -> None:
    """DELETE .../Accounts/{project}/Recordings/{sid}; 404 raises RecordingNotFound."""
    url = _recording_url(base_url, auth, recording_sid)
    response = transport._send("DELETE", url, auth=auth, headers=_JSON)
    transport._raise_for_status(response, not_found=RecordingNotFound())


def _recording_url(base_url: str, auth, recording_sid: str) -> str:
    canonical = canonical_uuid(recording_sid)
    if canonical is None:
        raise RecordingNotFound()
    return f"{base_url}{list_path(auth[0])}/{canonical}"


def rfc2822(moment: datetime) -> str:
    """A time as the Compatibility API's filters take it: "Tue, 25 Sep 2018 23:00:00 +0000"."""
    if moment.tzinfo is None:
        raise ValueError("Compatibility API filters take aware datetimes")
    return format_datetime(moment.astimezone(UTC))
