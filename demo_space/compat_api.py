"""The Compatibility (cXML/LaML, Twilio-style) API of the demo space: recordings and calls.

Why: recordings made by cXML applications are, by every indication, only listed here, not by
the RELAY endpoint; a dashboard that reads one family only misses the other's recordings.

    GET    /api/laml/2010-04-01/Accounts/{project}/Recordings[.json]    list, newest first
    GET    .../Recordings/{sid}.json                                    metadata
    GET    .../Recordings/{sid}[.wav] | .../Recordings/{sid}.mp3        media (WAV | MP3)
    DELETE .../Recordings/{sid}[.json]                                  204
    GET    .../Calls[.json]                                             calls, newest first
    GET    .../Calls/{sid}[.json]                                       the call

Errors here are flat: {"code", "message", "more_info", "status"}.
"""

import re
import time
from collections.abc import Callable
from datetime import UTC, date
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from . import data
from .paging import page_bounds, page_tokens, read_token

_PATH = re.compile(
    r"^/api/laml/2010-04-01/Accounts/([^/]+)/(Recordings|Calls)(?:/([^/.]+))?(\.json|\.wav|\.mp3)?$"
)
_DAY = re.compile(r"^\d{4}-\d\d-\d\d$")
MORE_INFO = "https://signalwire.com/docs/compatibility-api/reference/errors"
# Twilio-style error codes, which the Compatibility API mirrors.
_CODES = {400: 20001, 401: 20003, 403: 20403, 404: 20404, 405: 20004, 429: 20429, 500: 20500}
_MESSAGES = {401: "Authentication failed", 403: "Permission denied"}
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
DATE_FILTERS = ("DateCreated", "DateCreated<", "DateCreated>")
SID_FILTERS = ("CallSid", "ConferenceSid")
# Twilio-style, as the Calls list of SignalWire's Compatibility API: by the call's start.
CALL_DATE_FILTERS = ("StartTime", "StartTime<", "StartTime>")


def compat_sort_key(rec: dict) -> tuple[str, str]:
    """Listing order key (ascending; served reversed): creation time as ISO 8601 UTC, then sid.
    Tolerates off-schema test recordings."""
    created, sid = rec.get("date_created"), rec.get("sid")
    try:
        moment = data.iso(parsedate_to_datetime(created or "").astimezone(UTC))
    except (TypeError, ValueError):
        moment = ""
    return moment, sid if isinstance(sid, str) else ""


def call_sort_key(call: dict) -> tuple[str, str]:
    """The Calls list's order key (ascending; served reversed): start time, then sid; a call
    not started yet sorts by its creation."""
    moment = ""
    for name in ("start_time", "date_created"):
        try:
            moment = data.iso(parsedate_to_datetime(call.get(name) or "").astimezone(UTC))
            break
        except (TypeError, ValueError):
            continue
    sid = call.get("sid")
    return moment, sid if isinstance(sid, str) else ""


def _parse_date(value: str) -> tuple[str, bool] | None:
    """(ISO 8601 UTC moment or YYYY-MM-DD day, whether it is a day only); None if unreadable.

    RFC 2822 as documented; a bare YYYY-MM-DD as Twilio documents it is taken too."""
    value = value.strip()
    if _DAY.match(value):
        try:
            return date.fromisoformat(value).isoformat(), True
        except ValueError:
            return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return data.iso(moment.astimezone(UTC)), False


def _date_test(name: str, bound: str, day_only: bool):
    """A test of a sort key's ISO creation time for one date filter.

    `DateCreated<` and `DateCreated>` are inclusive: on the wire they read
    `DateCreated<=...` and `DateCreated>=...`, the `=` being the query's own."""
    if not name.endswith(("<", ">")):
        return lambda created: created[:10] == bound[:10]
    width = 10 if day_only else len(bound)
    if name.endswith("<"):
        return lambda created: created[:width] <= bound
    return lambda created: created[:width] >= bound


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class CompatibilityRoutes:
    """Request handling for the Compatibility API paths, mixed into the server's handler."""

    # What the handler this is mixed into (demo_space/server.py) provides, for the type
    # checker: declared, never set here (server.py imports this module, not the reverse).
    path: str
    command: str
    server: Any  # server._Server
    _project: Any  # server._Project, or None before _refused() says go on
    _json: Callable[..., None]
    _send: Callable[..., None]
    _refused: Callable[[str, Callable[..., None]], bool]
    _media_refused: Callable[[Any, Callable[..., None]], bool]
    _serve_media: Callable[[Any], None]

    def _compat_error(self, status: int, message: str | None = None, headers=None) -> None:
        # SignalWire (Compatibility API): flat errors, the HTTP status repeated in the body.
        body = {
            "code": _CODES.get(status, 20000 + status),
            "message": message or _MESSAGES.get(status) or _phrase(status),
            "more_info": MORE_INFO,
            "status": status,
        }
        if status == 401:
            headers = {"WWW-Authenticate": 'Basic realm="SignalWire"', **(headers or {})}
        self._json(status, body, headers)

    def _not_found(self) -> None:
        path = urlsplit(self.path).path.removeprefix("/api/laml")
        self._compat_error(404, f"The requested resource {path} was not found")

    def _compat_route(self, path: str) -> None:
        match = _PATH.match(path)
        if not match:
            return self._not_found()
        account, kind, sid, ext = match.groups()
        if kind == "Calls":
            if ext not in (None, ".json"):
                return self._not_found()
            if sid is None:
                return self._compat_api(account, ("GET",), self._compat_calls, "calls")
            return self._compat_api(account, ("GET",), lambda: self._compat_call(sid), "calls")
        if sid is None:
            if ext not in (None, ".json"):
                return self._not_found()
            return self._compat_api(account, ("GET",), self._compat_list)
        if ext == ".json" or (ext is None and self.command == "DELETE"):
            allowed = ("GET", "DELETE") if ext == ".json" else ("GET", "HEAD", "DELETE")
            if self.command == "GET":
                return self._compat_api(account, allowed, lambda: self._compat_one(sid))
            return self._compat_api(account, allowed, lambda: self._compat_delete(sid))
        allowed = ("GET", "HEAD") if ext else ("GET", "HEAD", "DELETE")
        if self.command not in allowed:
            return self._compat_error(405, headers={"Allow": ", ".join(allowed)})
        self._compat_media(account, sid, "mp3" if ext == ".mp3" else "wav")

    def _compat_api(self, account: str, allowed: tuple[str, ...], answer, family="compat") -> None:
        """The API proper: Basic auth with the Voice scope, for the account in the path.
        `family` "calls" is refused on its own (refuse_calls) as well as with "compat"."""
        space = self.server.space
        if self.command not in allowed:
            return self._compat_error(405, headers={"Allow": ", ".join(allowed)})
        if space.latency:
            time.sleep(space.latency)
        if self._refused("compat", self._compat_error):
            return
        if family != "compat" and self._refused(family, self._compat_error):
            return
        if account != self._project.id:
            # SignalWire: credentials of one project, the path of another.
            return self._compat_error(401)
        answer()

    def _compat_list(self) -> None:
        self._compat_listing(self._project.compat, DATE_FILTERS, SID_FILTERS, "recordings")

    def _compat_calls(self) -> None:
        self._compat_listing(self._project.calls, CALL_DATE_FILTERS, (), "calls")

    def _compat_listing(self, shelf, date_filters, sid_filters, items_key: str) -> None:
        """A Twilio-style list: newest first, PageSize/Page/PageToken, `*_page_uri` links."""
        split = urlsplit(self.path)
        query = parse_qs(split.query, keep_blank_values=True)

        def last(name):
            values = query.get(name)
            return values[-1] if values else None

        size = last("PageSize") or str(DEFAULT_PAGE_SIZE)
        if not (size.isascii() and size.isdigit() and 1 <= int(size) <= MAX_PAGE_SIZE):
            return self._compat_error(400, f"PageSize must be from 1 to {MAX_PAGE_SIZE}")
        size = int(size)
        page = last("Page") or "0"
        if not (page.isascii() and page.isdigit()):
            return self._compat_error(400, "Page must be a whole number from 0")
        page = int(page)
        token = last("PageToken")
        cursor = None
        if token is not None:
            cursor = read_token(token)
            if cursor is None:
                return self._compat_error(400, "PageToken is invalid")

        filters: list[tuple[str, str]] = []
        tests: list[tuple[int | str, Callable[..., bool]]] = []
        for name in date_filters:
            value = last(name)
            if value is None:
                continue
            parsed = _parse_date(value)
            if parsed is None:
                return self._compat_error(400, f"{name} must be a date in RFC 2822 format")
            filters.append((name, value))
            tests.append((0, _date_test(name, *parsed)))
        for name, field in (("CallSid", "call_sid"), ("ConferenceSid", "conference_sid")):
            value = last(name) if name in sid_filters else None
            if value is not None:
                filters.append((name, value))
                tests.append((field, lambda found, wanted=value: found == wanted))

        space = self.server.space
        with space._lock:
            keys, recs = [], []
            for key, rec in zip(shelf.keys, shelf.recs, strict=True):
                if all(test(key[0] if where == 0 else rec.get(where)) for where, test in tests):
                    keys.append(key)
                    recs.append(rec)
        total = len(keys)
        if cursor is None and page > 0:
            # A page number without a token: counted from the newest.
            hi = max(0, total - page * size)
            lo = max(0, hi - size)
        else:
            lo, hi = page_bounds(keys, size, cursor)
        items = [dict(rec) for rec in reversed(recs[lo:hi])]
        next_token, prev_token = page_tokens(keys, lo, hi, cursor)

        def uri(number: int, page_token: str | None = None) -> str:
            params = [*filters, ("PageSize", size), ("Page", number)]
            if page_token is not None:
                params.append(("PageToken", page_token))
            return f"{split.path}?{urlencode(params)}"

        previous = None
        if cursor is None and page > 0:
            previous = uri(page - 1)
        elif prev_token is not None:
            previous = uri(max(0, page - 1), prev_token)
        self._json(
            200,
            {
                "uri": uri(page, token),
                "first_page_uri": uri(0),
                "next_page_uri": None if next_token is None else uri(page + 1, next_token),
                "previous_page_uri": previous,
                "page": page,
                "page_size": size,
                items_key: items,
            },
        )

    def _compat_one(self, sid: str) -> None:
        with self.server.space._lock:
            rec = self._project.compat.lookup(sid)
            body = None if rec is None else dict(rec)
        if body is None:
            return self._not_found()
        self._json(200, body)

    def _compat_delete(self, sid: str) -> None:
        with self.server.space._lock:
            rec = self._project.compat.pop(sid)
        if rec is None:
            return self._not_found()
        self._send(204, b"", None)

    def _compat_call(self, sid: str) -> None:
        with self.server.space._lock:
            call = self._project.calls.lookup(sid)
            call = None if call is None else dict(call)
        if call is None:
            return self._not_found()
        self._json(200, call)

    def _compat_media(self, account: str, sid: str, media_format: str) -> None:
        """SignalWire: "Recording audio files can be accessed directly without authentication"
        unless the project protects its media; it "may redirect to storage"."""
        space = self.server.space
        project = space._projects.get(account)
        if project is None:
            return self._not_found()
        if self._media_refused(project, self._compat_error):
            return
        with space._lock:
            rec = project.compat.lookup(sid)
            rec = None if rec is None else dict(rec)
        if rec is None:
            return self._not_found()
        if space.compat_redirect:
            path = space.media_path(project.id, rec["sid"], media_format)
            where = f"https://{data.FILES_HOST}" if space.media_host == "files" else None
            location = (where or space.files_url) + path
            return self._send(302, b"", None, {"Location": location})
        self._serve_media(data.compat_media(rec, media_format))
