"""RELAY REST recordings: what RELAY, SWML, Call Flow Builder and AI agents record.

GET    /api/relay/rest/recordings           list, paged by `links`
GET    /api/relay/rest/recordings/{id}      one recording
DELETE /api/relay/rest/recordings/{id}      204
"""

from urllib.parse import urlsplit

from . import transport
from .exceptions import MalformedResponse, RecordingNotFound, SpaceNotFound
from .recording import Recording, RecordingPage, canonical_uuid

LIST_PATH = "/api/relay/rest/recordings"


def list_page(base_url: str, auth, cursor: str | None, page_size: int) -> RecordingPage:
    """GET /api/relay/rest/recordings, first page or the page a cursor names. The order
    of the list is not documented."""
    if cursor is None:
        url = f"{base_url}{LIST_PATH}?page_size={int(page_size)}"
    else:
        url = f"{base_url}{LIST_PATH}?{cursor}"
    response = transport._send("GET", url, auth=auth)
    # SignalWire: the list path answers 404 only when no space lives at this address.
    transport._raise_for_status(response, not_found=SpaceNotFound(urlsplit(url).hostname or ""))
    body = transport._listing(response, "data")
    links = transport._links(body)
    return RecordingPage(
        recordings=tuple(Recording.from_api(item) for item in body["data"]),
        next_cursor=page_cursor(base_url, links.get("next")),
        prev_cursor=page_cursor(base_url, links.get("prev")),
        first_cursor=page_cursor(base_url, links.get("first")),
    )


def page_cursor(base_url: str, link) -> str | None:
    """The query string of a `links` entry, if it points at this space's list."""
    return transport._link_query(base_url, (LIST_PATH,), link)


def get(base_url: str, auth, recording_id: str) -> Recording:
    """GET /api/relay/rest/recordings/{id}"""
    response = transport._send("GET", _recording_url(base_url, recording_id), auth=auth)
    transport._raise_for_status(response, not_found=RecordingNotFound())
    recording = Recording.from_api(transport._json(response))
    if recording.id is None:
        raise MalformedResponse("recording without an id")
    return recording


def delete(base_url: str, auth, recording_id: str) -> None:
    """DELETE /api/relay/rest/recordings/{id}; 404 raises RecordingNotFound."""
    response = transport._send("DELETE", _recording_url(base_url, recording_id), auth=auth)
    transport._raise_for_status(response, not_found=RecordingNotFound())


def _recording_url(base_url: str, recording_id: str) -> str:
    canonical = canonical_uuid(recording_id)
    if canonical is None:
        raise RecordingNotFound()
    return f"{base_url}{LIST_PATH}/{canonical}"
