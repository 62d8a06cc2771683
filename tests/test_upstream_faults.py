"""Every upstream failure, on every page that talks to SignalWire (list, detail, audio,
download, delete), reaches the user as a specific message and a fitting status, never a
500 or a traceback; and which failures are retried, and for how long.

Faults come from the demo space over HTTP, and from real sockets on loopback (a port
with nothing listening, a listener whose backlog is full). README.md lists the same
matrix as the user sees it."""

import contextlib
import re
import socket
import time

import pytest

from demo_space import DEMO_PROJECT_ID
from recordings_app.models import Credential
from tests.conftest import body, page_link, text, upstream_gets

LIST_PATH = "/api/relay/rest/recordings"
SURFACES = ("list", "detail", "audio", "download", "delete")
# The cases about the answer's body: on audio and download they hit the recording's
# details, read before the media file (which has no body to misread).
BODY_CASES = ("not JSON", "JSON that does not parse", "wrong JSON shape", "list data not a list")

MARKUP_DETAIL = "page_size <script>alert(1)</script> is invalid"
CASES = {
    # case: (fault, status shown [list, detail, audio, download, delete], words shown);
    # a status of None: the case does not apply to that page.
    "401": ({"status": 401}, (502, 502, 502, 502, 502), "SignalWire answered 401"),
    "403": ({"status": 403}, (502, 502, 502, 502, 502), "Voice scope"),
    "404": ({"status": 404}, (502, 404, 404, 404, 302), None),
    "422": (
        {
            "status": 422,
            "body": {
                "errors": [
                    {"detail": MARKUP_DETAIL, "status": "422", "title": "Invalid", "code": "x"}
                ]
            },
        },
        (502,) * 5,
        "SignalWire said: page_size &lt;script&gt;alert(1)&lt;/script&gt; is invalid",
    ),
    "429": (
        {"status": 429, "headers": {"Retry-After": "30"}},
        (503,) * 5,
        "Try again in 30 seconds",
    ),
    "500": ({"status": 500}, (502,) * 5, "answered with an error (500)"),
    "502": (
        {"status": 502, "body": "<html>bad gateway</html>"},
        (502,) * 5,
        "answered with an error (502)",
    ),
    "503": ({"status": 503, "body": ""}, (502,) * 5, "answered with an error (503)"),
    "read timeout": ({"delay": 2.0}, (504,) * 5, "did not answer within 1 second."),
    # A DELETE answer has no body to read: the body cases do not apply to it.
    "not JSON": (
        {"status": 200, "body": "<html>maintenance</html>", "content_type": "text/html"},
        (502, 502, 502, 502, None),
        "not in the documented format",
    ),
    "JSON that does not parse": (
        {"status": 200, "body": "this is not json"},  # served as application/json
        (502, 502, 502, 502, None),
        "not in the documented format",
    ),
    "wrong JSON shape": (
        {"status": 200, "body": ["a", "list"]},
        (502, 502, 502, 502, None),
        "not in the documented format",
    ),
    "list data not a list": (
        {"status": 200, "body": {"links": {}, "data": "nope"}},
        (502, None, None, None, None),
        "not in the documented format",
    ),
}
NOT_FOUND_WORDS = {
    "list": "No SignalWire space answers at",
    "detail": "Recording not found",
    "audio": "Recording not found",
    "download": "Recording not found",
    "delete": "was already deleted",
}


@pytest.fixture
def recording(demo_space):
    return next(r for r in demo_space.recordings(DEMO_PROJECT_ID) if r["status"] == "completed")


def hit(client, surface, recording_id):
    base = f"/recordings/{recording_id}/"
    if surface == "list":
        return client.get("/recordings/")
    if surface == "detail":
        return client.get(base)
    if surface == "audio":
        return client.get(base + "audio/")
    if surface == "download":
        return client.get(base + "audio/?download=1")
    return client.post(base + "delete/")


def fault_place(surface, case, recording_id) -> dict:
    """Which upstream request the fault hits: the one the page exists for. The list: every
    list request it makes. Audio and download read the recording first, then the media
    file; body faults hit the first."""
    if surface == "list":
        return {"method": "GET", "path_prefix": "/api/"}
    if surface == "detail" or (surface in ("audio", "download") and case in BODY_CASES):
        return {"method": "GET", "path_prefix": f"{LIST_PATH}/{recording_id}"}
    if surface in ("audio", "download"):
        return {"method": "GET", "path_prefix": "/media/"}
    return {"method": "DELETE"}


def still_listed(demo_space, recording_id) -> bool:
    return recording_id in {r["id"] for r in demo_space.recordings(DEMO_PROJECT_ID)}


MATRIX = [
    (case, surface)
    for case, (_, statuses, _) in CASES.items()
    for surface, shown in zip(SURFACES, statuses, strict=True)
    if shown is not None
]


@pytest.mark.parametrize(("case", "surface"), MATRIX)
def test_each_upstream_fault_shows_its_own_message(
    alice_client, demo_space, recording, surface, case
):
    fault, statuses, words = CASES[case]
    shown = statuses[SURFACES.index(surface)]
    demo_space.add_fault(**fault, **fault_place(surface, case, recording["id"]))
    response = hit(alice_client, surface, recording["id"])
    if surface == "delete" and case == "404":
        assert response.status_code == 302
        response = alice_client.get(response["Location"])
    else:
        assert response.status_code == shown
    html = text(response)
    assert (words or NOT_FOUND_WORDS[surface]) in html
    assert "Traceback" not in html and "<script>alert" not in html
    if case == "429":
        assert response["Retry-After"] == "30"
    if surface == "delete" and case not in ("404", "read timeout"):
        assert "It was not deleted" in html
        assert still_listed(demo_space, recording["id"])


@pytest.mark.parametrize("suffix", ["audio/", "delete/"])
@pytest.mark.parametrize(
    ("status", "shown", "message"),
    [
        (404, 404, "Recording not found"),
        (500, 502, "answered with an error (500)"),
        (401, 502, "SignalWire answered 401"),
    ],
)
def test_recording_pages_show_upstream_failures(
    alice_client, demo_space, suffix, status, shown, message
):
    # The recording's own details fail, before the audio is fetched or the delete is
    # confirmed (the matrix above faults the media file and the DELETE itself).
    recording_id = demo_space.recordings(DEMO_PROJECT_ID)[0]["id"]
    demo_space.add_fault(status=status, body={"error": "x"}, path_prefix="/api/")
    response = alice_client.get(f"/recordings/{recording_id}/{suffix}")
    assert response.status_code == shown
    assert message in text(response)


def test_a_delete_that_timed_out_says_it_may_have_happened(alice_client, demo_space, recording):
    demo_space.add_fault(delay=2.0, method="DELETE")
    html = text(alice_client.post(f"/recordings/{recording['id']}/delete/"))
    assert "It may or may not have been deleted" in html
    assert "It was not deleted" not in html


# ------------------------------------------------------------------ how it is shown


def test_an_upstream_failure_does_not_blame_the_credentials(alice_client, demo_space):
    demo_space.add_fault(status=500, body={"error": "Internal Server Error"})
    html = text(alice_client.get("/recordings/"))
    assert "SignalWire had a problem" in html and "Check your credentials" not in html


def test_revoked_credentials_point_to_the_credentials_page(alice_client, alice):
    credential = Credential.objects.get(user=alice)
    credential.set_token("PTrevoked-token-9999")
    credential.save()
    html = text(alice_client.get("/recordings/"))
    assert "SignalWire answered 401" in html and 'href="/credentials/"' in html


def test_htmx_requests_get_the_message_alone(alice_client, demo_space):
    demo_space.add_fault(status=500, body={})
    response = alice_client.get("/recordings/", headers={"HX-Request": "true"})
    html = text(response)
    assert response.status_code == 502
    assert html.lstrip().startswith('<section class="problem"') and "<html" not in html


# --------------------------------------------------------- faults below HTTP, on sockets


@pytest.fixture
def refusing_upstream(settings):
    """A loopback port with nothing listening: the connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SIGNALWIRE_BASE_URL = f"http://127.0.0.1:{port}"


@pytest.fixture
def unresponsive_upstream(settings):
    """A listener whose accept backlog is full: the kernel drops further SYNs, so a real
    connect times out (no mock needed)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.1)
    settings.SIGNALWIRE_BASE_URL = f"http://127.0.0.1:{port}"
    yield
    for sock in [*fillers, listener]:
        sock.close()


@pytest.mark.parametrize("surface", SURFACES)
def test_connection_refused_says_signalwire_is_unreachable(
    alice_client, refusing_upstream, recording, surface
):
    response = hit(alice_client, surface, recording["id"])
    assert response.status_code == 503
    assert "could not connect to SignalWire" in text(response)
    if surface == "delete":
        assert "It was not deleted" in text(response)


@pytest.mark.parametrize("surface", SURFACES)
def test_a_connect_timeout_says_signalwire_accepts_no_connections(
    alice_client, unresponsive_upstream, recording, surface
):
    started = time.monotonic()
    response = hit(alice_client, surface, recording["id"])
    assert response.status_code == 504
    assert "did not accept a connection within 1 second." in text(response)
    assert time.monotonic() - started < 3
    if surface == "delete":
        assert "It was not deleted" in text(response)


# ----------------------------------------------------------------------- retry policy


def relay_list_gets(demo_space) -> int:
    return sum(1 for _, path, _ in demo_space.request_log if path.startswith(LIST_PATH))


def test_a_passing_500_is_retried_and_the_page_works(alice_client, demo_space):
    demo_space.add_fault(
        status=500, body={"error": "Internal Server Error"}, times=1, path_prefix=LIST_PATH
    )
    response = alice_client.get("/recordings/")
    assert response.status_code == 200
    assert relay_list_gets(demo_space) == 2
    # and the Compatibility list, once; and one window each of voice logs and calls
    assert upstream_gets(demo_space) == 5


def test_a_429_is_retried_after_the_time_upstream_asks_within_the_budget(alice_client, demo_space):
    demo_space.add_fault(status=429, headers={"Retry-After": "1"}, times=1, path_prefix=LIST_PATH)
    started = time.monotonic()
    response = alice_client.get("/recordings/")
    assert response.status_code == 200
    assert time.monotonic() - started >= 1.0
    assert relay_list_gets(demo_space) == 2


def test_a_429_asking_for_longer_than_the_budget_is_passed_on_at_once(alice_client, demo_space):
    demo_space.add_fault(status=429, headers={"Retry-After": "30"})
    started = time.monotonic()
    response = alice_client.get("/recordings/")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert time.monotonic() - started < 1.0
    assert relay_list_gets(demo_space) == 1
    assert len(demo_space.request_log) == 2  # one request per API family, neither retried


def test_retry_after_as_an_http_date_is_understood(alice_client, demo_space):
    from email.utils import format_datetime

    from django.utils import timezone

    when = format_datetime(timezone.now() + timezone.timedelta(seconds=120), usegmt=True)
    demo_space.add_fault(status=429, headers={"Retry-After": when})
    response = alice_client.get("/recordings/")
    assert 118 <= int(response["Retry-After"]) <= 121


def test_5xx_is_retried_with_backoff_until_the_budget_runs_out(alice_client, demo_space):
    demo_space.add_fault(status=503, body="", path_prefix=LIST_PATH)
    started = time.monotonic()
    response = alice_client.get("/recordings/")
    elapsed = time.monotonic() - started
    assert response.status_code == 502
    attempts = relay_list_gets(demo_space)
    assert 2 <= attempts <= 4  # MAX_ATTEMPTS, or fewer when the 1.5 s budget ends first
    assert elapsed < 1.5 + 1.0


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_a_delete_is_never_retried(alice_client, demo_space, recording, status):
    demo_space.add_fault(status=status, method="DELETE", times=1)
    response = alice_client.post(f"/recordings/{recording['id']}/delete/")
    assert "It was not deleted" in text(response)
    assert [m for m, _, _ in demo_space.request_log if m == "DELETE"] == ["DELETE"]
    assert still_listed(demo_space, recording["id"])


# ------------------------------------------------------------------ data that is off


def test_a_page_of_1000_recordings_shows_every_row_page_by_page(alice_client, demo_space):
    # Upstream may send more than asked for: every row is shown once, in its order, in
    # pages of the size the user chose.
    data = demo_space.recordings(DEMO_PROJECT_ID)[:1000]
    demo_space.add_fault(status=200, body={"links": {}, "data": data}, path_prefix=LIST_PATH)
    for raw in demo_space.compat_recordings(DEMO_PROJECT_ID):
        demo_space.delete_compat_recording(DEMO_PROJECT_ID, raw["sid"])
    shown, url = [], "/recordings/?size=250"
    while url:
        response = alice_client.get(url)
        assert response.status_code == 200
        html = text(response)
        rows = html.split("<tbody>")[1].split("</tbody>")[0]
        shown += re.findall(r'href="/recordings/([0-9a-f-]{36})/"', rows)
        assert "<strong>250</strong> recordings" in html
        link = page_link(html, "next")
        url = "/recordings/" + link if link else None
    assert shown == [raw["id"] for raw in data]


def test_recordings_with_missing_or_wrong_fields_render_what_is_valid(alice_client, demo_space):
    broken = demo_space.add_recording(
        DEMO_PROJECT_ID, price="free", duration_in_seconds=-3, stereo="yes", created_at="yesterday"
    )
    html = text(alice_client.get("/recordings/"))
    assert "⚠ incomplete" in html and "Missing or invalid: created_at, duration_in_seconds" in html
    detail = alice_client.get(f"/recordings/{broken['id']}/")
    assert detail.status_code == 200
    page = text(detail)
    assert "missing or invalid fields: created_at, duration_in_seconds, price, stereo" in page
    assert broken["track"] in page and broken["status"] in page


def test_a_recording_without_an_audio_url_says_there_is_none(alice_client, demo_space):
    raw = demo_space.add_recording(DEMO_PROJECT_ID, url=None)
    response = alice_client.get(f"/recordings/{raw['id']}/audio/")
    assert response.status_code == 404
    assert "SignalWire gave no audio file for this recording." in text(response)


def test_a_detail_answer_without_an_id_is_unreadable(alice_client, demo_space, recording):
    demo_space.add_fault(status=200, body={"status": "completed"}, path_prefix=f"{LIST_PATH}/")
    response = alice_client.get(f"/recordings/{recording['id']}/")
    assert response.status_code == 502
    assert "not in the documented format" in text(response)


@pytest.mark.parametrize("download", [False, True])
def test_a_media_stream_that_breaks_off_ends_short_without_an_error(
    alice_client, demo_space, recording, download
):
    demo_space.add_fault(drop_after_bytes=100_000, path_prefix="/media/")
    url = f"/recordings/{recording['id']}/audio/" + ("?download=1" if download else "")
    response = alice_client.get(url)
    assert response.status_code == 200
    promised = int(response["Content-Length"])
    received = len(body(response))
    # The browser sees fewer bytes than promised and reports the file as cut short
    # (the last, partial chunk before the break is lost with the connection).
    assert 0 < received <= 100_000 < promised
