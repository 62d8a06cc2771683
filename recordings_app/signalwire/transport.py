"""Every request to SignalWire goes through `_send`: a pooled session per thread, the
private-address guard, connect/read timeouts, bounded retries, usage tracking, and one
mapping from HTTP statuses to exceptions."""

from __future__ import annotations

import contextvars
import ipaddress
import math
import random
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
def track_upstream():
    """Count the upstream calls (and the time spent waiting on them) made inside."""
    usage = UpstreamUsage()
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
    """In production every host but those of SIGNALWIRE_BASE_URL and SIGNALWIRE_FILES_URL
    must resolve to public addresses; with DEBUG on (the demo space, development)
    anything goes."""
    if settings.DEBUG:
        return False
    allowed = {(urlsplit(url).hostname or "").lower() for url in stand_in_urls()}
    return host.strip("[]").lower() not in allowed


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
    no credentials at all."""
    timeout = (settings.SIGNALWIRE_CONNECT_TIMEOUT, settings.SIGNALWIRE_READ_TIMEOUT)
    deadline = time.monotonic() + settings.SIGNALWIRE_RETRY_BUDGET
    attempt = 0
    usage = _usage.get() or UpstreamUsage()
    while True:
        usage.begin()
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
            usage.end()
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
        body = response.json()
    except ValueError:
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
    try:
        return response.json()
    except ValueError:
        raise MalformedResponse("not JSON") from None


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
