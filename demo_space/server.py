"""A local stand-in for a SignalWire space: the recordings APIs and the media files.

Why: the dashboard must be developed, tested and benchmarked without a real account. This
server follows SignalWire's published OpenAPI descriptions of the recordings endpoints (field
names, types, error bodies) and adds knobs upstream lacks: faults, latency and request logs.

Three loopback servers make one space:
- the space's own host: the RELAY REST API, the Compatibility (cXML/LaML) API, and RELAY media
  at /media/<project id>/<id>.<ext>;
- the files host, standing in for https://files.signalwire.com, where real spaces keep media:
  /<space id>/<project id>/recordings/<id>.<ext>;
- a "foreign" host that is not SignalWire's at all, serving the same paths, so a test can
  prove that credentials never travel there.

What real spaces do differently from what the dashboard has been built against is switched
on by constructor arguments; their defaults keep the behaviour the dashboard knows.
"""

import base64
import binascii
import contextlib
import hmac
import json
import random
import re
import socket
import sys
import threading
import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple
from urllib.parse import parse_qs, urlencode, urlsplit

from . import data
from .compat_api import CompatibilityRoutes, call_sort_key, compat_sort_key
from .compressed_audio import MediaFile
from .data import canonical_id, compat_media, relay_format, relay_media
from .paging import page_bounds, page_tokens, read_token

LIST_PATH = "/api/relay/rest/recordings"
VOICE_LOGS_PATH = "/api/voice/logs"
VOICE_LOGS_DOCS = "https://signalwire.com/docs/apis/error-codes"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_MEDIA = re.compile(r"^/media/([^/]+)/([^/]+)\.(wav|mp3|mp4)$")
_FILES = re.compile(r"^/([^/]+)/([^/]+)/recordings/([^/]+)\.(wav|mp3|mp4)$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="SignalWire"'}

MEDIA_HOSTS = ("space", "files")
STATUS_WORDS = ("legacy", "real")
FORMATS = ("wav", "mixed")
RELAY_ORDERS = ("newest", "oldest")
HOSTS = ("space", "files", "foreign")


# ---- recordings store -------------------------------------------------------------------------


def _relay_sort_key(rec: dict) -> tuple[str, str]:
    """Listing order key (ascending). Tolerates off-schema test recordings."""
    created, rec_id = rec.get("created_at"), rec.get("id")
    return (created if isinstance(created, str) else "", rec_id if isinstance(rec_id, str) else "")


class _Shelf:
    """One family's recordings of a project, kept sorted (ascending) for keyset paging."""

    def __init__(self, recordings: list[dict], sort_key, id_key: str):
        self.sort_key, self.id_key = sort_key, id_key
        self.pristine = recordings
        self.load(recordings)

    def load(self, recordings: list[dict]) -> None:
        pairs = sorted(((self.sort_key(r), dict(r)) for r in recordings), key=lambda p: p[0])
        self.keys = [key for key, _ in pairs]
        self.recs = [rec for _, rec in pairs]
        self.by_id = {r[self.id_key]: r for r in self.recs if isinstance(r.get(self.id_key), str)}

    def add(self, rec: dict) -> None:
        key = self.sort_key(rec)
        index = bisect_right(self.keys, key)
        self.keys.insert(index, key)
        self.recs.insert(index, rec)
        if isinstance(rec.get(self.id_key), str):
            self.by_id[rec[self.id_key]] = rec

    def remove(self, rec_id: str) -> bool:
        rec = self.by_id.pop(rec_id, None)
        if rec is None:
            return False
        index = bisect_left(self.keys, self.sort_key(rec))
        while self.recs[index] is not rec:
            index += 1
        del self.keys[index], self.recs[index]
        return True

    def lookup(self, rec_id: str) -> dict | None:
        canonical = canonical_id(rec_id)
        return None if canonical is None else self.by_id.get(canonical)

    def pop(self, rec_id: str) -> dict | None:
        """The recording `rec_id` names (in any spelling of the id), taken off the shelf."""
        rec = self.lookup(rec_id)
        if rec is not None:
            self.remove(rec[self.id_key])
        return rec


class _Project:
    """One project's credentials, settings and recordings in both API families, with the
    voice logs of its RELAY legs and the calls of its Compatibility recordings."""

    def __init__(self, project_id, token, voice, relay, compat, calls, logs, protect_media):
        self.id, self.token, self.voice = project_id, token, voice
        self.relay = _Shelf(relay, _relay_sort_key, "id")
        self.compat = _Shelf(compat, compat_sort_key, "sid")
        self.calls = _Shelf(list(calls.values()), call_sort_key, "sid")
        self.voice_logs = _Shelf(logs, _relay_sort_key, "id")
        # Voice logs the list leaves out (a leg "missing" from voice logs), by id.
        self.unlisted_logs: set[str] = set()
        self.default_protect_media = protect_media
        self.protect_media = protect_media

    def reset(self) -> None:
        self.relay.load(self.relay.pristine)
        self.compat.load(self.compat.pristine)
        self.calls.load(self.calls.pristine)
        self.voice_logs.load(self.voice_logs.pristine)
        self.unlisted_logs.clear()
        self.protect_media = self.default_protect_media


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, not {value!r}")


# ---- faults and logs --------------------------------------------------------------------------


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
    host: str
    trickle_bytes_per_second: float | None = None

    def matches(self, host: str, method: str, path: str) -> bool:
        return (
            self.host == host
            and (self.method is None or self.method.upper() == method)
            and path.startswith(self.path_prefix)
        )

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        if self.body is None:
            if self.status is None or self.status < 400:
                return b""
            return json.dumps({"error": phrase(self.status)}).encode()
        return json.dumps(self.body).encode()


class LoggedRequest(NamedTuple):
    """One request to the files or the foreign host."""

    method: str
    path: str  # with the query
    username: str | None  # the Basic-auth username, if a readable Basic header came
    authorization: bool  # whether any Authorization header came at all


# ---- the space --------------------------------------------------------------------------------


class DemoSpace:
    """A SignalWire space on localhost, with three projects of seeded recordings.

    Start it with start() (or as a context manager); it serves from daemon threads.

    Switches, each defaulting to what the dashboard has been built against (`realistic=True`
    turns on the first four at once, unless they are given):
    - media_host: "space" serves RELAY media URLs on this host (/media/...); "files" gives them
      as https://files.signalwire.com/<space id>/<project id>/recordings/<id>.<ext>, which
      the files host (`files_url`) serves.
    - status_words: "legacy" (completed, failed, absent, in-progress) or "real" (finished,
      completed, no_input, error, recording, paused, and now and then an undocumented word).
    - formats: "wav", or "mixed": some RELAY recordings MP3, a few MP4.
    - public_media: False makes every project's media need its credentials; True gives the
      projects SignalWire's default, public media, except OTHER_PROJECT_ID, which protects it.
      protect_media() changes one project either way.
    - relay_order: "newest" or "oldest" first in the RELAY list.
    - scopeless_status: what a token without the Voice scope gets, 403 or 401.
    - compat_redirect: Compatibility media answers 302 to the files host.
    """

    def __init__(
        self,
        host="127.0.0.1",
        port=0,
        count=2000,
        latency=0.0,
        now=None,
        verbose=False,
        *,
        realistic=False,
        media_host=None,
        status_words=None,
        formats=None,
        public_media=None,
        relay_order="newest",
        scopeless_status=403,
        compat_redirect=False,
        files_port=0,
        foreign_port=0,
    ):
        self.host, self.port, self.latency, self.verbose = host, port, latency, verbose
        self.files_port, self.foreign_port = files_port, foreign_port
        self.now = data.as_utc(now)
        self.space_id = data.DEMO_SPACE_ID

        def pick(value, real, legacy):
            if value is not None:
                return value
            return real if realistic else legacy

        self.media_host = pick(media_host, "files", "space")
        self.status_words = pick(status_words, "real", "legacy")
        self.formats = pick(formats, "mixed", "wav")
        self.public_media = pick(public_media, True, False)
        self.relay_order, self.scopeless_status = relay_order, scopeless_status
        self.compat_redirect = compat_redirect
        _choice("media_host", self.media_host, MEDIA_HOSTS)
        _choice("status_words", self.status_words, STATUS_WORDS)
        _choice("formats", self.formats, FORMATS)
        _choice("relay_order", self.relay_order, RELAY_ORDERS)
        _choice("scopeless_status", self.scopeless_status, (401, 403))

        self._lock = threading.RLock()
        self._projects = {}
        for pid, token, voice, n, seed in (
            (data.DEMO_PROJECT_ID, data.DEMO_API_TOKEN, True, count, data.DEMO_SEED),
            (data.OTHER_PROJECT_ID, data.OTHER_API_TOKEN, True, data.OTHER_COUNT, data.OTHER_SEED),
            (
                data.NO_VOICE_PROJECT_ID,
                data.NO_VOICE_API_TOKEN,
                False,
                data.NO_VOICE_COUNT,
                data.NO_VOICE_SEED,
            ),
        ):
            relay = data.generate(pid, n, seed, self.now, self.status_words, self.formats)
            compat, calls = data.generate_compat(pid, round(n * data.COMPAT_SHARE), seed, self.now)
            data.renumber_calls(calls, seed)
            logs = data.generate_voice_logs(relay, seed)
            # SignalWire: media is public unless the project turns on *Protect Recording Media
            # URLs*; one project here does, so tests have both kinds.
            protect = not self.public_media or pid == data.OTHER_PROJECT_ID
            self._projects[pid] = _Project(pid, token, voice, relay, compat, calls, logs, protect)
        self._faults: list[_Fault] = []
        self._log: list[tuple[str, str, str | None]] = []
        self._host_logs: dict[str, list[LoggedRequest]] = {"files": [], "foreign": []}
        self._refusals: dict[tuple[str, str], int] = {}
        self._added = 0
        self._servers: dict[str, _Server] = {}
        self._threads: list[threading.Thread] = []

    # lifecycle

    def start(self) -> "DemoSpace":
        ports = {"space": self.port, "files": self.files_port, "foreign": self.foreign_port}
        for role in HOSTS:
            server = _Server((self.host, ports[role]), self, role)
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            thread.start()
            self._servers[role] = server
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        servers, self._servers = self._servers, {}
        for server in servers.values():
            server.shutdown()
            server.close_connections()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def __enter__(self) -> "DemoSpace":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _url(self, role: str) -> str:
        if role not in self._servers:
            raise RuntimeError("DemoSpace is not started")
        return f"http://{self.host}:{self._servers[role].server_address[1]}"

    @property
    def base_url(self) -> str:
        """The space's own host: https://<space>.signalwire.com upstream."""
        return self._url("space")

    @property
    def files_url(self) -> str:
        """The files host: https://files.signalwire.com upstream."""
        return self._url("files")

    @property
    def foreign_url(self) -> str:
        """A host that is not SignalWire's; it serves any recording's media to anyone."""
        return self._url("foreign")

    # data

    def reset(self) -> None:
        """Back to the seeded recordings and settings, with no faults and empty request logs."""
        with self._lock:
            for project in self._projects.values():
                project.reset()
            self._faults.clear()
            self._refusals.clear()
            self._log.clear()
            for log in self._host_logs.values():
                log.clear()
            self._added = 0

    def recordings(self, project_id: str) -> list[dict]:
        """The project's RELAY recordings in the order the list serves them (newest first
        unless relay_order="oldest"), as served to this base_url."""
        host = self._host()
        with self._lock:
            recs = self._projects[project_id].relay.recs
            ordered = reversed(recs) if self.relay_order == "newest" else list(recs)
            return [self.render(project_id, rec, host) for rec in ordered]

    def add_recording(
        self, project_id: str, *, media_format="wav", media_host=None, **overrides
    ) -> dict:
        """Add a RELAY recording (newer than all seeded ones); overrides may break the schema.

        media_format: "wav", "mp3" or "mp4". media_host pins where its URL points ("space",
        "files" or "foreign"); None follows the space's media_host.
        """
        _choice("media_format", media_format, ("wav", "mp3", "mp4"))
        if media_host is not None:
            _choice("media_host", media_host, HOSTS)
        with self._lock:
            project = self._projects[project_id]
            self._added += 1
            rec = data.extra_recording(
                project_id, self._added, self.now, overrides, media_format, media_host
            )
            project.relay.add(rec)
            return self.render(project.id, rec, self._host())

    def delete_recording(self, project_id: str, recording_id: str) -> bool:
        """Remove a RELAY recording as if deleted upstream by someone else."""
        with self._lock:
            return self._projects[project_id].relay.remove(recording_id)

    def compat_recordings(self, project_id: str) -> list[dict]:
        """The project's Compatibility (cXML) recordings, newest first, as served."""
        with self._lock:
            return [dict(rec) for rec in reversed(self._projects[project_id].compat.recs)]

    def add_compat_recording(self, project_id: str, **overrides) -> dict:
        """Add a Compatibility recording (newer than all seeded ones); MISSING removes a key."""
        with self._lock:
            project = self._projects[project_id]
            self._added += 1
            rec = data.extra_compat_recording(project_id, self._added, self.now, overrides)
            project.compat.add(rec)
            return dict(rec)

    def delete_compat_recording(self, project_id: str, sid: str) -> bool:
        with self._lock:
            return self._projects[project_id].compat.remove(sid)

    def call(self, project_id: str, sid: str) -> dict | None:
        """The Compatibility API's call of that sid, as GET .../Calls/{sid}.json serves it."""
        with self._lock:
            call = self._projects[project_id].calls.lookup(sid)
            return None if call is None else dict(call)

    def calls(self, project_id: str) -> list[dict]:
        """The project's Compatibility calls, newest first, as the Calls list serves them."""
        with self._lock:
            return [dict(call) for call in reversed(self._projects[project_id].calls.recs)]

    def add_call(self, project_id: str, sid: str, **fields) -> dict:
        """Add (or replace) the call of that sid: a seeded call's shape, with `fields` over it
        (a value of MISSING removes a key)."""
        with self._lock:
            project = self._projects[project_id]
            template = dict(project.calls.recs[0]) if project.calls.recs else {}
            project.calls.remove(sid)
            call = data.with_overrides(
                {
                    **template,
                    "sid": sid,
                    "uri": f"{data.COMPAT_ROOT}/{project_id}/Calls/{sid}.json",
                },
                fields,
            )
            project.calls.add(call)
            return dict(call)

    def voice_log(self, project_id: str, leg_id: str) -> dict | None:
        """The voice log of that leg id, as GET /api/voice/logs/{id} serves it."""
        with self._lock:
            log = self._projects[project_id].voice_logs.lookup(leg_id)
            return None if log is None else dict(log)

    def voice_logs(self, project_id: str) -> list[dict]:
        """The project's voice logs, newest first, as the list serves them (unlisted ones
        left out)."""
        with self._lock:
            project = self._projects[project_id]
            return [
                dict(log)
                for log in reversed(project.voice_logs.recs)
                if log["id"] not in project.unlisted_logs
            ]

    def add_voice_log(self, project_id: str, leg_id: str, **fields) -> dict:
        """Add (or replace) the voice log of a leg: a PSTN leg created at the space's `now`
        unless `fields` say otherwise (MISSING removes a key)."""
        rng = random.Random(f"voice-log:{leg_id}")
        log = data.voice_log(rng, leg_id, "relay_pstn_call", self.now, 60)
        log = data.with_overrides(log, fields)
        with self._lock:
            shelf = self._projects[project_id].voice_logs
            shelf.remove(leg_id)
            shelf.add(log)
        return dict(log)

    def hide_voice_log(self, project_id: str, leg_id: str, lookup_too: bool = False) -> None:
        """SignalWire may miss a leg: leave it out of the list (until reset()), and with
        `lookup_too` answer 404 for it by id as well."""
        with self._lock:
            project = self._projects[project_id]
            if lookup_too:
                project.voice_logs.remove(leg_id)
            else:
                project.unlisted_logs.add(leg_id)

    def refuse_voice_logs(self, project_id: str, status: int = 403) -> None:
        """The project's token gets `status` from voice logs (until reset()): a token without
        the scope for them, though it reads recordings."""
        with self._lock:
            self._refusals[(project_id, "voice_logs")] = status

    def refuse_calls(self, project_id: str, status: int = 403) -> None:
        """The project's token gets `status` from the Compatibility Calls (until reset())."""
        with self._lock:
            self._refusals[(project_id, "calls")] = status

    # settings a test changes

    def protect_media(self, project_id: str, protected: bool = True) -> None:
        """Turn the project's *Protect Recording Media URLs* on or off (until reset())."""
        with self._lock:
            self._projects[project_id].protect_media = protected

    def media_protected(self, project_id: str) -> bool:
        with self._lock:
            return self._projects[project_id].protect_media

    def refuse_compat(self, project_id: str, status: int = 401) -> None:
        """The project's token gets `status` from the Compatibility API (until reset())."""
        with self._lock:
            self._refusals[(project_id, "compat")] = status

    def refuse_relay(self, project_id: str, status: int = 401) -> None:
        """The project's token gets `status` from the RELAY API (until reset())."""
        with self._lock:
            self._refusals[(project_id, "relay")] = status

    def _refusal(self, project_id: str, family: str) -> int | None:
        with self._lock:
            return self._refusals.get((project_id, family))

    # URLs

    def _host(self) -> str:
        server = self._servers.get("space")
        port = server.server_address[1] if server else self.port
        return f"{self.host}:{port}"

    def media_path(self, project_id: str, rec_id, media_format: str) -> str:
        """The path of a recording's file on the files (and foreign) host."""
        return f"/{self.space_id}/{project_id}/recordings/{rec_id}.{media_format}"

    def render(self, project_id: str, rec: dict, host: str) -> dict:
        """The JSON dict served for a stored RELAY recording: media URL and size filled in."""
        out = dict(rec)
        media = out.get("url")
        if isinstance(media, data.MediaUrl):
            where = media.host or self.media_host
            path = self.media_path(project_id, rec.get("id"), media.format)
            if where == "files":
                out["url"] = f"https://{data.FILES_HOST}{path}"
            elif where == "foreign":
                out["url"] = self._url("foreign") + path
            else:
                out["url"] = f"http://{host}/media/{project_id}/{rec.get('id')}.{media.format}"
        if out.get("byte_size") is data.AUTO_SIZE:
            out["byte_size"] = relay_media(rec).size
        return out

    # faults and the request logs

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
        host="space",
        trickle_bytes_per_second=None,
    ) -> None:
        """Answer the next matching requests differently: how a test makes upstream misbehave.

        Matching: the `host` ("space", "files" or "foreign"), `method` (None = any) and the
        path with query starting with `path_prefix`; the first matching fault wins, `times`
        times (None = forever). The request first sleeps `delay` seconds; then with a
        `status` it gets that status, `body` (str, bytes, or JSON for anything else; None =
        {"error": <reason phrase>} for 4xx/5xx), `headers` and `content_type`. Without a
        status it is served normally after the delay, its body cut off (connection closed)
        after `drop_after_bytes` bytes if that is set. With `trickle_bytes_per_second` the
        headers go out at once and the body (the fault's or the normal one) follows at that
        rate, in pieces of a tenth of a second's worth (at least a byte): a slow or hostile
        upstream that never pauses long enough to trip a read timeout.
        """
        if trickle_bytes_per_second is not None and trickle_bytes_per_second <= 0:
            raise ValueError("trickle_bytes_per_second must be positive")
        _choice("host", host, HOSTS)
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
            host,
            trickle_bytes_per_second,
        )
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, host: str, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(host, method, path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    @property
    def request_log(self) -> list[tuple[str, str, str | None]]:
        """A snapshot of the space host's: (method, path with query, Basic-auth username or
        None) per request."""
        with self._lock:
            return list(self._log)

    @property
    def files_request_log(self) -> list[LoggedRequest]:
        """A snapshot of the files host's requests, with whether credentials came."""
        with self._lock:
            return list(self._host_logs["files"])

    @property
    def foreign_request_log(self) -> list[LoggedRequest]:
        """A snapshot of the foreign host's requests, with whether credentials came."""
        with self._lock:
            return list(self._host_logs["foreign"])

    def clear_request_log(self) -> None:
        """Empties the logs of all three hosts."""
        with self._lock:
            self._log.clear()
            for log in self._host_logs.values():
                log.clear()

    def _record(self, role: str, method: str, path: str, username, authorization: bool) -> None:
        with self._lock:
            if role == "space":
                self._log.append((method, path, username))
            else:
                self._host_logs[role].append(LoggedRequest(method, path, username, authorization))


# ---- HTTP -------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: a burst of listeners starting at once
    # then lost SYNs and waited the kernel's 1 s (then 3 s) retransmit, a stall that
    # SignalWire's own servers do not cause.
    request_queue_size = 128

    def __init__(self, address, space: DemoSpace, role: str):
        super().__init__(address, _Handler)
        self.space, self.role = space, role
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


class _Handler(CompatibilityRoutes, BaseHTTPRequestHandler):
    # SignalWire: HTTP/1.1 with keep-alive, so a pooled requests.Session reuses connections.
    protocol_version = "HTTP/1.1"
    server_version = "DemoSpace/1.0"
    # Headers and body go out in separate writes: without this, Nagle's algorithm and delayed
    # ACKs add ~40 ms to every answer, which would swamp any benchmark.
    disable_nagle_algorithm = True
    server: _Server
    _project: _Project | None  # whose valid credentials the request carries (_dispatch)

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
        space, role = self.server.space, self.server.role
        self._budget = None  # body bytes left before a drop_after_bytes fault cuts the line
        self._trickle = None  # body bytes per second, for a trickle_bytes_per_second fault
        self._discard_request_body()
        self._project, username = self._authenticate()
        space._record(role, self.command, self.path, username, "Authorization" in self.headers)
        try:
            fault = space._take_fault(role, self.command, self.path)
            if fault is not None:
                if fault.delay:
                    time.sleep(fault.delay)
                self._trickle = fault.trickle_bytes_per_second
                if fault.status is not None:
                    self._send(fault.status, fault.payload(), fault.content_type, fault.headers)
                    return
                self._budget = fault.drop_after_bytes
            if role == "space":
                self._route()
            else:
                self._route_files()
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
        if self._trickle is None:
            self.wfile.write(body)
            return True
        piece = max(1, int(self._trickle / 10))
        for start in range(0, len(body), piece):
            time.sleep(piece / self._trickle)
            self.wfile.write(body[start : start + piece])
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
        if status == 401:
            headers = {**_CHALLENGE, **(headers or {})}  # SignalWire: 401 with a Basic challenge
        self._json(status, {"error": phrase(status)}, headers)

    def _invalid(self, code: str, detail: str) -> None:
        # SignalWire: 422 {"errors": [{"detail", "status", "title", "code"}]}
        error = {"detail": detail, "status": "422", "title": "Invalid Parameter", "code": code}
        self._json(422, {"errors": [error]})

    def _refused(self, family: str, error) -> bool:
        """Basic auth with the Voice scope, and the family not refused to the project; answers
        through `error(status)` and returns True when the request may not go on."""
        space = self.server.space
        if self._project is None:
            error(401)
            return True
        if not self._project.voice:
            error(space.scopeless_status)  # SignalWire: the token lacks the Voice scope
            return True
        refusal = space._refusal(self._project.id, family) if family else None
        if refusal is not None:
            error(refusal)
            return True
        return False

    def _caller(self) -> _Project:
        """The request's project, once `_refused` has let it through."""
        assert self._project is not None, "asked before _refused() let the request in"
        return self._project

    def _media_refused(self, project: _Project, error) -> bool:
        """SignalWire: public media goes to anyone (credentials or not, right or wrong);
        protected media needs that project's credentials, as the API does."""
        if not self.server.space.media_protected(project.id):
            return False
        if self._refused("", error):
            return True
        if self._project is not project:
            error(404)  # another project's file: not found for these credentials
            return True
        return False

    # routes

    def _route(self) -> None:
        path = urlsplit(self.path).path
        method = self.command
        space = self.server.space
        if path == LIST_PATH or (path.startswith(LIST_PATH + "/") and path.count("/") == 5):
            allowed = ("GET",) if path == LIST_PATH else ("GET", "DELETE")
            if method not in allowed:
                return self._error(405, {"Allow": ", ".join(allowed)})
            if space.latency:
                time.sleep(space.latency)
            if self._refused("relay", self._error):
                return
            if path == LIST_PATH:
                return self._list()
            rec_id = path.rsplit("/", 1)[1]
            return self._detail(rec_id) if method == "GET" else self._delete(rec_id)
        if path == VOICE_LOGS_PATH or (
            path.startswith(VOICE_LOGS_PATH + "/") and path.count("/") == 4
        ):
            if method != "GET":
                return self._error(405, {"Allow": "GET"})
            if space.latency:
                time.sleep(space.latency)
            if self._refused("voice_logs", self._error):
                return
            if path == VOICE_LOGS_PATH:
                return self._voice_log_list()
            return self._voice_log(path.rsplit("/", 1)[1])
        if path.startswith(data.COMPAT_ROOT + "/"):
            return self._compat_route(path)
        media = _MEDIA.match(path)
        if media:
            if method not in ("GET", "HEAD"):
                return self._error(405, {"Allow": "GET, HEAD"})
            project_id, rec_id, ext = media.groups()
            return self._relay_media(project_id, rec_id, ext, compat=False)
        if _FILES.match(path):
            # The files host's paths here too: a client told only this base URL may send
            # files.signalwire.com's requests to it.
            return self._route_files()
        self._error(404)

    def _route_files(self) -> None:
        """Media at files.signalwire.com's paths: all the files and the foreign host serve."""
        match = _FILES.match(urlsplit(self.path).path)
        if not match or match.group(1) != self.server.space.space_id:
            return self._error(404)
        if self.command not in ("GET", "HEAD"):
            return self._error(405, {"Allow": "GET, HEAD"})
        _, project_id, rec_id, ext = match.groups()
        self._relay_media(project_id, rec_id, ext, compat=True)

    def _relay_media(self, project_id: str, rec_id: str, ext: str, compat: bool) -> None:
        """A recording's file; on the files and foreign hosts Compatibility recordings too."""
        space, foreign = self.server.space, self.server.role == "foreign"
        project = space._projects.get(project_id)
        if project is None:
            # Credentials first, as for a file of another project, unless media is public.
            if foreign or space.public_media or not self._refused("", self._error):
                self._error(404)
            return
        if not foreign and self._media_refused(project, self._error):
            return
        with space._lock:  # copies: encoding (outside the lock) may take a moment
            relay_rec, compat_rec = project.relay.lookup(rec_id), None
            relay_rec = None if relay_rec is None else dict(relay_rec)
            if relay_rec is None and compat:
                compat_rec = project.compat.lookup(rec_id)
                compat_rec = None if compat_rec is None else dict(compat_rec)
        if relay_rec is not None and relay_format(relay_rec) == ext:
            self._serve_media(relay_media(relay_rec))
        elif compat_rec is not None and ext in ("wav", "mp3"):
            self._serve_media(compat_media(compat_rec, ext))
        else:
            self._error(404)  # SignalWire: a RELAY file exists in its own format only

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
            cursor = read_token(token)
            if cursor is None:
                return self._invalid("page_token_is_invalid", "page_token is invalid")

        host = self.headers.get("Host") or self.server.space._host()
        space, shelf = self.server.space, self._caller().relay
        newest_first = space.relay_order == "newest"
        with space._lock:
            lo, hi = page_bounds(shelf.keys, size, cursor, newest_first)
            page = shelf.recs[lo:hi]
            items = [
                space.render(self._caller().id, rec, host)
                for rec in (reversed(page) if newest_first else page)
            ]
            next_token, prev_token = page_tokens(shelf.keys, lo, hi, cursor, newest_first)

        self._relay_page(LIST_PATH, {"page_size": size}, token, next_token, prev_token, items)

    def _detail(self, rec_id: str) -> None:
        host = self.headers.get("Host") or self.server.space._host()
        space = self.server.space
        with space._lock:
            rec = self._caller().relay.lookup(rec_id)
            body = space.render(self._caller().id, rec, host) if rec is not None else None
        if body is None:
            return self._error(404)
        self._json(200, body)

    def _voice_log_invalid(self, attribute: str, message: str) -> None:
        # SignalWire (voice logs): 422 {"errors": [{"type", "code", "message", "attribute", "url"}]}
        error = {
            "type": "validation_error",
            "code": "invalid_parameter",
            "message": message,
            "attribute": attribute,
            "url": VOICE_LOGS_DOCS,
        }
        self._json(422, {"errors": [error]})

    def _voice_log_list(self) -> None:
        """GET /api/voice/logs: newest first, keyset pages of up to 1,000, filtered by
        created_after / created_before (inclusive; ISO 8601 or YYYY-MM-DD) or created_on."""
        query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)

        def last(name):
            values = query.get(name)
            return values[-1] if values else None

        raw_size = last("page_size") or str(DEFAULT_PAGE_SIZE)
        if not (raw_size.isascii() and raw_size.isdigit() and 1 <= int(raw_size) <= MAX_PAGE_SIZE):
            return self._voice_log_invalid("page_size", "Parameter value is invalid")
        size = int(raw_size)
        token, cursor = last("page_token"), None
        if token is not None:
            cursor = read_token(token)
            if cursor is None:
                return self._voice_log_invalid("page_token", "Parameter value is invalid")
        bounds = {}
        for name in ("created_after", "created_before", "created_on"):
            value = last(name)
            if value is None:
                continue
            moment = data.parse_moment(value)
            if moment is None:
                return self._voice_log_invalid(name, "Parameter value is invalid")
            bounds[name] = moment
        space, project = self.server.space, self._caller()
        with space._lock:
            shelf = project.voice_logs
            lo, hi = 0, len(shelf.keys)
            if "created_after" in bounds:
                lo = bisect_left(shelf.keys, (bounds["created_after"], ""))
            if "created_before" in bounds:
                before = bounds["created_before"]
                before += "\uffff" if len(before) == 10 else ""  # a day: all of it
                hi = bisect_right(shelf.keys, (before, "\uffff"))
            if "created_on" in bounds:
                day = bounds["created_on"][:10]
                lo = max(lo, bisect_left(shelf.keys, (day, "")))
                hi = min(hi, bisect_left(shelf.keys, (day + "\uffff", "")))
            pairs = [
                (key, log)
                for key, log in zip(shelf.keys[lo:hi], shelf.recs[lo:hi], strict=True)
                if log["id"] not in project.unlisted_logs
            ]
            keys = [key for key, _ in pairs]
            first, last_ = page_bounds(keys, size, cursor)
            items = [dict(log) for _, log in reversed(pairs[first:last_])]
            next_token, prev_token = page_tokens(keys, first, last_, cursor)

        # Not `query`: last() reads the request's query, which the links carry on.
        carried: dict[str, int | str] = {"page_size": size}
        for name in ("created_after", "created_before", "created_on"):
            if last(name) is not None:
                carried[name] = last(name)
        self._relay_page(VOICE_LOGS_PATH, carried, token, next_token, prev_token, items)

    def _relay_page(self, path, query, token, next_token, prev_token, items) -> None:
        """A page as RELAY REST lists answer (recordings, voice logs): `data`, and `links`
        whose URLs carry the list's own query on, with the page token."""

        def link(page_token: str | None) -> str:
            params = dict(query)
            if page_token is not None:
                params["page_token"] = page_token
            return f"{path}?{urlencode(params)}"

        links = {"self": link(token), "first": link(None)}
        if next_token is not None:
            links["next"] = link(next_token)
        if prev_token is not None:
            links["prev"] = link(prev_token)
        self._json(200, {"links": links, "data": items})

    def _voice_log(self, leg_id: str) -> None:
        with self.server.space._lock:
            log = self._caller().voice_logs.lookup(leg_id)
            body = None if log is None else dict(log)
        if body is None:
            return self._error(404)
        self._json(200, body)

    def _delete(self, rec_id: str) -> None:
        with self.server.space._lock:
            rec = self._caller().relay.pop(rec_id)
        if rec is None:
            return self._error(404)
        self._send(204, b"", None)

    def _serve_media(self, media: MediaFile) -> None:
        """The file, or the one byte range asked for (206), or 416; HEAD gets the headers."""
        total = media.size
        span = _parse_range(self.headers.get("Range"), total)
        if span == "unsatisfiable":
            headers = {"Accept-Ranges": "bytes", "Content-Range": f"bytes */{total}"}
            return self._send(416, b"", None, headers)
        start, end = span or (0, total - 1)
        self.send_response(206 if span else 200)
        self.send_header("Content-Type", media.content_type)
        self.send_header("Accept-Ranges", "bytes")
        if span:
            self.send_header("Content-Range", f"bytes {start}-{end}/{total}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        if self.command == "HEAD":
            return
        for chunk in media.iter_range(start, end):
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
