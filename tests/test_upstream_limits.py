"""Limits on what one upstream answer may cost: a total deadline per call (a body that
trickles never trips the read timeout, which counts per socket read), a deadline on
drawing a waveform, peaks cached only when the whole file was read, a cap on the size and
depth of a JSON answer, and no unchecked connection when a name does not resolve.

The test settings (tests/conftest.py): connect and read timeouts 1 s, total deadline 3 s."""

import gzip
import json
import socket
import time
import tracemalloc
import zlib

import pytest
import urllib3.util.connection

from demo_space import DEMO_PROJECT_ID
from recordings_app.signalwire import SpaceNotFound, transport
from tests.conftest import text

LIST_PATH = "/api/relay/rest/recordings"
UNREADABLE = "not in the documented format"


@pytest.fixture
def recording(demo_space):
    return next(r for r in demo_space.recordings(DEMO_PROJECT_ID) if r["status"] == "completed")


# ------------------------------------------------------------- 6. the total deadline


def test_a_list_answer_that_trickles_ends_at_the_total_deadline(alice_client, demo_space):
    # A byte every 0.25 s: never quiet for the 1 s read timeout, about 6 s in all.
    demo_space.add_fault(
        status=200,
        body={"links": {}, "data": []},
        path_prefix=LIST_PATH,
        trickle_bytes_per_second=4,
    )
    started = time.monotonic()
    response = alice_client.get("/recordings/")
    assert response.status_code == 504
    assert "did not answer within 3 seconds." in text(response)
    assert time.monotonic() - started < 3 + 1


def test_a_recording_answer_that_trickles_ends_at_the_total_deadline(
    alice_client, demo_space, recording
):
    demo_space.add_fault(
        status=200,
        body={"id": recording["id"], "status": "completed", "padding": "x" * 20},
        path_prefix=f"{LIST_PATH}/{recording['id']}",
        trickle_bytes_per_second=10,
    )
    started = time.monotonic()
    response = alice_client.get(f"/recordings/{recording['id']}/")
    assert response.status_code == 504
    assert "did not answer within 3 seconds." in text(response)
    assert time.monotonic() - started < 3 + 1


def test_a_slow_but_steady_audio_stream_plays_past_the_total_deadline(
    alice_client, demo_space, playable
):
    # The deadline ends at the media's headers: an hour of audio may take an hour.
    demo_space.add_fault(path_prefix="/media/", trickle_bytes_per_second=2000)
    response = alice_client.get(f"/recordings/{playable['id']}/audio/")
    assert response.status_code == 200
    started, received = time.monotonic(), 0
    chunks = iter(response.streaming_content)
    while time.monotonic() - started < 3 + 1:
        received += len(next(chunks))
    response.close()
    assert 4000 < received < int(response["Content-Length"])


def test_drawing_a_waveform_stops_at_its_deadline_and_is_not_cached(
    alice_client, demo_space, settings
):
    settings.PEAKS_TIMEOUT = 1.5
    raw = demo_space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=20)  # 320 KB of WAV
    # 40 KB a second: the whole file would take 8 s.
    demo_space.add_fault(path_prefix="/media/", trickle_bytes_per_second=40_000)
    started = time.monotonic()
    answer = alice_client.get(f"/recordings/{raw['id']}/peaks/").json()
    assert time.monotonic() - started < 1.5 + 1
    assert answer["peaks"] is None
    assert "took too long" in answer["reason"] and "1.5 seconds" in answer["reason"]
    demo_space.clear_faults()
    again = alice_client.get(f"/recordings/{raw['id']}/peaks/").json()
    assert again["duration"] == 20 and again["peaks"]


def media_gets(demo_space) -> int:
    return sum(1 for method, path, _ in demo_space.request_log if path.startswith("/media/"))


def test_peaks_of_a_stream_cut_short_are_answered_but_not_cached(alice_client, demo_space):
    raw = demo_space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=20)  # 320 KB of WAV
    demo_space.add_fault(drop_after_bytes=100_000, path_prefix="/media/", times=1)
    alice_client.get(f"/recordings/{raw['id']}/peaks/")
    assert media_gets(demo_space) == 1
    whole = alice_client.get(f"/recordings/{raw['id']}/peaks/").json()
    assert media_gets(demo_space) == 2  # read again: the cut answer was not kept
    assert whole["duration"] == 20 and len(whole["peaks"][0]) == 1000
    assert alice_client.get(f"/recordings/{raw['id']}/peaks/").json() == whole
    assert media_gets(demo_space) == 2  # the whole file's peaks are kept


# ------------------------------------------------------ 11. deep and large JSON answers

DEEP = "[" * 200_000


@pytest.mark.parametrize("page", ["list", "recording"])
def test_deeply_nested_json_is_an_unreadable_answer(alice_client, demo_space, recording, page):
    demo_space.add_fault(status=200, body=DEEP, path_prefix=LIST_PATH)
    url = "/recordings/" if page == "list" else f"/recordings/{recording['id']}/"
    response = alice_client.get(url)
    assert response.status_code == 502
    assert UNREADABLE in text(response)


def test_deeply_nested_json_in_a_422_is_a_refusal_without_details(alice_client, demo_space):
    demo_space.add_fault(status=422, body=DEEP, path_prefix=LIST_PATH)
    response = alice_client.get("/recordings/")
    assert response.status_code == 502
    assert "SignalWire rejected the request without saying why." in text(response)


def test_deeply_nested_json_fails_the_credentials_check_readably(client, carol, demo_space):
    from demo_space import DEMO_API_TOKEN

    client.force_login(carol)
    demo_space.add_fault(status=200, body=DEEP, path_prefix=LIST_PATH)
    form = {
        "label": "x",
        "space": "demo",
        "project_id": DEMO_PROJECT_ID,
        "api_token": DEMO_API_TOKEN,
    }
    response = client.post("/credentials/add/", form)
    assert response.status_code == 200
    assert UNREADABLE in text(response)


def test_a_json_answer_larger_than_the_cap_is_unreadable(alice_client, demo_space):
    # 20 MB of valid JSON, past the 16 MB cap: refused from its Content-Length.
    huge = {"links": {}, "data": [], "padding": "x" * (20 * 1024 * 1024)}
    demo_space.add_fault(status=200, body=json.dumps(huge).encode(), path_prefix=LIST_PATH)
    response = alice_client.get("/recordings/")
    assert response.status_code == 502
    assert UNREADABLE in text(response)


def gzipped_json_of(size: int) -> bytes:
    """Valid JSON of `size` bytes, mostly spaces, gzipped to a few hundred KB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    parts = [packer.compress(b'{"links": {}, "data": [')]
    block = b" " * (1024 * 1024)
    parts += [packer.compress(block) for _ in range(size // len(block))]
    parts += [packer.compress(b"]}"), packer.flush()]
    return b"".join(parts)


def test_a_json_answer_is_read_only_up_to_the_cap(alice_client, demo_space):
    # 64 MB of JSON that arrives as 64 KB of gzip: its Content-Length says nothing, so the
    # cap must hold while the body streams, without the whole of it in memory.
    packed = gzipped_json_of(64 * 1024 * 1024)
    assert len(gzip.decompress(packed)) > 64 * 1024 * 1024
    demo_space.add_fault(
        status=200, body=packed, headers={"Content-Encoding": "gzip"}, path_prefix=LIST_PATH
    )
    tracemalloc.start()
    try:
        response = alice_client.get("/recordings/")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status_code == 502
    assert UNREADABLE in text(response)
    assert peak < 48 * 1024 * 1024  # the 16 MB cap and the buffers around it


def test_a_json_answer_under_the_cap_still_reads_whole(alice_client, demo_space):
    packed = gzipped_json_of(4 * 1024 * 1024)
    demo_space.add_fault(
        status=200, body=packed, headers={"Content-Encoding": "gzip"}, path_prefix=LIST_PATH
    )
    response = alice_client.get("/recordings/")
    assert response.status_code == 200


# ---------------------------------------------- 15. a name that does not resolve


@pytest.fixture
def lookups(monkeypatch):
    """The hosts looked up in DNS, and those connected to by urllib3's own path, which
    checks no address (only the hosts of SIGNALWIRE_BASE_URL and SIGNALWIRE_FILES_URL may
    take it).

    A server cannot show whether the client looked a name up twice or connected without
    the address check, so these two functions are wrapped, only to note their calls: each
    still does its real work."""
    seen = {"looked up": [], "connected unchecked": []}
    real_getaddrinfo = socket.getaddrinfo
    real_create_connection = urllib3.util.connection.create_connection

    def getaddrinfo(host, *args, **kwargs):
        seen["looked up"].append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    def create_connection(address, *args, **kwargs):
        seen["connected unchecked"].append(address[0])
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    return seen


def test_a_space_host_that_does_not_resolve_is_never_connected_unchecked(settings, lookups):
    settings.SIGNALWIRE_ALLOW_PRIVATE_ADDRESSES = False  # the address check is on
    with pytest.raises(SpaceNotFound) as raised:
        transport._send("GET", "https://nosuch.invalid/api/relay/rest/recordings", auth=None)
    assert raised.value.host == "nosuch.invalid"
    assert lookups == {"looked up": ["nosuch.invalid"], "connected unchecked": []}


def test_a_media_host_that_does_not_resolve_is_never_connected_unchecked(
    alice_client, demo_space, settings, lookups
):
    settings.SIGNALWIRE_ALLOW_PRIVATE_ADDRESSES = False
    raw = demo_space.add_recording(DEMO_PROJECT_ID, url="https://media.invalid/a.wav")
    response = alice_client.get(f"/recordings/{raw['id']}/audio/")
    assert response.status_code == 503
    assert "could not connect to SignalWire" in text(response)
    assert lookups["looked up"].count("media.invalid") == 1
    assert "media.invalid" not in lookups["connected unchecked"]
