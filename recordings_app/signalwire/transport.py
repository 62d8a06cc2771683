"""Every request to SignalWire goes through `_send`: a pooled session per thread, the
private-address guard, connect/read timeouts, a total deadline, bounded retries, a cap on
the size of an answer, usage tracking, and one mapping from HTTP statuses to exceptions."""

from __future__ import annotations

import contextvars
import ipaddress
import math
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util.connection import create_connection

from .exceptions import (
    CredentialsRejected,
    ForbiddenAddress,
    MalformedResponse,
    RateLimited,
    RequestRejected,
    ScopeMissing,
    SignalWireError,
    SpaceNotFound,
    UpstreamFailed,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from .space import stand_in_urls

RETRYABLE_STATUSES = {429, 500, 502, 503, 504}
MAX_ATTEMPTS = 4
MAX_BACKOFF = 4.0
# The most of an API answer (JSON) that is read: a page of 1,000 recordings is about
# 600 KB, so 16 MB is far beyond any honest answer and still small for a worker. Counted
# as it is decoded (a gzipped answer cannot hide its size) and read a piece at a time, so
# a larger answer is dropped once it passes the cap, never held whole.
MAX_JSON_BYTES = 16 * 1024 * 1024
_BODY_PIECE = 64 * 1024


# ------------------------------------------------------------------------ usage


@dataclass
class UpstreamUsage:
    """What one request of ours cost upstream: for the request log and the benchmarks.

    `seconds` is the time during which at least one upstream call was outstanding: calls
    made at once (the two API families of a merged list page) overlap, so it never
    exceeds the request's own time."""

    calls: int = 0
    seconds: float = 0.0
    last_status: int | None = None
    # Told of each call as it ends: its HTTP status (None: no answer) and its seconds
    # (to the headers, for a media stream). The app's metrics listen here; this package
    # knows nothing of them.
    on_call: Callable[[int | None, float], None] | None = field(default=None, repr=False)
    _open: int = field(default=0, repr=False)
    _since: float = field(default=0.0, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def begin(self) -> None:
        with self._lock:
            self.calls += 1
            if self._open == 0:
                self._since = time.monotonic()
            self._open += 1

    def end(self) -> None:
        with self._lock:
            self._open -= 1
            if self._open == 0:
                self.seconds += time.monotonic() - self._since


_usage: contextvars.ContextVar[UpstreamUsage | None] = contextvars.ContextVar(
    "upstream_usage", default=None
)


@contextmanager
def track_upstream(
    on_call: Callable[[int | None, float], None] | None = None,
) -> Iterator[UpstreamUsage]:
    """Count the upstream calls (and the time spent waiting on them) made inside;
    `on_call(status, seconds)` is called as each one ends."""
    usage = UpstreamUsage(on_call=on_call)
    token = _usage.set(usage)
    try:
        yield usage
    finally:
        _usage.reset(token)


# ------------------------------------------------------- the private-address guard


def is_public_address(address: str) -> bool:
    """False for private, loopback, link-local, multicast, reserved and unspecified
    addresses (IPv4, IPv6, and IPv4 mapped into IPv6)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _must_be_public(host: str) -> bool:
    """Every host but those of SIGNALWIRE_BASE_URL and SIGNALWIRE_FILES_URL must resolve
    to public addresses, unless SIGNALWIRE_ALLOW_PRIVATE_ADDRESSES is on (whatever DEBUG
    says: a development setting must not open the private network in production)."""
    if settings.SIGNALWIRE_ALLOW_PRIVATE_ADDRESSES:
        return False
    allowed = {(urlsplit(url).hostname or "").lower() for url in stand_in_urls()}
    return host.strip("[]").lower() not in allowed


def _checked_address(host: str, port: int) -> str:
    """The address to connect to for `host`: the name is resolved once and every address
    it has is checked, so a host that resolves to an internal address is refused before
    any packet goes to it, and a second DNS answer (rebinding) cannot swap in another
    address after the check. Raises socket.gaierror (no such name) or ForbiddenAddress."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [str(info[4][0]) for info in found]
    if not addresses or not all(is_public_address(address) for address in addresses):
        raise ForbiddenAddress(host)
    return addresses[0]


class _PublicOnly(HTTPConnection):
    """urllib3's connection, opened through the address check and watched by the call's
    deadline. Neither requests nor urllib3 has a public hook between resolving a name and
    connecting, so this class (with the two pools and the adapter below, which only make
    requests build it) is the one place that uses urllib3's internals:

    - `HTTPConnection._new_conn()`, private: overridden to connect to the address that
      `_checked_address` resolved and checked, never to a name;
    - `urllib3.util.connection.create_connection`, undocumented: opens that socket with
      the connection's timeout, source address and socket options, as `_new_conn`
      itself does;
    - the pools' `ConnectionCls` and the pool manager's `pool_classes_by_scheme`,
      undocumented: how requests' pools come to build this class;
    - urllib3's connect errors, raised with the connection as urllib3 raises them, so
      requests maps ours as it maps its own (`_failure` reads NameResolutionError).

    Everything else here uses public APIs: a `requests.Session`, and a connection's
    `request()` and `sock`."""

    def _new_conn(self) -> socket.socket:
        if not _must_be_public(self.host):
            return super()._new_conn()
        try:
            address = _checked_address(self.host, self.port)
        except socket.gaierror as error:
            # The unknown name it is (SpaceNotFound for the space's host); never a second,
            # unchecked lookup and connect, whose answer could differ from this one.
            raise NameResolutionError(self.host, self, error) from None
        try:
            return create_connection(
                (address, self.port),
                self.timeout,
                source_address=self.source_address,
                socket_options=self.socket_options,
            )
        except TimeoutError as error:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from error
        except OSError as error:
            raise NewConnectionError(self, f"Failed to connect: {error}") from error

    def request(self, *args: Any, **kwargs: Any) -> None:
        # The call's deadline (if any) may cut this connection from now on.
        deadline = _deadline.get()
        if deadline is not None:
            deadline.watch(self)
        super().request(*args, **kwargs)


class _PublicHTTPConnection(_PublicOnly, HTTPConnection):
    pass


class _PublicHTTPSConnection(_PublicOnly, HTTPSConnection):
    pass


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicOnlyAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _PublicHTTPPool,
            "https": _PublicHTTPSPool,
        }


# ------------------------------------------------------------------ the deadline


class _Deadline:
    """One call's total deadline. Timeouts count per socket read, so an answer that
    trickles a byte at a time never trips them; when this deadline passes, a timer shuts
    the socket of the request under way, which ends any read that is waiting on it."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = False
        self._connection: HTTPConnection | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def passed(self) -> bool:
        return self.expired or self.remaining() <= 0

    def watch(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connection = connection

    def stop(self) -> None:
        """The call is over (or the rest, a media body, is not bounded): cut nothing."""
        self._timer.cancel()
        with self._lock:
            self._connection = None

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sock = self._connection.sock if self._connection is not None else None
            self._connection = None
            if sock is not None:
                # The plain socket's shutdown, under TLS too: it wakes a blocked read.
                with suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)


_deadline: contextvars.ContextVar[_Deadline | None] = contextvars.ContextVar(
    "upstream_deadline", default=None
)


# ------------------------------------------------------------------- the request

_local = threading.local()


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
    (the caller decides), and bounded retries of GETs on 429 and 5xx. `auth` None sends
    no credentials at all.

    The call ends within SIGNALWIRE_TOTAL_TIMEOUT, retries included: connecting, the
    headers and, unless `stream`, the whole body, read up to MAX_JSON_BYTES. A `stream`
    (media) is bounded by it up to its headers; its body only by the read timeout."""
    deadline = _Deadline(settings.SIGNALWIRE_TOTAL_TIMEOUT)
    token = _deadline.set(deadline)
    try:
        return _send_within(deadline, method, url, auth=auth, headers=headers, stream=stream)
    finally:
        _deadline.reset(token)
        deadline.stop()


def _send_within(deadline: _Deadline, method, url, *, auth, headers, stream) -> requests.Response:
    retry_until = min(time.monotonic() + settings.SIGNALWIRE_RETRY_BUDGET, deadline.at)
    attempt = 0
    usage = _usage.get() or UpstreamUsage()
    while True:
        if deadline.passed():
            raise UpstreamTimeout(deadline.seconds)
        remaining = deadline.remaining()
        timeout = (
            min(settings.SIGNALWIRE_CONNECT_TIMEOUT, remaining),
            min(settings.SIGNALWIRE_READ_TIMEOUT, remaining),
        )
        usage.begin()
        started, status = time.monotonic(), None
        try:
            response = _session().request(
                method,
                url,
                auth=auth,
                headers=headers,
                stream=True,
                timeout=timeout,
                allow_redirects=False,
            )
            if not stream:
                _read_body(response)
            status = response.status_code
        except requests.RequestException as error:
            raise _failure(error, url, deadline) from None
        finally:
            usage.end()
            if usage.on_call is not None:
                usage.on_call(status, time.monotonic() - started)
        usage.last_status = response.status_code

        # SignalWire: a DELETE is not retried; a repeat after a lost answer could
        # report 404 for a delete that worked, and we would rather say "try again".
        if method != "GET" or response.status_code not in RETRYABLE_STATUSES:
            return response
        attempt += 1
        retry_after = _retry_after(response)
        delay = _backoff(attempt) if retry_after is None else retry_after
        if attempt >= MAX_ATTEMPTS or time.monotonic() + delay > retry_until:
            return response
        response.close()
        time.sleep(delay)


def _failure(error: requests.RequestException, url: str, deadline: _Deadline) -> SignalWireError:
    """What a failed request (or body read) was, as one of our exceptions."""
    if deadline.passed():
        return UpstreamTimeout(deadline.seconds)
    if isinstance(error, requests.ConnectTimeout):
        return UpstreamTimeout(settings.SIGNALWIRE_CONNECT_TIMEOUT, connecting=True)
    # requests wraps urllib3's errors (MaxRetryError, ReadTimeoutError), whose reason says why.
    reason = error.args[0] if error.args else None
    reason = getattr(reason, "reason", reason)
    if isinstance(error, requests.ReadTimeout) or isinstance(reason, ReadTimeoutError):
        return UpstreamTimeout(settings.SIGNALWIRE_READ_TIMEOUT)
    if isinstance(reason, NameResolutionError):
        return SpaceNotFound(urlsplit(url).hostname or "")
    return UpstreamUnreachable()


def _read_body(response: requests.Response) -> None:
    """Read the whole (decoded) body into the response, as requests does without
    `stream`, but no more than MAX_JSON_BYTES of it."""
    declared = response.headers.get("Content-Length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_JSON_BYTES:
        response.close()
        raise MalformedResponse("larger than MAX_JSON_BYTES")
    pieces, size = [], 0
    for piece in response.iter_content(_BODY_PIECE):
        size += len(piece)
        if size > MAX_JSON_BYTES:
            response.close()
            raise MalformedResponse("larger than MAX_JSON_BYTES")
        pieces.append(piece)
    response._content = b"".join(pieces)


# ------------------------------------------------------------------ the answers


def _raise_for_status(response: requests.Response, *, not_found: SignalWireError) -> None:
    """The one mapping of statuses to exceptions, for both API families."""
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
    """Upstream's own words: RELAY's `{"errors": [{"detail"}]}`, or Compatibility's flat
    `{"code", "message", "more_info", "status"}`."""
    try:
        body = _parsed(response)
    except MalformedResponse:
        body = None
    details: list[str] = []
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list):
            details = [
                str(item["detail"])
                for item in errors
                if isinstance(item, dict) and "detail" in item
            ]
        elif isinstance(body.get("message"), str) and body["message"].strip():
            details = [body["message"]]
    return details or ["SignalWire rejected the request without saying why."]


def _json(response: requests.Response):
    return _parsed(response)


def _listing(response: requests.Response, key: str) -> dict:
    """A list answer's JSON: an object whose `key` holds a list (RELAY and voice logs:
    `data`; Compatibility: `recordings`, `calls`), else a malformed answer."""
    body = _json(response)
    if not isinstance(body, dict) or not isinstance(body.get(key), list):
        raise MalformedResponse(f"no {key} list")
    return body


def _links(body: dict) -> dict:
    """A RELAY-style answer's `links` object, or {} where it is missing or not one."""
    links = body.get("links")
    return links if isinstance(links, dict) else {}


def _parsed(response: requests.Response):
    """The answer's JSON. Not JSON, or nested deeper than the parser recurses (`[` x
    200,000), is a malformed answer, never a crash."""
    try:
        return response.json()
    except ValueError:
        raise MalformedResponse("not JSON") from None
    except RecursionError:
        raise MalformedResponse("JSON nested too deeply") from None


def _link_query(base_url: str, paths: tuple[str, ...], link) -> str | None:
    """The query string of an upstream paging link, or None. A link that points anywhere
    but this space's endpoint (one of `paths`) is ignored: we never fetch it."""
    if not isinstance(link, str) or not link:
        return None
    url = urlsplit(urljoin(base_url + paths[0], link))
    base = urlsplit(base_url)
    if (url.scheme, url.netloc) != (base.scheme, base.netloc):
        return None
    if url.path.rstrip("/") not in {(base.path + path).rstrip("/") for path in paths}:
        return None
    return url.query
