"""The one door to SignalWire's recordings API.

Nothing else in the project imports `requests` for SignalWire. Callers get frozen
dataclasses parsed at the boundary and one exception type per kind of failure; what to
tell the user about each lives in `recordings_app.upstream_errors`.

Endpoints (see shared/signalwire/README.md):
    GET    /api/relay/rest/recordings           list, paged by `links`
    GET    /api/relay/rest/recordings/{id}      one recording
    DELETE /api/relay/rest/recordings/{id}      204
    GET    <recording.url>                      the media file (may need Basic auth)
"""

from __future__ import annotations

import contextvars
import ipaddress
import math
import random
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.connection import create_connection

LIST_PATH = "/api/relay/rest/recordings"
SOURCES = {
    # SignalWire: a recording carries exactly one of these; conference-only means a
    # Relay conference recording (leg recordings may carry a conference id too).
    "relay_pstn_leg_id": "pstn",
    "relay_sip_leg_id": "sip",
    "relay_webrtc_leg_id": "webrtc",
}
SOURCE_LABELS = {
    "pstn": "PSTN",
    "sip": "SIP",
    "webrtc": "WebRTC",
    "conference": "Conference",
    "unknown": "Unknown",
}
RETRYABLE_STATUSES = {429, 500, 502, 503, 504}
MAX_ATTEMPTS = 4
MAX_BACKOFF = 4.0
MAX_PRICE = Decimal(10**9)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
# Up to 1 MiB per chunk, as much as has arrived: large chunks keep a local transfer near
# wire speed, and read1() never waits to fill one, so a slow upstream starts playing at once.
MEDIA_CHUNK = 1024 * 1024
MAX_MEDIA_REDIRECTS = 3
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SPACE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


# ---------------------------------------------------------------------------- errors


class SignalWireError(Exception):
    """Base of every failure talking to SignalWire. Never carries the API token."""


class CredentialsRejected(SignalWireError):
    """401: the project ID or API token is wrong or revoked."""


class ScopeMissing(SignalWireError):
    """403: the token is valid but lacks the Voice scope."""


class SpaceNotFound(SignalWireError):
    """No space answers at that name: the host does not resolve, or the API path is 404."""

    def __init__(self, host: str):
        super().__init__(host)
        self.host = host


class RecordingNotFound(SignalWireError):
    """404 for one recording: never existed in this project, or deleted."""


class RequestRejected(SignalWireError):
    """422: upstream rejected a parameter; `details` are upstream's own words."""

    def __init__(self, details: list[str]):
        super().__init__("; ".join(details))
        self.details = details


class RateLimited(SignalWireError):
    """429 that outlasted the retry budget."""

    def __init__(self, retry_after: int | None):
        super().__init__(retry_after)
        self.retry_after = retry_after


class UpstreamFailed(SignalWireError):
    """5xx (after retries), or another status we have no meaning for."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class UpstreamTimeout(SignalWireError):
    """No connection within the connect timeout (`connecting`), or no answer within the
    read timeout after the request went out."""

    def __init__(self, seconds: float, connecting: bool = False):
        super().__init__(seconds)
        self.seconds = seconds
        self.connecting = connecting


class UpstreamUnreachable(SignalWireError):
    """The connection could not be made (refused, reset, TLS failure)."""


class MalformedResponse(SignalWireError):
    """The answer is not what the API describes (not JSON, wrong shape)."""


class MediaUnavailable(SignalWireError):
    """The recording has no media URL we are willing to fetch: none at all (`missing`),
    or one on another host, or redirects that lead elsewhere."""

    def __init__(self, missing: bool = False):
        super().__init__(missing)
        self.missing = missing


class ForbiddenAddress(SignalWireError):
    """In production, a host that resolves to a private, loopback, link-local or other
    non-public address (and is not SIGNALWIRE_BASE_URL's host): never connected to."""

    def __init__(self, host: str):
        super().__init__(host)
        self.host = host


# ------------------------------------------------------------------------ the data


@dataclass(frozen=True)
class Recording:
    """One recording as the API described it. Fields that were missing or of the wrong
    type are None and named in `problems`, so a page can render what is valid."""

    id: str | None
    project_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    duration_seconds: int | None = None
    price: Decimal | None = None
    price_unit: str | None = None
    status: str | None = None
    error_code: str | None = None
    url: str | None = None
    stereo: bool | None = None
    track: str | None = None
    byte_size: int | None = None
    source: str = "unknown"
    leg_id: str | None = None
    conference_id: str | None = None
    problems: tuple[str, ...] = ()

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[self.source]

    @property
    def has_audio(self) -> bool:
        """False where there is nothing to play: failed, absent, deleted, or empty."""
        return (
            bool(self.url)
            and self.status not in ("failed", "absent", "deleted")
            and self.duration_seconds != 0
        )

    @classmethod
    def from_api(cls, raw: object) -> Recording:
        if not isinstance(raw, dict):
            return cls(id=None, problems=("not a recording object",))
        problems: list[str] = []

        def take(name, parse, required=True):
            if name not in raw or raw[name] is None:
                if required:
                    problems.append(name)
                return None
            value = parse(raw[name])
            if value is None:
                problems.append(name)
            return value

        legs = [key for key in SOURCES if isinstance(raw.get(key), str)]
        conference_id = take("relay_conference_id", canonical_uuid, required=False)
        if len(legs) == 1:
            source, leg_id = SOURCES[legs[0]], canonical_uuid(raw[legs[0]])
            if leg_id is None:
                problems.append(legs[0])
        elif not legs and conference_id:
            source, leg_id = "conference", None
        else:
            source, leg_id = "unknown", None
            problems.append("source")

        return cls(
            id=take("id", canonical_uuid),
            project_id=take("project_id", canonical_uuid),
            created_at=take("created_at", _datetime),
            updated_at=take("updated_at", _datetime),
            duration_seconds=take("duration_in_seconds", _count),
            price=take("price", _price),
            price_unit=take("price_unit", _text),
            status=take("status", _text),
            error_code=take("error_code", _text, required=False),
            url=take("url", _text),
            stereo=take("stereo", _bool),
            track=take("track", _text),
            byte_size=take("byte_size", _count, required=False),
            source=source,
            leg_id=leg_id,
            conference_id=conference_id,
            problems=tuple(problems),
        )


@dataclass(frozen=True)
class RecordingPage:
    """One page of the list. Cursors are the query strings of upstream's own links,
    to hand back to `list_recordings`; None where upstream gave no such link."""

    recordings: tuple[Recording, ...]
    next_cursor: str | None
    prev_cursor: str | None
    first_cursor: str | None

    @property
    def totals(self) -> PageTotals:
        # Derived when a page shows it: the index sync reads 1,000-row pages and never does.
        return PageTotals.of(self.recordings)


@dataclass(frozen=True)
class PageTotals:
    count: int
    seconds: int
    # Currency code -> sum. Different currencies are never added together.
    price_by_currency: dict[str, Decimal]

    @classmethod
    def of(cls, recordings) -> PageTotals:
        prices: dict[str, Decimal] = {}
        for recording in recordings:
            if recording.price is not None and recording.price_unit:
                unit = recording.price_unit
                prices[unit] = prices.get(unit, Decimal(0)) + recording.price
        return cls(
            count=len(recordings),
            seconds=sum(r.duration_seconds or 0 for r in recordings),
            price_by_currency=dict(sorted(prices.items())),
        )


# ------------------------------------------------------------------- field parsers


def canonical_uuid(value) -> str | None:
    """The UUID in its one canonical form (lower case, dashed), or None if it is none."""
    if not isinstance(value, str):
        return None
    if _CANONICAL_UUID.fullmatch(value):
        return value  # already canonical: a sync parses 100,000 of these, skip the round trip
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _datetime(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if not parsed.tzinfo:
        return None
    # Far-off years are nonsense for a recording, and overflow when shown in a time
    # zone away from UTC (9999-12-31T23:00Z is year 10000 in Kiritimati).
    return parsed if EARLIEST <= parsed <= LATEST else None


def _count(value) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _price(value) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        # str() keeps what the JSON said (0.0025), not the float's binary expansion.
        price = Decimal(str(value))
    except InvalidOperation:
        return None
    # No recording costs a billion; a price beyond that is nonsense, not data to format.
    return price if price.is_finite() and abs(price) < MAX_PRICE else None


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _bool(value) -> bool | None:
    return value if isinstance(value, bool) else None


# ---------------------------------------------------------------------- the space


def normalize_space(value: str) -> str:
    """`acme`, `acme.signalwire.com` or `https://acme.signalwire.com/...` -> `acme`.

    Raises ValueError for anything that is not a space name."""
    text = value.strip().lower()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    text = text.split("/", 1)[0]
    if text.endswith(".signalwire.com"):
        text = text.removesuffix(".signalwire.com")
    if not _SPACE_RE.match(text):
        raise ValueError(value)
    return text


def space_base_url(space: str) -> str:
    return settings.SIGNALWIRE_BASE_URL or f"https://{space}.signalwire.com"


def is_uuid(value: str) -> bool:
    return canonical_uuid(value) is not None


# ------------------------------------------------------------------ the transport


@dataclass
class UpstreamUsage:
    """What one request of ours cost upstream: for the request log and the benchmarks."""

    calls: int = 0
    seconds: float = 0.0
    last_status: int | None = None


_usage: contextvars.ContextVar[UpstreamUsage | None] = contextvars.ContextVar(
    "upstream_usage", default=None
)


@contextmanager
def track_upstream():
    """Count the upstream calls (and the time spent waiting on them) made inside."""
    usage = UpstreamUsage()
    token = _usage.set(usage)
    try:
        yield usage
    finally:
        _usage.reset(token)


_local = threading.local()


def is_public_address(address: str) -> bool:
    """False for private, loopback, link-local, multicast, reserved and unspecified
    addresses (IPv4, IPv6, and IPv4 mapped into IPv6)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _must_be_public(host: str) -> bool:
    """In production every host but SIGNALWIRE_BASE_URL's must resolve to public
    addresses; with DEBUG on (the demo space, development) anything goes."""
    if settings.DEBUG:
        return False
    allowed = urlsplit(settings.SIGNALWIRE_BASE_URL).hostname or ""
    return host.strip("[]").lower() != allowed.lower()


class _PublicOnly:
    """Resolve, check every address, then connect to a checked one: a host that resolves
    to an internal address is refused before any packet goes to it, and a second DNS
    answer (rebinding) cannot swap in another address after the check."""

    def _new_conn(self) -> socket.socket:
        if not _must_be_public(self.host):
            return super()._new_conn()
        try:
            found = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror:
            return super()._new_conn()  # urllib3 reports the unknown name as usual
        addresses = [info[4][0] for info in found]
        if not addresses or not all(is_public_address(address) for address in addresses):
            raise ForbiddenAddress(self.host)
        try:
            return create_connection(
                (addresses[0], self.port),
                self.timeout,
                source_address=self.source_address,
                socket_options=self.socket_options,
            )
        except TimeoutError as error:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from error
        except OSError as error:
            raise NewConnectionError(self, f"Failed to connect: {error}") from error


class _PublicHTTPConnection(_PublicOnly, HTTPConnection):
    pass


class _PublicHTTPSConnection(_PublicOnly, HTTPSConnection):
    pass


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicOnlyAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _PublicHTTPPool,
            "https": _PublicHTTPSPool,
        }


def _session() -> requests.Session:
    """A pooled session per thread (requests.Session is not documented thread-safe)."""
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        session.mount("http://", _PublicOnlyAdapter())
        session.mount("https://", _PublicOnlyAdapter())
        # Never pick up ~/.netrc credentials or proxy settings behind our back.
        session.trust_env = False
        session.headers["User-Agent"] = "recordings-dashboard"
        _local.session = session
    return session


def _backoff(attempt: int) -> float:
    # Capped exponential backoff with full jitter: 0.25, 0.5, 1, ... up to MAX_BACKOFF.
    return random.uniform(0, min(MAX_BACKOFF, 0.25 * 2**attempt))  # noqa: S311 (jitter)


def _retry_after(response: requests.Response) -> int | None:
    """Seconds to wait, from `Retry-After` as seconds or as an HTTP date."""
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0, math.ceil((when - datetime.now(UTC)).total_seconds()))


def _send(method: str, url: str, *, auth, headers=None, stream=False) -> requests.Response:
    """Every request to SignalWire goes through here: timeouts always, redirects never
    (the caller decides), and bounded retries of GETs on 429 and 5xx."""
    timeout = (settings.SIGNALWIRE_CONNECT_TIMEOUT, settings.SIGNALWIRE_READ_TIMEOUT)
    deadline = time.monotonic() + settings.SIGNALWIRE_RETRY_BUDGET
    attempt = 0
    usage = _usage.get() or UpstreamUsage()
    while True:
        started = time.monotonic()
        usage.calls += 1
        try:
            response = _session().request(
                method,
                url,
                auth=auth,
                headers=headers,
                stream=stream,
                timeout=timeout,
                allow_redirects=False,
            )
        except requests.ConnectTimeout:
            raise UpstreamTimeout(timeout[0], connecting=True) from None
        except requests.ReadTimeout:
            raise UpstreamTimeout(timeout[1]) from None
        except requests.ConnectionError as error:
            # requests wraps urllib3's MaxRetryError, whose reason says why.
            reason = getattr(error.args[0], "reason", None) if error.args else None
            if isinstance(reason, urllib3.exceptions.NameResolutionError):
                raise SpaceNotFound(urlsplit(url).hostname or "") from None
            raise UpstreamUnreachable() from None
        except requests.RequestException:
            raise UpstreamUnreachable() from None
        finally:
            usage.seconds += time.monotonic() - started
        usage.last_status = response.status_code

        # SignalWire: a DELETE is not retried; a repeat after a lost answer could
        # report 404 for a delete that worked, and we would rather say "try again".
        if method != "GET" or response.status_code not in RETRYABLE_STATUSES:
            return response
        attempt += 1
        delay = _retry_after(response)
        delay = _backoff(attempt) if delay is None else delay
        if attempt >= MAX_ATTEMPTS or time.monotonic() + delay > deadline:
            return response
        response.close()
        time.sleep(delay)


def _raise_for_status(response: requests.Response, *, not_found: SignalWireError) -> None:
    status = response.status_code
    if status < 300:
        return
    if status == 401:
        raise CredentialsRejected()
    if status == 403:
        raise ScopeMissing()
    if status == 404:
        raise not_found
    if status == 422:
        raise RequestRejected(_validation_details(response))
    if status == 429:
        raise RateLimited(_retry_after(response))
    raise UpstreamFailed(status)


def _validation_details(response: requests.Response) -> list[str]:
    try:
        errors = response.json()["errors"]
        details = [str(item["detail"]) for item in errors if isinstance(item, dict)]
    except (ValueError, KeyError, TypeError):
        details = []
    return details or ["SignalWire rejected the request without saying why."]


def _json(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        raise MalformedResponse("not JSON") from None


# ------------------------------------------------------------------------ the client


class SignalWireClient:
    """Talks to one space with one project's credentials."""

    def __init__(self, space: str, project_id: str, api_token: str):
        self.space = space
        self.base_url = space_base_url(space)
        self._auth = (str(project_id), api_token)

    def __repr__(self) -> str:  # never the token
        return f"<SignalWireClient {self.base_url} project={self._auth[0]}>"

    def list_recordings(self, cursor: str | None = None, page_size: int = 50) -> RecordingPage:
        """GET /api/relay/rest/recordings, first page or the page a cursor names."""
        if cursor is None:
            url = f"{self.base_url}{LIST_PATH}?page_size={int(page_size)}"
        else:
            url = f"{self.base_url}{LIST_PATH}?{cursor}"
        response = _send("GET", url, auth=self._auth)
        # SignalWire: the list path answers 404 only when no space lives at this address.
        _raise_for_status(response, not_found=SpaceNotFound(urlsplit(url).hostname or ""))
        body = _json(response)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise MalformedResponse("no data list")
        links = body.get("links") if isinstance(body.get("links"), dict) else {}
        return RecordingPage(
            recordings=tuple(Recording.from_api(item) for item in body["data"]),
            next_cursor=self._cursor(links.get("next")),
            prev_cursor=self._cursor(links.get("prev")),
            first_cursor=self._cursor(links.get("first")),
        )

    def _cursor(self, link) -> str | None:
        """The query string of an upstream paging link, or None. A link that points
        anywhere but this space's list endpoint is ignored: we never fetch it."""
        if not isinstance(link, str) or not link:
            return None
        url = urlsplit(urljoin(self.base_url + LIST_PATH, link))
        base = urlsplit(self.base_url)
        if (url.scheme, url.netloc) != (base.scheme, base.netloc):
            return None
        if url.path.rstrip("/") != (base.path + LIST_PATH).rstrip("/"):
            return None
        return url.query

    def get_recording(self, recording_id: str) -> Recording:
        """GET /api/relay/rest/recordings/{id}"""
        response = _send("GET", self._recording_url(recording_id), auth=self._auth)
        _raise_for_status(response, not_found=RecordingNotFound())
        recording = Recording.from_api(_json(response))
        if recording.id is None:
            raise MalformedResponse("recording without an id")
        return recording

    def delete_recording(self, recording_id: str) -> None:
        """DELETE /api/relay/rest/recordings/{id}; 404 raises RecordingNotFound."""
        response = _send("DELETE", self._recording_url(recording_id), auth=self._auth)
        _raise_for_status(response, not_found=RecordingNotFound())

    def _recording_url(self, recording_id: str) -> str:
        canonical = canonical_uuid(recording_id)
        if canonical is None:
            raise RecordingNotFound()
        return f"{self.base_url}{LIST_PATH}/{canonical}"

    def open_media(self, recording: Recording, range_header: str | None = None) -> MediaStream:
        """GET the recording's media file, streaming, passing `Range` through.

        The credentials go only to the space's own host; a media URL or a redirect
        anywhere else is refused rather than fetched."""
        url = recording.url
        if not url:
            raise MediaUnavailable(missing=True)
        headers = {"Range": range_header} if range_header else None
        for _ in range(MAX_MEDIA_REDIRECTS + 1):
            if not url or not self._is_own_host(url):
                raise MediaUnavailable()
            response = _send("GET", url, auth=self._auth, headers=headers, stream=True)
            if response.is_redirect:
                url = urljoin(url, response.headers.get("Location", ""))
                response.close()
                continue
            if response.status_code == 416:
                return MediaStream(response)
            try:
                _raise_for_status(response, not_found=RecordingNotFound())
            except SignalWireError:
                response.close()
                raise
            return MediaStream(response)
        raise MediaUnavailable()

    def _is_own_host(self, url: str) -> bool:
        media, base = urlsplit(url), urlsplit(self.base_url)
        return media.scheme == base.scheme and media.netloc == base.netloc


class MediaStream:
    """An open upstream media answer: status, the headers worth passing on, and the
    body in chunks. A stream that breaks off midway just ends; the byte count the
    browser was promised tells it the file is short."""

    PASSED_HEADERS = ("Content-Type", "Content-Length", "Content-Range", "Accept-Ranges")

    def __init__(self, response: requests.Response):
        self._response = response
        self.status = response.status_code
        self.headers = {
            name: response.headers[name] for name in self.PASSED_HEADERS if name in response.headers
        }

    def __iter__(self) -> Iterator[bytes]:
        raw = self._response.raw
        try:
            while chunk := raw.read1(MEDIA_CHUNK, decode_content=True):
                yield chunk
        except (urllib3.exceptions.HTTPError, OSError):
            return
        finally:
            self._response.close()

    def close(self) -> None:
        self._response.close()
