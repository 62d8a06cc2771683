"""A local stand-in for a SignalWire space: the recordings API and the media files.

Why: the dashboard must be developed, tested and benchmarked without a real account. This
server follows SignalWire's published OpenAPI description of the recordings endpoints (field
names, types, error bodies) and adds knobs upstream lacks: faults, latency and a request log.
"""

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import re
import socket
import sys
import threading
import time
import uuid
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from . import data
from .audio import iter_wav, wav_size

LIST_PATH = "/api/relay/rest/recordings"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_MEDIA = re.compile(r"^/media/([^/]+)/([^/]+)\.wav$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_TOKEN_KEY = b"demo-space page tokens"  # fixed, so tokens survive a restart like upstream's
_DIRECTIONS = ("next", "prev", "prev_incl")


# ---- recordings store -------------------------------------------------------------------------


def _sort_key(rec: dict) -> tuple[str, str]:
    """Listing order key (ascending; served reversed). Tolerates off-schema test recordings."""
    created, rec_id = rec.get("created_at"), rec.get("id")
    return (created if isinstance(created, str) else "", rec_id if isinstance(rec_id, str) else "")


class _Project:
    """One project's credentials and recordings, kept sorted for keyset paging."""

    def __init__(self, project_id: str, token: str, voice: bool, recordings: list[dict]):
        self.id, self.token, self.voice = project_id, token, voice
        self.pristine = recordings
        self.load(recordings)

    def load(self, recordings: list[dict]) -> None:
        pairs = sorted(((_sort_key(r), dict(r)) for r in recordings), key=lambda p: p[0])
        self.keys = [key for key, _ in pairs]  # ascending
        self.recs = [rec for _, rec in pairs]
        self.by_id = {r["id"]: r for r in self.recs if isinstance(r.get("id"), str)}

    def add(self, rec: dict) -> None:
        key = _sort_key(rec)
        index = bisect_right(self.keys, key)
        self.keys.insert(index, key)
        self.recs.insert(index, rec)
        if isinstance(rec.get("id"), str):
            self.by_id[rec["id"]] = rec

    def remove(self, rec_id: str) -> bool:
        rec = self.by_id.pop(rec_id, None)
        if rec is None:
            return False
        index = bisect_left(self.keys, _sort_key(rec))
        while self.recs[index] is not rec:
            index += 1
        del self.keys[index], self.recs[index]
        return True

    def page(self, size: int, cursor: tuple[str, str, str] | None):
        """The slice self.recs[lo:hi] that a page shows (served newest first).

        SignalWire-style keyset paging: a cursor names a boundary (created_at, id), not an
        offset, so deleting recordings between two requests neither skips nor repeats any.
        """
        total = len(self.recs)
        first = (max(0, total - size), total)
        if cursor is None:
            return first
        direction, boundary = cursor[0], (cursor[1], cursor[2])
        if direction == "next":  # the `size` recordings just older than the boundary
            hi = bisect_left(self.keys, boundary)
            return max(0, hi - size), hi
        if direction == "prev":  # the `size` recordings just newer than the boundary
            lo = bisect_right(self.keys, boundary)
        else:  # prev_incl: the same, the boundary recording included
            lo = bisect_left(self.keys, boundary)
        if total - lo <= size:  # fewer than a full page before: that is the first page
            return first
        return lo, lo + size


def _encode_token(direction: str, key: tuple[str, str]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps([direction, *key]).encode()).rstrip(b"=")
    mac = hmac.new(_TOKEN_KEY, payload, hashlib.sha256).digest()[:12]
    return f"{payload.decode()}.{base64.urlsafe_b64encode(mac).decode()}"


def _decode_token(token: str) -> tuple[str, str, str] | None:
    """The cursor in a page_token, or None if it is not one we issued (tampered, truncated...)."""
    payload, _, mac = token.encode("ascii", "replace").partition(b".")
    expected = base64.urlsafe_b64encode(hmac.new(_TOKEN_KEY, payload, hashlib.sha256).digest()[:12])
    if not payload or not hmac.compare_digest(mac, expected):
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError):
        return None
    if (
        isinstance(value, list)
        and len(value) == 3
        and value[0] in _DIRECTIONS
        and all(isinstance(v, str) for v in value)
    ):
        return value[0], value[1], value[2]
    return None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# ---- faults -----------------------------------------------------------------------------------


@dataclass
class _Fault:
    status: int | None
    body: object
    headers: dict
    delay: float
    method: str | None
    path_prefix: str
    times: int | None
    content_type: str
    drop_after_bytes: int | None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and path.startswith(
            self.path_prefix
        )

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        if self.body is None:
            if self.status < 400:
                return b""
            return json.dumps({"error": _phrase(self.status)}).encode()
        return json.dumps(self.body).encode()


# ---- the space --------------------------------------------------------------------------------


class DemoSpace:
    """A SignalWire space on localhost, with three projects of seeded recordings.

    Start it with start() (or as a context manager); it serves from a daemon thread.
    """

    def __init__(self, host="127.0.0.1", port=0, count=2000, latency=0.0, now=None, verbose=False):
        self.host, self.port, self.latency, self.verbose = host, port, latency, verbose
        self.now = data.as_utc(now)
        self._lock = threading.RLock()
        self._projects = {
            pid: _Project(pid, token, voice, data.generate(pid, n, seed, self.now))
            for pid, token, voice, n, seed in (
                (data.DEMO_PROJECT_ID, data.DEMO_API_TOKEN, True, count, data.DEMO_SEED),
                (
                    data.OTHER_PROJECT_ID,
                    data.OTHER_API_TOKEN,
                    True,
                    data.OTHER_COUNT,
                    data.OTHER_SEED,
                ),
                (
                    data.NO_VOICE_PROJECT_ID,
                    data.NO_VOICE_API_TOKEN,
                    False,
                    data.NO_VOICE_COUNT,
                    data.NO_VOICE_SEED,
                ),
            )
        }
        self._faults: list[_Fault] = []
        self._log: list[tuple[str, str, str | None]] = []
        self._added = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> "DemoSpace":
        self._server = _Server((self.host, self.port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "DemoSpace":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("DemoSpace is not started")
        return f"http://{self.host}:{self._server.server_address[1]}"

    # data

    def reset(self) -> None:
        """Back to the seeded recordings, with no faults and an empty request log."""
        with self._lock:
            for project in self._projects.values():
                project.load(project.pristine)
            self._faults.clear()
            self._log.clear()
            self._added = 0

    def recordings(self, project_id: str) -> list[dict]:
        """The project's recordings newest first, as the API serves them to this base_url."""
        host = self._host()
        with self._lock:
            project = self._projects[project_id]
            return [render(project.id, rec, host) for rec in reversed(project.recs)]

    def add_recording(self, project_id: str, **overrides) -> dict:
        """Add a recording (newer than all seeded ones); overrides may break the schema."""
        with self._lock:
            project = self._projects[project_id]
            self._added += 1
            rec = data.extra_recording(project_id, self._added, self.now, overrides)
            project.add(rec)
            return render(project.id, rec, self._host())

    def delete_recording(self, project_id: str, recording_id: str) -> bool:
        """Remove a recording as if deleted upstream by someone else."""
        with self._lock:
            return self._projects[project_id].remove(recording_id)

    def _host(self) -> str:
        port = self._server.server_address[1] if self._server else self.port
        return f"{self.host}:{port}"

    # faults and the request log

    def add_fault(
        self,
        status=None,
        body=None,
        headers=None,
        delay=0.0,
        method=None,
        path_prefix="",
        times=None,
        content_type="application/json",
        drop_after_bytes=None,
    ) -> None:
        """Answer the next matching requests differently: how a test makes upstream misbehave.

        Matching: `method` (None = any) and the path with query starting with `path_prefix`;
        the first matching fault wins, `times` times (None = forever). The request first sleeps
        `delay` seconds; then with a `status` it gets that status, `body` (str, bytes, or JSON
        for anything else; None = {"error": <reason phrase>} for 4xx/5xx), `headers` and
        `content_type`. Without a status it is served normally after the delay, its body cut
        off (connection closed) after `drop_after_bytes` bytes if that is set.
        """
        if times is not None and times <= 0:
            return
        fault = _Fault(
            status,
            body,
            dict(headers or {}),
            delay,
            method,
            path_prefix,
            times,
            content_type,
            drop_after_bytes,
        )
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    @property
    def request_log(self) -> list[tuple[str, str, str | None]]:
        """A snapshot: (method, path with query, Basic-auth username or None) per request."""
        with self._lock:
            return list(self._log)

    def clear_request_log(self) -> None:
        with self._lock:
            self._log.clear()

    def _record(self, method: str, path: str, username: str | None) -> None:
        with self._lock:
            self._log.append((method, path, username))


def render(project_id: str, rec: dict, host: str) -> dict:
    """The JSON dict served for a stored recording: its media URL made absolute for `host`."""
    out = dict(rec)
    if out.get("url") is data.AUTO_URL:
        out["url"] = f"http://{host}/media/{project_id}/{rec.get('id')}.wav"
    return out


# ---- HTTP -------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, space: DemoSpace):
        super().__init__(address, _Handler)
        self.space = space
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def close_connections(self) -> None:
        """Cut idle keep-alive connections, so their threads end with the server."""
        with self.connections_lock:
            for conn in self.connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    # SignalWire: HTTP/1.1 with keep-alive, so a pooled requests.Session reuses connections.
    protocol_version = "HTTP/1.1"
    server_version = "DemoSpace/1.0"
    # Headers and body go out in separate writes: without this, Nagle's algorithm and delayed
    # ACKs add ~40 ms to every answer, which would swamp any benchmark.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            with self.server.connections_lock:
                self.server.connections.discard(self.connection)

    def log_message(self, format, *args) -> None:
        if self.server.space.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_DELETE = do_POST = do_PUT = do_PATCH = do_OPTIONS = do_GET

    # plumbing

    def _dispatch(self) -> None:
        space = self.server.space
        self._budget = None  # body bytes left before a drop_after_bytes fault cuts the line
        self._discard_request_body()
        self._project, username = self._authenticate()
        space._record(self.command, self.path, username)
        try:
            fault = space._take_fault(self.command, self.path)
            if fault is not None:
                if fault.delay:
                    time.sleep(fault.delay)
                if fault.status is not None:
                    self._send(fault.status, fault.payload(), fault.content_type, fault.headers)
                    return
                self._budget = fault.drop_after_bytes
            self._route()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _discard_request_body(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True  # not worth parsing: answer, then hang up
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
            self.close_connection = True
        while length > 0:
            got = self.rfile.read(min(length, 65536))
            if not got:
                break
            length -= len(got)

    def _authenticate(self) -> tuple[_Project | None, str | None]:
        """(project, username) for a valid Basic-auth header; (None, username or None) if not."""
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None, None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return None, None
        username, _, password = decoded.partition(":")
        project = self.server.space._projects.get(username)
        if project is not None and hmac.compare_digest(project.token.encode(), password.encode()):
            return project, username
        return None, username

    def _write(self, body) -> bool:
        """Write body bytes; False once a drop_after_bytes fault has cut the connection."""
        if self._budget is not None and len(body) >= self._budget:
            self.wfile.write(body[: self._budget])
            self._budget = 0
            self.close_connection = True
            return False
        if self._budget is not None:
            self._budget -= len(body)
        self.wfile.write(body)
        return True

    def _send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str | None = "application/json",
        headers: dict | None = None,
    ) -> None:
        self.send_response(status)
        bodiless = status in (204, 304) or status < 200
        if content_type and not bodiless:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        if not bodiless:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and not bodiless and self.command != "HEAD":
            self._write(body)

    def _json(self, status: int, obj, headers: dict | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), "application/json", headers)

    def _error(self, status: int, headers: dict | None = None) -> None:
        # SignalWire: {"error": "Unauthorized"} / {"error": "Not Found"} / ...
        self._json(status, {"error": _phrase(status)}, headers)

    def _invalid(self, code: str, detail: str) -> None:
        # SignalWire: 422 {"errors": [{"detail", "status", "title", "code"}]}
        error = {"detail": detail, "status": "422", "title": "Invalid Parameter", "code": code}
        self._json(422, {"errors": [error]})

    def _guard(self) -> bool:
        """Basic auth for every API and media request: 401 without it, 403 without Voice."""
        if self._project is None:
            # SignalWire: 401 with a Basic challenge.
            self._error(401, {"WWW-Authenticate": 'Basic realm="SignalWire"'})
            return False
        if not self._project.voice:
            self._error(403)  # SignalWire: the token lacks the Voice scope
            return False
        return True

    # routes

    def _route(self) -> None:
        path = urlsplit(self.path).path
        method = self.command
        if path == LIST_PATH or (path.startswith(LIST_PATH + "/") and path.count("/") == 5):
            allowed = ("GET",) if path == LIST_PATH else ("GET", "DELETE")
            if method not in allowed:
                return self._error(405, {"Allow": ", ".join(allowed)})
            if self.server.space.latency:
                time.sleep(self.server.space.latency)
            if not self._guard():
                return
            if path == LIST_PATH:
                return self._list()
            rec_id = path.rsplit("/", 1)[1]
            return self._detail(rec_id) if method == "GET" else self._delete(rec_id)
        media = _MEDIA.match(path)
        if media:
            if method not in ("GET", "HEAD"):
                return self._error(405, {"Allow": "GET, HEAD"})
            if self._guard():
                self._media(*media.groups())
            return
        self._error(404)

    def _lookup(self, rec_id: str) -> dict | None:
        if not _UUID.match(rec_id):
            return None
        return self._project.by_id.get(str(uuid.UUID(rec_id)))

    def _list(self) -> None:
        query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        raw_size = query.get("page_size", [str(DEFAULT_PAGE_SIZE)])[-1]
        if (
            not raw_size.isascii()
            or not raw_size.isdigit()
            or not (1 <= int(raw_size) <= MAX_PAGE_SIZE)
        ):
            return self._invalid(
                "page_size_is_invalid", f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}"
            )
        size = int(raw_size)
        token = query.get("page_token", [None])[-1]
        cursor = None
        if token is not None:
            cursor = _decode_token(token)
            if cursor is None:
                return self._invalid("page_token_is_invalid", "page_token is invalid")

        host = self.headers.get("Host") or self.server.space._host()
        space, project = self.server.space, self._project
        with space._lock:
            lo, hi = project.page(size, cursor)
            items = [render(project.id, rec, host) for rec in reversed(project.recs[lo:hi])]
            total = len(project.recs)
            next_key = project.keys[lo] if lo > 0 and lo < hi else None
            if hi < total:
                prev_token = _encode_token("prev", project.keys[hi - 1]) if lo < hi else None
            else:
                prev_token = None
        if hi < total and lo == hi and cursor is not None:
            # An empty page past the end: its prev is the last full page, boundary included.
            prev_token = _encode_token("prev_incl", (cursor[1], cursor[2]))

        def link(page_token: str | None) -> str:
            params = {"page_size": size}
            if page_token is not None:
                params["page_token"] = page_token
            return f"{LIST_PATH}?{urlencode(params)}"

        links = {"self": link(token), "first": link(None)}
        if next_key is not None:
            links["next"] = link(_encode_token("next", next_key))
        if prev_token is not None:
            links["prev"] = link(prev_token)
        self._json(200, {"links": links, "data": items})

    def _detail(self, rec_id: str) -> None:
        host = self.headers.get("Host") or self.server.space._host()
        with self.server.space._lock:
            rec = self._lookup(rec_id)
            body = render(self._project.id, rec, host) if rec is not None else None
        if body is None:
            return self._error(404)
        self._json(200, body)

    def _delete(self, rec_id: str) -> None:
        with self.server.space._lock:
            rec = self._lookup(rec_id)
            if rec is not None:
                self._project.remove(rec["id"])
        if rec is None:
            return self._error(404)
        self._send(204, b"", None)

    def _media(self, project_id: str, rec_id: str) -> None:
        if project_id != self._project.id:
            return self._error(404)  # another project's file: not found for these credentials
        with self.server.space._lock:
            rec = self._lookup(rec_id)
            if rec is not None:
                duration, stereo, seed = (
                    rec.get("duration_in_seconds"),
                    rec.get("stereo"),
                    rec["id"],
                )
        if rec is None:
            return self._error(404)
        if not isinstance(duration, int) or isinstance(duration, bool) or duration < 0:
            duration = 0  # an off-schema test recording: serve an empty but valid file
        stereo = stereo is True
        total = wav_size(duration, stereo)
        headers = {"Accept-Ranges": "bytes"}
        span = _parse_range(self.headers.get("Range"), total)
        if span == "unsatisfiable":
            headers["Content-Range"] = f"bytes */{total}"
            return self._send(416, b"", None, headers)
        start, end = span or (0, total - 1)
        self.send_response(206 if span else 200)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Accept-Ranges", "bytes")
        if span:
            self.send_header("Content-Range", f"bytes {start}-{end}/{total}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        if self.command == "HEAD":
            return
        for chunk in iter_wav(duration, stereo, seed, start, end):
            if not self._write(chunk):
                return


def _parse_range(header: str | None, total: int):
    """(start, end) for a single satisfiable byte range; None to serve the whole file (no or an
    unusable Range header, which HTTP says to ignore); "unsatisfiable" for a 416."""
    match = _RANGE.match((header or "").strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # suffix: the last n bytes
        n = int(last)
        return (max(0, total - n), total - 1) if n > 0 else "unsatisfiable"
    start = int(first)
    if last != "" and int(last) < start:
        return None  # syntactically invalid: ignored
    if start >= total:
        return "unsatisfiable"
    return start, total - 1 if last == "" else min(int(last), total - 1)
