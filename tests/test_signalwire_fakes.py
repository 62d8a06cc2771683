"""Small loopback stand-ins for SignalWire's hosts (and for hosts that are not
SignalWire's), for the client's own tests: each is a real HTTP server on 127.0.0.1
that answers from a table of routes and records every request it got, with the
credentials that came along (or that none did).

The demo space is the whole-app stand-in; these are for cases the client must get
right whatever the demo space does (which host gets credentials, both list formats,
paging edge cases), and the tests below check the stand-ins themselves.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

PROJECT_ID = "5b0a2c1e-7c3d-4e5f-8a9b-0c1d2e3f4a5b"
API_TOKEN = "PTfake-token-0123456789"
SPACE = "demo"
RELAY_PATH = "/api/relay/rest/recordings"
COMPAT_PATH = f"/api/laml/2010-04-01/Accounts/{PROJECT_ID}/Recordings"
WAV = b"RIFF" + bytes(40) + b"audio-bytes"


@dataclass
class Answer:
    status: int = 200
    body: bytes | dict | list | str = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str | None]:
        if isinstance(self.body, dict | list):
            return json.dumps(self.body).encode(), "application/json"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain"
        return self.body, "audio/wav" if self.body else None


@dataclass(frozen=True)
class Seen:
    """One request a fake host got. `user` is the Basic username, None without any."""

    method: str
    path: str
    query: dict[str, list[str]]
    user: str | None
    password: str | None
    range: str | None


Route = Answer | Callable[[Seen], Answer]


class FakeHost:
    """One HTTP server on loopback. `routes[(method, path)]` answers a request (query
    string aside); paths in `protected` answer 401 unless the fake's credentials came
    with the request, as SignalWire's protected media and its API do."""

    def __init__(self):
        self.routes: dict[tuple[str, str], Route] = {}
        self.protected: set[str] = set()
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def route(self, method: str, path: str, answer: Route) -> None:
        self.routes[(method, path)] = answer

    def requests_to(self, path: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.path == path]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, seen: Seen) -> Answer:
        if seen.path in self.protected and (seen.user, seen.password) != (PROJECT_ID, API_TOKEN):
            return Answer(401, {"error": "Unauthorized"})
        route = self.routes.get((seen.method, seen.path))
        if route is None:
            return Answer(404, {"error": "Not Found"})
        return route(seen) if callable(route) else route

    def _handler_class(self):
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self._serve("GET")

            def do_DELETE(self):
                self._serve("DELETE")

            def _serve(self, method: str):
                parts = urlsplit(self.path)
                user = password = None
                header = self.headers.get("Authorization", "")
                if header.startswith("Basic "):
                    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                seen = Seen(
                    method, parts.path, parse_qs(parts.query), user, password, self.headers["Range"]
                )
                with host._lock:
                    host.seen.append(seen)
                answer = host._answer(seen)
                body, content_type = answer.encoded()
                self.send_response(answer.status)
                if content_type and "Content-Type" not in answer.headers:
                    self.send_header("Content-Type", content_type)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if method != "HEAD":
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler


# ------------------------------------------------------------ upstream payloads


def uuid_for(family: str, number: int) -> str:
    prefix = {"relay": "a", "compat": "c"}[family]
    return f"{prefix * 8}-0000-4000-8000-{number:012d}"


def relay_recording(number: int, created_at: datetime | None, **fields) -> dict:
    raw = {
        "id": uuid_for("relay", number),
        "project_id": PROJECT_ID,
        "created_at": created_at.strftime("%Y-%m-%dT%H:%M:%SZ") if created_at else None,
        "updated_at": "2024-01-15T09:31:00Z",
        "duration_in_seconds": 12,
        "price": 0.05,
        "price_unit": "USD",
        "status": "completed",
        "url": f"https://files.signalwire.com/space/{PROJECT_ID}/recordings/r{number}.wav",
        "stereo": False,
        "track": "both",
        "relay_pstn_leg_id": "9b2f6c1e-0b0a-4c59-8d0e-3f0f2d1c7a12",
    }
    raw.update(fields)
    return raw


def compat_recording(number: int, created_at: datetime | None, **fields) -> dict:
    sid = uuid_for("compat", number)
    raw = {
        "sid": sid,
        "account_sid": PROJECT_ID,
        "api_version": "2010-04-01",
        "call_sid": "43bb71ee-553f-4074-bb20-8e2747647cce",
        "conference_sid": None,
        "channel": "1",
        "channels": "1",
        "date_created": format_datetime(created_at) if created_at else None,
        "date_updated": "Wed, 26 Sep 2018 23:00:04 +0000",
        "start_time": format_datetime(created_at) if created_at else None,
        "end_time": None,
        "duration": 4,
        "price": "-0.0025",
        "price_unit": "USD",
        "source": "RecordVerb",
        "status": "completed",
        "error_code": None,
        "uri": f"{COMPAT_PATH}/{sid}.json",
        "subresource_uris": {"transcriptions": f"{COMPAT_PATH}/{sid}/Transcriptions.json"},
        "encryption_details": None,
        "trim": "do-not-trim",
    }
    raw.update(fields)
    return raw


def times(count: int, start: datetime | None = None, step_minutes: int = 7) -> list[datetime]:
    """`count` moments, newest first."""
    start = start or datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    return [start - timedelta(minutes=step_minutes * i) for i in range(count)]


def relay_list(recordings: list[dict], shuffle_pages: bool = False) -> Callable[[Seen], Answer]:
    """RELAY's list of `recordings` in the order given, paged by `links` with an offset
    token; with `shuffle_pages` each page comes out in reverse (the order is not
    documented, so the client must not rely on it)."""

    def answer(seen: Seen) -> Answer:
        size = int(seen.query.get("page_size", ["50"])[0])
        offset = int(seen.query.get("page_token", ["t0"])[0][1:])
        data = recordings[offset : offset + size]
        if shuffle_pages:
            data = data[::-1]
        links = {"self": f"{RELAY_PATH}?page_size={size}&page_token=t{offset}"}
        links["first"] = f"{RELAY_PATH}?page_size={size}"
        if offset + size < len(recordings):
            links["next"] = f"{RELAY_PATH}?page_size={size}&page_token=t{offset + size}"
        if offset:
            links["prev"] = f"{RELAY_PATH}?page_size={size}&page_token=t{max(0, offset - size)}"
        return Answer(200, {"links": links, "data": data})

    return answer


def compat_list(recordings: list[dict], next_uri: str | None = None) -> Callable[[Seen], Answer]:
    """The Compatibility list of `recordings`, paged by `next_page_uri` (or, when given,
    that exact `next_uri` on the first page)."""

    def answer(seen: Seen) -> Answer:
        size = int(seen.query.get("PageSize", ["50"])[0])
        page = int(seen.query.get("Page", ["0"])[0])
        data = recordings[page * size : (page + 1) * size]

        def uri(number):
            return f"{COMPAT_PATH}?{urlencode({'Page': number, 'PageSize': size})}"

        following = (
            uri(page + 1) + f"&PageToken=PA{page}" if (page + 1) * size < len(recordings) else None
        )
        return Answer(
            200,
            {
                "uri": uri(page),
                "first_page_uri": COMPAT_PATH,
                "next_page_uri": next_uri if next_uri is not None else following,
                "previous_page_uri": uri(page - 1) if page else None,
                "page": page,
                "page_size": size,
                "recordings": data,
            },
        )

    return answer


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def space(settings):
    """The stand-in for https://demo.signalwire.com (SIGNALWIRE_BASE_URL)."""
    host = FakeHost()
    settings.SIGNALWIRE_BASE_URL = host.url
    settings.SIGNALWIRE_FILES_URL = ""
    yield host
    host.close()


@pytest.fixture
def files(settings, space):
    """The stand-in for https://files.signalwire.com (SIGNALWIRE_FILES_URL)."""
    host = FakeHost()
    settings.SIGNALWIRE_FILES_URL = host.url
    yield host
    host.close()


@pytest.fixture
def foreign():
    """A host that is not SignalWire's: storage somewhere else."""
    host = FakeHost()
    yield host
    host.close()


@pytest.fixture
def client(space):
    from recordings_app.signalwire import SignalWireClient

    return SignalWireClient(SPACE, PROJECT_ID, API_TOKEN)


# ------------------------------------------------------ the stand-ins themselves

pytestmark = pytest.mark.no_upstream


def test_a_fake_host_records_the_credentials_that_came(space):
    space.route("GET", "/x", Answer(200, b"ok"))
    requests.get(space.url + "/x?a=1", auth=(PROJECT_ID, API_TOKEN), timeout=5)
    requests.get(space.url + "/x", timeout=5)
    assert [(seen.user, seen.query) for seen in space.seen] == [
        (PROJECT_ID, {"a": ["1"]}),
        (None, {}),
    ]


def test_a_protected_path_wants_the_credentials(space):
    space.route("GET", "/media.wav", Answer(200, WAV))
    space.protected.add("/media.wav")
    assert requests.get(space.url + "/media.wav", timeout=5).status_code == 401
    answer = requests.get(space.url + "/media.wav", auth=(PROJECT_ID, API_TOKEN), timeout=5)
    assert answer.content == WAV


def test_the_fake_lists_page_through_every_recording(space):
    moments = times(7)
    space.route(
        "GET", COMPAT_PATH, compat_list([compat_recording(i, t) for i, t in enumerate(moments)])
    )
    sids, url = [], f"{space.url}{COMPAT_PATH}?PageSize=3"
    while url:
        body = requests.get(url, timeout=5).json()
        sids += [item["sid"] for item in body["recordings"]]
        url = body["next_page_uri"] and space.url + body["next_page_uri"]
    assert sids == [uuid_for("compat", i) for i in range(7)]
