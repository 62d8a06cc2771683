"""Tests of demo_space, the local SignalWire stand-in: plain pytest over HTTP, no Django."""

import io
import re
import time
import uuid
import wave
from array import array
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import av
import pytest
import requests

from demo_space import (
    DEMO_API_TOKEN,
    DEMO_PROJECT_ID,
    DEMO_SPACE_ID,
    MISSING,
    NO_VOICE_API_TOKEN,
    NO_VOICE_PROJECT_ID,
    OTHER_API_TOKEN,
    OTHER_PROJECT_ID,
    DemoSpace,
    LoggedRequest,
    iter_wav,
    media_file,
    mp3_size,
    wav_size,
)
from demo_space.__main__ import space_from_args
from demo_space.data import LEG_KEYS, OPTIONAL_KEYS, REQUIRED_KEYS

TIMEOUT = 10
NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
LIST = "/api/relay/rest/recordings"
DEMO = (DEMO_PROJECT_ID, DEMO_API_TOKEN)
OTHER = (OTHER_PROJECT_ID, OTHER_API_TOKEN)
REQUIRED = set(REQUIRED_KEYS)
LEGS = set(LEG_KEYS)
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture(scope="module")
def space():
    with DemoSpace(now=NOW) as running:
        yield running


@pytest.fixture(autouse=True)
def pristine(space):
    space.reset()


@pytest.fixture
def http():
    with requests.Session() as session:
        session.auth = DEMO
        yield session


def get(http, space, path, **kwargs):
    return http.get(space.base_url + path, **kwargs)


def collect(http, space, page_size):
    """Every page from the first, following `next` links."""
    pages, path = [], f"{LIST}?page_size={page_size}"
    while path:
        body = get(http, space, path).json()
        pages.append(body)
        path = body["links"].get("next")
    return pages


def a_recording(space, project=DEMO_PROJECT_ID, **wanted):
    for rec in space.recordings(project):
        wanted_ok = all(rec.get(k) == v for k, v in wanted.items())
        if wanted_ok and "byte_size" in rec and 0 < rec["duration_in_seconds"] <= 30:
            return rec
    raise LookupError(wanted)


# ---- auth -------------------------------------------------------------------------------------


@pytest.mark.parametrize("auth", [None, (DEMO_PROJECT_ID, "PTwrong"), ("nobody", DEMO_API_TOKEN)])
def test_bad_credentials_get_401_with_challenge(space, auth):
    rec = space.recordings(DEMO_PROJECT_ID)[0]
    for url in (space.base_url + LIST, space.base_url + f"{LIST}/{rec['id']}", rec["url"]):
        answer = requests.get(url, auth=auth, timeout=TIMEOUT)
        assert answer.status_code == 401
        assert answer.json() == {"error": "Unauthorized"}
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.headers["WWW-Authenticate"] == 'Basic realm="SignalWire"'


def test_token_without_voice_scope_gets_403_everywhere(space):
    auth = (NO_VOICE_PROJECT_ID, NO_VOICE_API_TOKEN)
    rec = space.recordings(NO_VOICE_PROJECT_ID)[0]
    for url in (space.base_url + LIST, space.base_url + f"{LIST}/{rec['id']}", rec["url"]):
        answer = requests.get(url, auth=auth, timeout=TIMEOUT)
        assert (answer.status_code, answer.json()) == (403, {"error": "Forbidden"})
    answer = requests.delete(space.base_url + f"{LIST}/{rec['id']}", auth=auth, timeout=TIMEOUT)
    assert answer.status_code == 403


# ---- listing and paging -----------------------------------------------------------------------


def test_paging_forward_collects_every_recording_once_newest_first(space, http):
    pages = collect(http, space, 1000)
    ids = [rec["id"] for page in pages for rec in page["data"]]
    assert len(pages) == 2 and len(ids) == 2000 == len(set(ids))
    expected = sorted(space.recordings(DEMO_PROJECT_ID), key=lambda r: (r["created_at"], r["id"]))
    assert ids == [rec["id"] for rec in reversed(expected)]
    assert [rec for page in pages for rec in page["data"]] == space.recordings(DEMO_PROJECT_ID)
    first, last = pages[0]["links"], pages[1]["links"]
    assert first["self"] == first["first"] == f"{LIST}?page_size=1000"
    assert "prev" not in first and "next" not in last
    assert last["prev"].startswith(f"{LIST}?page_size=1000&page_token=")
    assert set(first) == {"self", "first", "next"} and set(last) == {"self", "first", "prev"}


def test_default_page_size_and_unknown_params_ignored(space, http):
    body = get(http, space, f"{LIST}?colour=blue&page_number=3").json()
    assert set(body) == {"links", "data"}
    assert len(body["data"]) == 50
    assert body["links"]["self"] == f"{LIST}?page_size=50"


def test_prev_link_returns_the_previous_page_exactly(space, http):
    first = get(http, space, f"{LIST}?page_size=7").json()
    second = get(http, space, first["links"]["next"]).json()
    third = get(http, space, second["links"]["next"]).json()
    assert get(http, space, third["links"]["prev"]).json()["data"] == second["data"]
    back = get(http, space, second["links"]["prev"]).json()
    assert back["data"] == first["data"]
    assert "prev" not in back["links"]
    # The self link of a page reproduces it.
    assert get(http, space, third["links"]["self"]).json() == third


def test_prev_after_deletions_returns_a_full_first_page(space, http):
    first = get(http, space, f"{LIST}?page_size=10").json()
    second = get(http, space, first["links"]["next"]).json()
    for rec in first["data"][:3]:
        assert http.delete(space.base_url + f"{LIST}/{rec['id']}").status_code == 204
    back = get(http, space, second["links"]["prev"]).json()
    assert back["data"] == space.recordings(DEMO_PROJECT_ID)[:10]
    assert "prev" not in back["links"]


def test_keyset_paging_is_stable_when_recordings_are_deleted(space, http):
    first = get(http, space, f"{LIST}?page_size=10").json()
    everything = space.recordings(DEMO_PROJECT_ID)
    space_ids = [r["id"] for r in everything]
    gone = everything[10]["id"]  # would be the next page's first item
    assert http.delete(space.base_url + f"{LIST}/{gone}").status_code == 204
    second = get(http, space, first["links"]["next"]).json()
    assert [r["id"] for r in second["data"]] == space_ids[11:21]


def test_empty_page_past_the_end_links_back():
    with DemoSpace(count=12, now=NOW) as small, requests.Session() as http:
        http.auth = DEMO
        pages = collect(http, small, 5)
        assert [len(page["data"]) for page in pages] == [5, 5, 2]
        for rec in pages[2]["data"]:
            assert http.delete(small.base_url + f"{LIST}/{rec['id']}").status_code == 204
        empty = get(http, small, pages[1]["links"]["next"]).json()
        assert empty["data"] == [] and "next" not in empty["links"]
        back = get(http, small, empty["links"]["prev"]).json()
        assert back["data"] == small.recordings(DEMO_PROJECT_ID)[-5:]


def test_keep_alive_reuses_one_connection(space, http):
    for _ in range(5):
        assert get(http, space, f"{LIST}?page_size=2").status_code == 200
    assert get(http, space, "/nope").status_code == 404
    pools = http.get_adapter(space.base_url).poolmanager.pools
    (key,) = pools.keys()
    assert pools[key].num_connections == 1 and pools[key].num_requests == 6


@pytest.mark.parametrize("size", ["0", "1001", "abc", "", "5.5", "-3", " 7"])
def test_bad_page_size_is_a_422(space, http, size):
    answer = get(http, space, LIST, params={"page_size": size})
    assert answer.status_code == 422
    assert answer.headers["Content-Type"] == "application/json"
    (error,) = answer.json()["errors"]
    assert set(error) == {"detail", "status", "title", "code"}
    assert error["status"] == "422" and error["code"] == "page_size_is_invalid"
    assert all(isinstance(v, str) for v in error.values())


def test_tampered_page_token_is_a_422(space, http):
    token = get(http, space, LIST).json()["links"]["next"].split("page_token=")[1]
    payload, mac = token.split(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    for bad in [f"{flipped}.{mac}", token[:-3], "garbage", "", "%00", token + "x"]:
        answer = get(http, space, f"{LIST}?page_token={bad}")
        assert answer.status_code == 422, bad
        assert answer.json()["errors"][0]["code"] == "page_token_is_invalid"


# ---- one recording ----------------------------------------------------------------------------


def test_detail_and_404s(space, http):
    rec = space.recordings(DEMO_PROJECT_ID)[5]
    answer = get(http, space, f"{LIST}/{rec['id']}")
    assert answer.status_code == 200 and answer.json() == rec
    assert answer.headers["Content-Type"] == "application/json"
    other = space.recordings(OTHER_PROJECT_ID)[0]["id"]
    for missing in (str(uuid.uuid4()), "not-a-uuid", other, "x/y"):
        answer = get(http, space, f"{LIST}/{missing}")
        assert (answer.status_code, answer.json()) == (404, {"error": "Not Found"})


def test_delete_removes_it_everywhere(space, http):
    rec = a_recording(space)
    answer = http.delete(space.base_url + f"{LIST}/{rec['id']}")
    assert answer.status_code == 204 and answer.content == b""
    assert get(http, space, f"{LIST}/{rec['id']}").status_code == 404
    assert http.get(rec["url"]).status_code == 404
    assert rec["id"] not in {r["id"] for page in collect(http, space, 1000) for r in page["data"]}
    assert http.delete(space.base_url + f"{LIST}/{rec['id']}").status_code == 404


def test_unknown_paths_and_methods(space, http):
    answer = get(http, space, "/api/relay/rest/calls")
    assert (answer.status_code, answer.json()) == (404, {"error": "Not Found"})
    answer = http.post(space.base_url + LIST, json={"x": 1})
    assert answer.status_code == 405 and answer.json() == {"error": "Method Not Allowed"}
    assert get(http, space, LIST).status_code == 200  # the connection survived the POST body


def test_media_url_follows_the_host_header(space, http):
    port = space.base_url.rsplit(":", 1)[1]
    body = get(http, space, LIST, headers={"Host": f"localhost:{port}"}).json()
    assert body["data"][0]["url"].startswith(f"http://localhost:{port}/media/{DEMO_PROJECT_ID}/")


# ---- media ------------------------------------------------------------------------------------


@pytest.mark.parametrize("stereo", [False, True])
def test_media_is_a_real_wav_of_the_right_length(space, http, stereo):
    rec = a_recording(space, stereo=stereo, status="completed")
    answer = http.get(rec["url"])
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "audio/wav"
    assert answer.headers["Accept-Ranges"] == "bytes"
    assert int(answer.headers["Content-Length"]) == len(answer.content) == rec["byte_size"]
    with wave.open(io.BytesIO(answer.content)) as wav:
        assert wav.getnchannels() == (2 if stereo else 1)
        assert (wav.getframerate(), wav.getsampwidth()) == (8000, 2)
        assert wav.getnframes() == rec["duration_in_seconds"] * 8000
        frames = wav.readframes(wav.getnframes())
    samples = memoryview(frames).cast("h")
    assert 3000 < max(samples) < 32767  # speech, not silence, and not clipping


def test_media_ranges(space, http):
    rec = a_recording(space, stereo=True)
    full = http.get(rec["url"]).content
    total = len(full)
    for header, (start, end) in {
        "bytes=10-99": (10, 99),
        "bytes=0-0": (0, 0),
        "bytes=1000-": (1000, total - 1),
        "bytes=-100": (total - 100, total - 1),
        f"bytes=40-{total + 50}": (40, total - 1),
    }.items():
        answer = http.get(rec["url"], headers={"Range": header})
        assert answer.status_code == 206, header
        assert answer.headers["Content-Range"] == f"bytes {start}-{end}/{total}"
        assert int(answer.headers["Content-Length"]) == end - start + 1
        assert answer.content == full[start : end + 1]
    for header in (f"bytes={total}-", "bytes=-0"):
        answer = http.get(rec["url"], headers={"Range": header})
        assert answer.status_code == 416
        assert answer.headers["Content-Range"] == f"bytes */{total}"
    head = http.head(rec["url"])
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == total
    assert head.content == b""


def test_media_of_another_project_is_not_found(space):
    rec = a_recording(space)
    assert requests.get(rec["url"], auth=OTHER, timeout=TIMEOUT).status_code == 404
    answer = requests.get(rec["url"], auth=(DEMO_PROJECT_ID, "PTnope"), timeout=TIMEOUT)
    assert answer.status_code == 401


def test_huge_recording_streams_by_range(space, http):
    rec = space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=40000)
    assert rec["byte_size"] == 44 + 40000 * 8000 * 2
    head = http.head(rec["url"])
    assert int(head.headers["Content-Length"]) == rec["byte_size"]
    tail = http.get(rec["url"], headers={"Range": "bytes=-1000"})
    assert tail.status_code == 206 and len(tail.content) == 1000
    assert space.recordings(DEMO_PROJECT_ID)[0]["id"] == rec["id"]


def test_any_range_agrees_with_the_whole_file():
    whole = b"".join(iter_wav(300, True, "seed", chunk=10_000))
    assert len(whole) == wav_size(300, True)
    for start, end in [(0, 43), (3, 100_000), (31_990, 64_050), (9_000_000, 10**9)]:
        assert b"".join(iter_wav(300, True, "seed", start, end)) == whole[start : end + 1]
    empty = b"".join(iter_wav(0, False, "seed"))
    assert len(empty) == 44 == wav_size(0, False)
    with wave.open(io.BytesIO(empty)) as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getnframes()) == (1, 8000, 0)
    assert all(len(c) <= 10_000 for c in iter_wav(300, False, "x", chunk=10_000))


# ---- faults and the request log ---------------------------------------------------------------


def test_fault_status_with_retry_after_once(space, http):
    space.add_fault(
        status=429,
        body={"error": "Too Many Requests"},
        headers={"Retry-After": "2"},
        path_prefix=LIST,
        times=1,
    )
    answer = get(http, space, LIST)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "2"
    assert answer.json() == {"error": "Too Many Requests"}
    assert get(http, space, LIST).status_code == 200


def test_fault_matches_method_and_default_body(space, http):
    space.add_fault(status=500, method="DELETE")
    rec = space.recordings(DEMO_PROJECT_ID)[0]
    assert get(http, space, f"{LIST}/{rec['id']}").status_code == 200
    answer = http.delete(space.base_url + f"{LIST}/{rec['id']}")
    assert (answer.status_code, answer.json()) == (500, {"error": "Internal Server Error"})
    space.clear_faults()
    assert http.delete(space.base_url + f"{LIST}/{rec['id']}").status_code == 204


def test_fault_delay_then_normal_answer(space, http):
    space.add_fault(delay=0.3, times=1)
    began = time.monotonic()
    assert get(http, space, LIST).status_code == 200
    assert time.monotonic() - began >= 0.3


def test_fault_drops_a_media_stream_midway(space, http):
    rec = a_recording(space)
    space.add_fault(drop_after_bytes=1000, path_prefix="/media/", times=1)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        http.get(rec["url"])
    assert len(http.get(rec["url"]).content) == rec["byte_size"]


def test_fault_trickles_a_body_at_the_rate_asked(space, http):
    # Headers at once, then the body a byte every 0.1 s: no pause long enough to trip a
    # read timeout, yet the whole answer takes about a second.
    space.add_fault(status=200, body="0123456789", path_prefix=LIST, trickle_bytes_per_second=10)
    began = time.monotonic()
    answer = http.get(space.base_url + LIST, stream=True, timeout=(TIMEOUT, 0.5))
    assert time.monotonic() - began < 0.5
    assert answer.raw.read(1) == b"0"
    assert answer.content == b"123456789"
    assert 0.9 <= time.monotonic() - began < 3


def test_fault_trickles_a_normal_media_stream(space, http):
    rec = a_recording(space)
    space.add_fault(path_prefix="/media/", trickle_bytes_per_second=1000, times=1)
    with http.get(rec["url"], stream=True, timeout=(TIMEOUT, 0.5)) as answer:
        assert answer.status_code == 200 and int(answer.headers["Content-Length"]) > 1000
        began = time.monotonic()
        received = 0
        while time.monotonic() - began < 0.5:
            received += len(answer.raw.read1(65536))
    assert 100 <= received <= 1000  # about 500: 100 bytes a tenth of a second


def test_request_log(space, http):
    get(http, space, f"{LIST}?page_size=3")
    requests.get(space.base_url + LIST, timeout=TIMEOUT)
    assert space.request_log == [
        ("GET", f"{LIST}?page_size=3", DEMO_PROJECT_ID),
        ("GET", LIST, None),
    ]


def test_latency_is_added_to_api_requests():
    with DemoSpace(count=5, latency=0.2, now=NOW) as slow:
        began = time.monotonic()
        assert requests.get(slow.base_url + LIST, auth=DEMO, timeout=TIMEOUT).status_code == 200
        assert time.monotonic() - began >= 0.2


# ---- data -------------------------------------------------------------------------------------


def test_seeded_data_is_deterministic():
    one, two = DemoSpace(count=300, now=NOW), DemoSpace(count=300, now=NOW)
    for project in (DEMO_PROJECT_ID, OTHER_PROJECT_ID):
        assert one.recordings(project) == two.recordings(project)
    later = DemoSpace(count=300, now=datetime(2024, 4, 1, tzinfo=UTC))
    assert later.recordings(DEMO_PROJECT_ID) != one.recordings(DEMO_PROJECT_ID)


@pytest.mark.parametrize("project", [DEMO_PROJECT_ID, OTHER_PROJECT_ID])
def test_every_recording_matches_the_spec(space, project):
    recs = space.recordings(project)
    assert len(recs) == (2000 if project == DEMO_PROJECT_ID else 300)
    for rec in recs:
        keys = set(rec)
        assert keys >= REQUIRED, rec
        sources = keys - REQUIRED - set(OPTIONAL_KEYS)
        legs = sources & LEGS
        # Exactly one leg (maybe with a conference), or a conference alone.
        assert sources - legs <= {"relay_conference_id"}, rec
        assert len(legs) == 1 or sources == {"relay_conference_id"}, rec
        for key in ("id", "project_id", *sources):
            assert str(uuid.UUID(rec[key])) == rec[key]
        assert rec["project_id"] == project
        assert ISO.match(rec["created_at"]) and ISO.match(rec["updated_at"])
        assert rec["created_at"] <= rec["updated_at"] <= "2024-03-01T12:00:00Z"
        assert type(rec["duration_in_seconds"]) is int and rec["duration_in_seconds"] >= 0
        assert type(rec["price"]) is float and rec["price"] >= 0
        assert rec["price_unit"] in {"USD", "EUR"}
        assert rec["status"] in {"completed", "failed", "in-progress", "absent"}
        assert type(rec["stereo"]) is bool
        assert rec["track"] in {"inbound", "outbound", "both"}
        assert rec["track"] == "both" or not rec["stereo"]
        assert ("error_code" in rec) == (rec["status"] == "failed")
        if "byte_size" in rec:
            assert rec["byte_size"] == wav_size(rec["duration_in_seconds"], rec["stereo"])
        assert rec["url"] == f"{space.base_url}/media/{project}/{rec['id']}.wav"
    if project == DEMO_PROJECT_ID:
        assert {r["status"] for r in recs} == {"completed", "failed", "in-progress", "absent"}
        assert any(r["status"] == "failed" and r["price"] > 0 for r in recs)
        assert any(0 < r["price"] < 0.01 for r in recs)
        assert 0.3 < sum(r["stereo"] for r in recs) / len(recs) < 0.5
        assert 0.05 < sum("byte_size" not in r for r in recs) / len(recs) < 0.15
        assert {r["price_unit"] for r in recs} == {"USD", "EUR"}


def test_projects_do_not_share_ids(space):
    demo = {r["id"] for r in space.recordings(DEMO_PROJECT_ID)}
    assert not demo & {r["id"] for r in space.recordings(OTHER_PROJECT_ID)}


def test_off_schema_recordings_are_served_as_given(space, http):
    rec = space.add_recording(DEMO_PROJECT_ID, byte_size=MISSING, price=None, status="<b>x</b>")
    served = get(http, space, f"{LIST}/{rec['id']}").json()
    assert served == rec and "byte_size" not in served and served["price"] is None
    assert get(http, space, LIST).json()["data"][0] == rec
    odd = space.add_recording(DEMO_PROJECT_ID, created_at=None, duration_in_seconds="long")
    assert http.get(odd["url"]).content[:4] == b"RIFF"
    assert len(collect(http, space, 1000)[0]["data"]) == 1000


def test_reset_restores_everything(space, http):
    before = space.recordings(DEMO_PROJECT_ID)
    http.delete(space.base_url + f"{LIST}/{before[0]['id']}")
    space.add_recording(DEMO_PROJECT_ID)
    space.add_fault(status=500)
    space.reset()
    assert space.recordings(DEMO_PROJECT_ID) == before
    assert space.request_log == []
    assert get(http, space, LIST).status_code == 200


# ==== how real spaces behave: the switches =====================================================

COMPAT = f"/api/laml/2010-04-01/Accounts/{DEMO_PROJECT_ID}/Recordings"
FILES = "https://files.signalwire.com"


@pytest.fixture(scope="module")
def real_running():
    with DemoSpace(now=NOW, realistic=True) as running:
        yield running


@pytest.fixture
def real(real_running):
    """The space with realistic=True: files host, real status words, mixed formats, public
    media (except the other project's)."""
    real_running.reset()
    yield real_running
    real_running.reset()


def on_files(space, url: str) -> str:
    """What the dashboard will do through a setting: files.signalwire.com -> the files host."""
    assert url.startswith(FILES + "/"), url
    return space.files_url + url.removeprefix(FILES)


def short(space, project=DEMO_PROJECT_ID, ext="wav", **wanted):
    """A short recording with audio and a byte_size, in that format."""
    for rec in space.recordings(project):
        if (
            rec["url"].endswith("." + ext)
            and "byte_size" in rec
            and 0 < rec["duration_in_seconds"] <= 30
            and all(rec.get(k) == v for k, v in wanted.items())
        ):
            return rec
    raise LookupError((ext, wanted))


def peak(frame, channel: int) -> float:
    """The loudest sample of one channel of a decoded planar float frame."""
    samples = array("f", bytes(frame.planes[channel])[: frame.samples * 4])
    return max((abs(v) for v in samples), default=0.0)


def decoded(content: bytes):
    """(codec, channels, sample rate, seconds, loudest sample per channel) of a media file."""
    with av.open(io.BytesIO(content), mode="r") as container:
        stream = container.streams.audio[0]
        frames = list(container.decode(stream))
        channels = stream.codec_context.channels
        loudest = [max(peak(f, c) for f in frames) for c in range(channels)]
        seconds = sum(f.samples for f in frames) / stream.sample_rate
        return stream.codec_context.name, channels, stream.sample_rate, seconds, loudest


# ---- the files host ---------------------------------------------------------------------------


def test_realistic_media_urls_are_on_files_signalwire_com(real):
    pattern = re.compile(
        rf"^{FILES}/{DEMO_SPACE_ID}/{DEMO_PROJECT_ID}/recordings/([0-9a-f-]{{36}})\.(wav|mp3|mp4)$"
    )
    for rec in real.recordings(DEMO_PROJECT_ID):
        match = pattern.match(rec["url"])
        assert match and match.group(1) == rec["id"], rec["url"]


def test_default_media_urls_stay_on_the_space_host(space):
    assert all(
        r["url"].startswith(space.base_url + "/media/") for r in space.recordings(OTHER_PROJECT_ID)
    )


def test_the_files_host_serves_the_same_bytes_with_ranges(real):
    rec = short(real, stereo=True)
    url = on_files(real, rec["url"])
    whole = requests.get(url, timeout=TIMEOUT)
    assert whole.status_code == 200 and whole.headers["Content-Type"] == "audio/wav"
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert len(whole.content) == rec["byte_size"] == int(whole.headers["Content-Length"])
    # The space host's own media path still serves the same file, and so do the files
    # host's paths on the space host (for a client told only the space's base URL).
    for path in (f"/media/{DEMO_PROJECT_ID}/{rec['id']}.wav", url.removeprefix(real.files_url)):
        assert requests.get(real.base_url + path, timeout=TIMEOUT).content == whole.content
    total = len(whole.content)
    part = requests.get(url, headers={"Range": "bytes=100-199"}, timeout=TIMEOUT)
    assert part.status_code == 206 and part.content == whole.content[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{total}"
    tail = requests.get(url, headers={"Range": "bytes=-10"}, timeout=TIMEOUT)
    assert tail.status_code == 206 and tail.content == whole.content[-10:]
    beyond = requests.get(url, headers={"Range": f"bytes={total}-"}, timeout=TIMEOUT)
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{total}"
    head = requests.head(url, timeout=TIMEOUT)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == total


def test_the_files_host_logs_whether_credentials_came(real):
    url = on_files(real, short(real)["url"])
    path = url.removeprefix(real.files_url)
    requests.get(url, timeout=TIMEOUT)
    requests.get(url, auth=DEMO, timeout=TIMEOUT)
    requests.get(url, headers={"Authorization": "Bearer x"}, timeout=TIMEOUT)
    assert real.files_request_log == [
        LoggedRequest("GET", path, None, False),
        LoggedRequest("GET", path, DEMO_PROJECT_ID, True),
        LoggedRequest("GET", path, None, True),
    ]
    assert real.request_log == []  # the space host saw none of them
    real.clear_request_log()
    assert real.files_request_log == []


def test_faults_target_one_host(real):
    rec = short(real)
    url = on_files(real, rec["url"])
    real.add_fault(status=503, host="files", times=1)
    assert requests.get(url, timeout=TIMEOUT).status_code == 503
    assert requests.get(url, timeout=TIMEOUT).status_code == 200
    real.add_fault(status=500, path_prefix=f"/{DEMO_SPACE_ID}/")  # the space host's: no match
    assert requests.get(url, timeout=TIMEOUT).status_code == 200
    real.clear_faults()
    real.add_fault(drop_after_bytes=1000, host="files", times=1)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(url, timeout=TIMEOUT)
    assert requests.get(real.base_url + LIST, auth=DEMO, timeout=TIMEOUT).status_code == 200
    with pytest.raises(ValueError):
        real.add_fault(status=500, host="elsewhere")


def test_the_files_host_knows_only_its_paths(real):
    rec = short(real)
    good = on_files(real, rec["url"]).removeprefix(real.files_url)
    for path in (
        good.replace(DEMO_SPACE_ID, str(uuid.uuid4())),
        good.replace(rec["id"], str(uuid.uuid4())),
        good.replace(DEMO_PROJECT_ID, "nobody"),
        "/",
        LIST,
    ):
        answer = requests.get(real.files_url + path, timeout=TIMEOUT)
        assert (answer.status_code, answer.json()) == (404, {"error": "Not Found"}), path
    # Under another project's path, with its credentials (its media is protected).
    elsewhere = real.files_url + good.replace(DEMO_PROJECT_ID, OTHER_PROJECT_ID)
    assert requests.get(elsewhere, auth=OTHER, timeout=TIMEOUT).status_code == 404
    assert requests.delete(real.files_url + good, timeout=TIMEOUT).status_code == 405


# ---- public and protected media ---------------------------------------------------------------


def test_public_media_goes_to_anyone(real):
    assert not real.media_protected(DEMO_PROJECT_ID)
    url = on_files(real, short(real)["url"])
    for auth in (None, DEMO, OTHER, (DEMO_PROJECT_ID, "PTwrong")):
        assert requests.get(url, auth=auth, timeout=TIMEOUT).status_code == 200, auth


def test_protected_media_needs_the_projects_credentials(real):
    assert real.media_protected(OTHER_PROJECT_ID)
    rec = short(real, OTHER_PROJECT_ID)
    for url in (
        on_files(real, rec["url"]),
        f"{real.base_url}/media/{OTHER_PROJECT_ID}/{rec['id']}.wav",
    ):
        for auth in (None, (OTHER_PROJECT_ID, "PTwrong")):
            answer = requests.get(url, auth=auth, timeout=TIMEOUT)
            assert (answer.status_code, answer.json()) == (401, {"error": "Unauthorized"})
            assert answer.headers["WWW-Authenticate"] == 'Basic realm="SignalWire"'
        assert requests.get(url, auth=DEMO, timeout=TIMEOUT).status_code == 404
        assert requests.get(url, auth=OTHER, timeout=TIMEOUT).status_code == 200


def test_protection_is_set_per_project_on_both_hosts_until_reset(real):
    rec = short(real)
    urls = [on_files(real, rec["url"]), f"{real.base_url}/media/{DEMO_PROJECT_ID}/{rec['id']}.wav"]
    real.protect_media(DEMO_PROJECT_ID)
    for url in urls:
        assert requests.get(url, timeout=TIMEOUT).status_code == 401
        assert requests.get(url, auth=DEMO, timeout=TIMEOUT).status_code == 200
    real.reset()
    assert all(requests.get(url, timeout=TIMEOUT).status_code == 200 for url in urls)


def test_by_default_every_projects_media_is_protected(space):
    assert not space.public_media
    assert all(space.media_protected(p) for p in (DEMO_PROJECT_ID, OTHER_PROJECT_ID))
    assert requests.get(a_recording(space)["url"], timeout=TIMEOUT).status_code == 401


def test_protected_media_of_a_scopeless_token_is_refused(real):
    rec = real.recordings(NO_VOICE_PROJECT_ID)[0]
    auth = (NO_VOICE_PROJECT_ID, NO_VOICE_API_TOKEN)
    assert requests.get(on_files(real, rec["url"]), auth=auth, timeout=TIMEOUT).status_code == 200
    real.protect_media(NO_VOICE_PROJECT_ID)
    answer = requests.get(on_files(real, rec["url"]), auth=auth, timeout=TIMEOUT)
    assert (answer.status_code, answer.json()) == (403, {"error": "Forbidden"})


# ---- a host that is not SignalWire's ----------------------------------------------------------


def test_a_foreign_media_url_is_served_to_anyone_and_logged(real):
    rec = real.add_recording(DEMO_PROJECT_ID, media_host="foreign", duration_in_seconds=3)
    assert (
        rec["url"]
        == f"{real.foreign_url}/{DEMO_SPACE_ID}/{DEMO_PROJECT_ID}/recordings/{rec['id']}.wav"
    )
    real.protect_media(DEMO_PROJECT_ID)  # the foreign host does not care
    assert len(requests.get(rec["url"], timeout=TIMEOUT).content) == rec["byte_size"]
    requests.get(rec["url"], auth=DEMO, headers={"Range": "bytes=0-9"}, timeout=TIMEOUT)
    path = rec["url"].removeprefix(real.foreign_url)
    assert real.foreign_request_log == [
        LoggedRequest("GET", path, None, False),
        LoggedRequest("GET", path, DEMO_PROJECT_ID, True),
    ]
    assert real.files_request_log == []


def test_a_recording_can_pin_its_media_host(space):
    files = space.add_recording(DEMO_PROJECT_ID, media_host="files", media_format="mp3")
    assert files["url"] == f"{FILES}/{DEMO_SPACE_ID}/{DEMO_PROJECT_ID}/recordings/{files['id']}.mp3"
    own = space.add_recording(DEMO_PROJECT_ID, media_host="space")
    assert own["url"] == f"{space.base_url}/media/{DEMO_PROJECT_ID}/{own['id']}.wav"


# ---- status words -----------------------------------------------------------------------------


def test_real_status_words_for_relay(real):
    recs = real.recordings(DEMO_PROJECT_ID)
    words = [r["status"] for r in recs]
    assert set(words) == {
        "finished",
        "completed",
        "no_input",
        "error",
        "recording",
        "paused",
        "transcoding",
    }
    assert words.count("finished") > len(words) / 2
    assert 0 < words.count("transcoding") < 20  # a word nobody documented, now and then
    for rec in recs:
        assert ("error_code" in rec) == (rec["status"] == "error"), rec
        if rec["status"] == "no_input":
            assert rec["duration_in_seconds"] == 0


def test_real_words_keep_the_same_recordings():
    legacy = DemoSpace(count=200, now=NOW).recordings(DEMO_PROJECT_ID)
    reworded = DemoSpace(count=200, now=NOW, status_words="real").recordings(DEMO_PROJECT_ID)
    for before, after in zip(legacy, reworded, strict=True):
        assert {**before, "status": None} == {**after, "status": None}
    pairs = {(a["status"], b["status"]) for a, b in zip(legacy, reworded, strict=True)}
    assert {old for old, _ in pairs} == {"completed", "failed", "absent", "in-progress"}
    assert ("failed", "error") in pairs and ("absent", "no_input") in pairs


# ---- formats ----------------------------------------------------------------------------------


def test_mixed_formats_are_mostly_wav_some_mp3_a_few_mp4(real):
    exts = [r["url"].rsplit(".", 1)[1] for r in real.recordings(DEMO_PROJECT_ID)]
    assert exts.count("wav") > exts.count("mp3") > exts.count("mp4") > 20


@pytest.mark.parametrize(
    ("ext", "content_type", "codec"),
    [("mp3", "audio/mpeg", "mp3float"), ("mp4", "audio/mp4", "aac")],
)
@pytest.mark.parametrize("stereo", [False, True])
def test_compressed_media_is_real_audio_of_the_stated_size(real, ext, content_type, codec, stereo):
    rec = short(real, ext=ext, stereo=stereo)
    answer = requests.get(on_files(real, rec["url"]), timeout=TIMEOUT)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == content_type
    assert len(answer.content) == int(answer.headers["Content-Length"]) == rec["byte_size"]
    name, channels, rate, seconds, loudest = decoded(answer.content)
    assert (name, channels, rate) == (codec, 2 if stereo else 1, 8000)
    assert rec["duration_in_seconds"] <= seconds < rec["duration_in_seconds"] + 0.2
    assert all(0.05 < level < 1.0 for level in loudest)  # speech on every channel, no clipping


@pytest.mark.parametrize("ext", ["mp3", "mp4"])
def test_compressed_ranges_agree_with_the_whole_file(real, ext):
    url = on_files(real, short(real, ext=ext)["url"])
    whole = requests.get(url, timeout=TIMEOUT).content
    for start, end in [(0, 0), (0, 700), (333, 5000), (len(whole) - 50, len(whole) + 50)]:
        answer = requests.get(url, headers={"Range": f"bytes={start}-{end}"}, timeout=TIMEOUT)
        assert answer.status_code == 206 and answer.content == whole[start : end + 1]


def test_a_recording_exists_in_its_own_format_only(real):
    rec = short(real, ext="mp3")
    for url in (
        on_files(real, rec["url"]),
        f"{real.base_url}/media/{DEMO_PROJECT_ID}/{rec['id']}.mp3",
    ):
        assert requests.get(url, timeout=TIMEOUT).status_code == 200
        for other in ("wav", "mp4"):
            assert requests.get(url[:-3] + other, timeout=TIMEOUT).status_code == 404


@pytest.mark.parametrize("media_format", ["mp3", "mp4"])
def test_an_added_recording_takes_a_format(space, http, media_format):
    rec = space.add_recording(DEMO_PROJECT_ID, media_format=media_format, duration_in_seconds=12)
    assert rec["url"] == f"{space.base_url}/media/{DEMO_PROJECT_ID}/{rec['id']}.{media_format}"
    assert get(http, space, f"{LIST}/{rec['id']}").json() == rec
    assert len(http.get(rec["url"]).content) == rec["byte_size"]


def test_a_huge_mp3_streams_by_range(space, http):
    rec = space.add_recording(DEMO_PROJECT_ID, media_format="mp3", duration_in_seconds=40000)
    assert rec["byte_size"] == mp3_size(40000, False) == 40000 * 8000 // 576 * 144 + 144
    tail = http.get(rec["url"], headers={"Range": "bytes=-1440"})
    assert tail.status_code == 206 and len(tail.content) == 1440
    assert tail.content[:2] == b"\xff\xe3"  # frames all the way: an MPEG-2.5 frame header


def test_compressed_files_are_deterministic_and_differ_per_recording():
    one = b"".join(media_file("mp4", 20, True, "a").iter_range())
    assert one == b"".join(media_file("mp4", 20, True, "a").iter_range())
    assert one != b"".join(media_file("mp4", 20, True, "b").iter_range())
    assert media_file("mp3", 0, False, "a").size == 0


# ---- the Compatibility API --------------------------------------------------------------------


def compat_pages(space, path=COMPAT + ".json", auth=DEMO, **params):
    pages, url = [], space.base_url + path
    answer = requests.get(url, params=params, auth=auth, timeout=TIMEOUT)
    while True:
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        if pages[-1]["next_page_uri"] is None:
            return pages
        answer = requests.get(
            space.base_url + pages[-1]["next_page_uri"], auth=auth, timeout=TIMEOUT
        )


def when(rec) -> datetime:
    return parsedate_to_datetime(rec["date_created"])


def test_compat_recordings_are_their_own_family(space):
    relay = {r["id"] for r in space.recordings(DEMO_PROJECT_ID)}
    for project, expected in (
        (DEMO_PROJECT_ID, 300),
        (OTHER_PROJECT_ID, 45),
        (NO_VOICE_PROJECT_ID, 3),
    ):
        compat = space.compat_recordings(project)
        assert len(compat) == expected
        assert not relay & {r["sid"] for r in compat}
        assert {r["account_sid"] for r in compat} == {project}


@pytest.mark.parametrize("suffix", ["", ".json"])
def test_compat_list_pages_newest_first(space, suffix):
    pages = compat_pages(space, COMPAT + suffix, PageSize=120)
    recs = [r for page in pages for r in page["recordings"]]
    assert recs == space.compat_recordings(DEMO_PROJECT_ID)
    assert [when(r) for r in recs] == sorted((when(r) for r in recs), reverse=True)
    assert [(p["page"], p["page_size"], len(p["recordings"])) for p in pages] == [
        (0, 120, 120),
        (1, 120, 120),
        (2, 120, 60),
    ]
    first = pages[0]
    assert first["uri"] == first["first_page_uri"] == f"{COMPAT}{suffix}?PageSize=120&Page=0"
    assert first["previous_page_uri"] is None
    assert pages[1]["next_page_uri"].startswith(f"{COMPAT}{suffix}?PageSize=120&Page=2&PageToken=")
    back = requests.get(space.base_url + pages[2]["previous_page_uri"], auth=DEMO, timeout=TIMEOUT)
    assert back.json()["recordings"] == pages[1]["recordings"]
    again = requests.get(space.base_url + pages[1]["uri"], auth=DEMO, timeout=TIMEOUT).json()
    assert again == pages[1]


def test_compat_defaults_and_page_numbers(space):
    body = requests.get(space.base_url + COMPAT, auth=DEMO, timeout=TIMEOUT).json()
    assert (body["page"], body["page_size"], len(body["recordings"])) == (0, 50, 50)
    third = requests.get(
        space.base_url + COMPAT, params={"Page": 2, "PageSize": 20}, auth=DEMO, timeout=TIMEOUT
    ).json()
    assert third["recordings"] == space.compat_recordings(DEMO_PROJECT_ID)[40:60]
    assert third["previous_page_uri"] == f"{COMPAT}?PageSize=20&Page=1"


def test_compat_keyset_paging_survives_deletions(space):
    before = space.compat_recordings(DEMO_PROJECT_ID)
    page = requests.get(space.base_url + COMPAT, params={"PageSize": 5}, auth=DEMO, timeout=TIMEOUT)
    gone = before[5]["sid"]  # would be the next page's first
    answer = requests.delete(f"{space.base_url}{COMPAT}/{gone}", auth=DEMO, timeout=TIMEOUT)
    assert answer.status_code == 204
    second = requests.get(space.base_url + page.json()["next_page_uri"], auth=DEMO, timeout=TIMEOUT)
    assert second.json()["recordings"] == before[6:11]


def test_compat_filters(space):
    everything = space.compat_recordings(DEMO_PROJECT_ID)
    by_call = next(r for r in everything if r["call_sid"])
    got = compat_pages(space, CallSid=by_call["call_sid"])[0]["recordings"]
    assert got and all(r["call_sid"] == by_call["call_sid"] for r in got)
    assert by_call in got
    conference = next(r["conference_sid"] for r in everything if r["conference_sid"])
    got = compat_pages(space, ConferenceSid=conference)[0]["recordings"]
    assert got == [r for r in everything if r["conference_sid"] == conference]

    middle = when(everything[150])
    stamp = format_datetime(middle)
    older = [r for r in everything if when(r) <= middle]
    newer = [r for r in everything if when(r) >= middle]
    assert [
        r
        for p in compat_pages(space, PageSize=1000, **{"DateCreated<": stamp})
        for r in p["recordings"]
    ] == older
    assert [
        r
        for p in compat_pages(space, PageSize=1000, **{"DateCreated>": stamp})
        for r in p["recordings"]
    ] == newer
    same_day = [r for r in everything if when(r).date() == middle.date()]
    assert compat_pages(space, PageSize=1000, DateCreated=stamp)[0]["recordings"] == same_day
    day = middle.date().isoformat()  # Twilio's own form is taken too
    assert compat_pages(space, PageSize=1000, DateCreated=day)[0]["recordings"] == same_day

    # The names hold < and >: on the wire they read DateCreated%3E=... and the links keep them.
    since = middle - timedelta(days=20)
    window = {"DateCreated>": format_datetime(since), "DateCreated<": stamp}
    pages = compat_pages(space, PageSize=7, **window)
    assert [r for p in pages for r in p["recordings"]] == [
        r for r in everything if since <= when(r) <= middle
    ]
    assert len(pages) > 2
    assert "DateCreated%3E=" in pages[0]["next_page_uri"]
    assert "DateCreated%3C=" in pages[0]["next_page_uri"]


@pytest.mark.parametrize(
    "params",
    [
        {"PageSize": 0},
        {"PageSize": 1001},
        {"PageSize": "x"},
        {"Page": -1},
        {"PageToken": "garbage"},
        {"DateCreated<": "yesterday"},
        {"DateCreated": "2024-02-30"},
    ],
)
def test_compat_bad_parameters_are_a_flat_400(space, params):
    answer = requests.get(space.base_url + COMPAT, params=params, auth=DEMO, timeout=TIMEOUT)
    assert answer.status_code == 400
    body = answer.json()
    assert set(body) == {"code", "message", "more_info", "status"} and body["status"] == 400
    assert type(body["code"]) is int


def test_compat_one_recording_and_its_errors(space):
    rec = space.compat_recordings(DEMO_PROJECT_ID)[3]
    answer = requests.get(f"{space.base_url}{COMPAT}/{rec['sid']}.json", auth=DEMO, timeout=TIMEOUT)
    assert answer.status_code == 200 and answer.json() == rec
    assert rec["uri"] == f"{COMPAT}/{rec['sid']}.json"
    other = space.compat_recordings(OTHER_PROJECT_ID)[0]["sid"]
    relay = space.recordings(DEMO_PROJECT_ID)[0]["id"]
    for missing in (str(uuid.uuid4()), other, relay, "nope"):
        answer = requests.get(
            f"{space.base_url}{COMPAT}/{missing}.json", auth=DEMO, timeout=TIMEOUT
        )
        body = answer.json()
        assert answer.status_code == 404 and (body["code"], body["status"]) == (20404, 404)
    for auth in (None, (DEMO_PROJECT_ID, "PTwrong")):
        answer = requests.get(
            f"{space.base_url}{COMPAT}/{rec['sid']}.json", auth=auth, timeout=TIMEOUT
        )
        assert answer.status_code == 401 and answer.json()["status"] == 401
        assert answer.headers["WWW-Authenticate"] == 'Basic realm="SignalWire"'
    # Credentials of one project, the path of another.
    answer = requests.get(
        f"{space.base_url}{COMPAT}/{rec['sid']}.json", auth=OTHER, timeout=TIMEOUT
    )
    assert answer.status_code == 401
    answer = requests.post(f"{space.base_url}{COMPAT}.json", auth=DEMO, timeout=TIMEOUT)
    assert answer.status_code == 405 and answer.json()["code"] == 20004
    unknown = requests.get(
        f"{space.base_url}{COMPAT}/{rec['sid']}/Transcriptions.json", auth=DEMO, timeout=TIMEOUT
    )
    assert unknown.status_code == 404 and unknown.json()["status"] == 404


def test_compat_media_is_wav_or_mp3(space):
    rec = next(r for r in space.compat_recordings(DEMO_PROJECT_ID) if 0 < r["duration"] <= 30)
    url = f"{space.base_url}{COMPAT}/{rec['sid']}"
    bare, wav = (requests.get(u, auth=DEMO, timeout=TIMEOUT) for u in (url, url + ".wav"))
    assert bare.content == wav.content and bare.headers["Content-Type"] == "audio/wav"
    with wave.open(io.BytesIO(wav.content)) as audio:
        assert audio.getnframes() == rec["duration"] * 8000
        assert audio.getnchannels() == int(rec["channels"])
    mp3 = requests.get(url + ".mp3", auth=DEMO, timeout=TIMEOUT)
    assert mp3.headers["Content-Type"] == "audio/mpeg"
    assert len(mp3.content) == mp3_size(rec["duration"], rec["channels"] == "2")
    assert decoded(mp3.content)[1] == int(rec["channels"])
    ranged = requests.get(url, headers={"Range": "bytes=0-3"}, auth=DEMO, timeout=TIMEOUT)
    assert ranged.status_code == 206 and ranged.content == b"RIFF"
    # Protected by default, as RELAY media is; flat errors on this family's paths.
    answer = requests.get(url, timeout=TIMEOUT)
    assert answer.status_code == 401 and answer.json()["code"] == 20003
    assert requests.get(url + ".mp4", auth=DEMO, timeout=TIMEOUT).status_code == 404


def test_compat_media_is_public_on_a_realistic_space_and_on_the_files_host(real):
    rec = next(r for r in real.compat_recordings(DEMO_PROJECT_ID) if 0 < r["duration"] <= 30)
    url = f"{real.base_url}{COMPAT}/{rec['sid']}.mp3"
    answer = requests.get(url, timeout=TIMEOUT)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "audio/mpeg"
    stored = f"{real.files_url}/{DEMO_SPACE_ID}/{DEMO_PROJECT_ID}/recordings/{rec['sid']}"
    assert requests.get(stored + ".mp3", timeout=TIMEOUT).content == answer.content
    assert requests.get(stored + ".wav", timeout=TIMEOUT).content[:4] == b"RIFF"
    assert requests.get(stored + ".mp4", timeout=TIMEOUT).status_code == 404


def test_compat_media_may_redirect_to_storage():
    with DemoSpace(count=40, now=NOW, compat_redirect=True) as redirecting:
        sid = redirecting.compat_recordings(DEMO_PROJECT_ID)[0]["sid"]
        url = f"{redirecting.base_url}{COMPAT}/{sid}.mp3"
        answer = requests.get(url, auth=DEMO, allow_redirects=False, timeout=TIMEOUT)
        assert answer.status_code == 302
        target = f"{redirecting.files_url}/{DEMO_SPACE_ID}/{DEMO_PROJECT_ID}/recordings/{sid}.mp3"
        assert answer.headers["Location"] == target
        # Storage is another host: the media there is protected (the default) like here.
        assert requests.get(target, timeout=TIMEOUT).status_code == 401
        stored = requests.get(target, auth=DEMO, timeout=TIMEOUT)
        assert stored.headers["Content-Type"] == "audio/mpeg"
    with DemoSpace(count=40, now=NOW, compat_redirect=True, media_host="files") as real_like:
        answer = requests.get(
            f"{real_like.base_url}{COMPAT}/{sid}", auth=DEMO, allow_redirects=False, timeout=TIMEOUT
        )
        assert answer.headers["Location"].startswith(f"{FILES}/{DEMO_SPACE_ID}/")
        assert answer.headers["Location"].endswith(f"/recordings/{sid}.wav")


@pytest.mark.parametrize("suffix", ["", ".json"])
def test_compat_delete_removes_it_from_its_family_only(space, suffix):
    rec = space.compat_recordings(DEMO_PROJECT_ID)[0]
    url = f"{space.base_url}{COMPAT}/{rec['sid']}"
    answer = requests.delete(url + suffix, auth=DEMO, timeout=TIMEOUT)
    assert answer.status_code == 204 and answer.content == b""
    assert requests.get(url + ".json", auth=DEMO, timeout=TIMEOUT).status_code == 404
    assert requests.get(url, auth=DEMO, timeout=TIMEOUT).status_code == 404
    assert requests.delete(url + suffix, auth=DEMO, timeout=TIMEOUT).status_code == 404
    assert len(space.compat_recordings(DEMO_PROJECT_ID)) == 299
    assert len(space.recordings(DEMO_PROJECT_ID)) == 2000
    assert requests.delete(url + ".wav", auth=DEMO, timeout=TIMEOUT).status_code == 405


def test_compat_seeded_data_looks_like_a_real_space(space):
    recs = space.compat_recordings(DEMO_PROJECT_ID)
    statuses = [r["status"] for r in recs]
    # A real day: one call being recorded now (queued, paused and resumed recordings
    # are made with add_compat_recording where a test needs them).
    assert set(statuses) == {"completed", "absent", "in-progress", "stopped"}
    assert statuses.count("completed") > 0.8 * len(recs)
    assert {r["source"] for r in recs} == {
        "RecordVerb",
        "DialVerb",
        "Conference",
        "OutBoundApi",
        "Trunking",
        "StartCallRecordingApi",
        "StartConferenceRecording",
    }
    prices = [r["price"] for r in recs]
    assert 0 < prices.count(None) < 0.15 * len(recs)
    for rec in recs:
        assert (rec["call_sid"] is None) != (rec["conference_sid"] is None), rec
        assert rec["channel"] == rec["channels"] in ("1", "2")
        assert type(rec["duration"]) is int
        if rec["status"] == "completed" and rec["price"] is not None:
            assert float(rec["price"]) < 0 and re.match(r"^-\d\.\d{4}$", rec["price"])
        for key in ("date_created", "date_updated"):
            assert parsedate_to_datetime(rec[key]) <= NOW
        assert rec["encryption_details"] is None


def test_compat_calls(space):
    recs = [r for r in space.compat_recordings(DEMO_PROJECT_ID) if r["call_sid"]]
    base = f"{space.base_url}/api/laml/2010-04-01/Accounts/{DEMO_PROJECT_ID}/Calls"
    for rec in recs[:20]:
        answer = requests.get(f"{base}/{rec['call_sid']}.json", auth=DEMO, timeout=TIMEOUT)
        call = answer.json()
        assert answer.status_code == 200 and call == space.call(DEMO_PROJECT_ID, rec["call_sid"])
        assert call["sid"] == rec["call_sid"]
        # Calls come from several countries (E.164), and now and then from a withheld
        # number; they go to one of the project's numbers.
        assert call["from"] == "anonymous" or re.fullmatch(r"\+[1-9]\d{7,14}", call["from"])
        assert re.fullmatch(r"\+[1-9]\d{7,14}", call["to"]) and call["from"] != call["to"]
        assert parsedate_to_datetime(call["start_time"]) <= when(rec)
    answer = requests.get(f"{base}/{uuid.uuid4()}.json", auth=DEMO, timeout=TIMEOUT)
    assert answer.status_code == 404 and answer.json()["code"] == 20404


def test_compat_recordings_can_be_added(space):
    rec = space.add_compat_recording(DEMO_PROJECT_ID, duration=7, price=None, status="<b>x</b>")
    answer = requests.get(
        space.base_url + COMPAT, params={"PageSize": 1}, auth=DEMO, timeout=TIMEOUT
    )
    assert (
        answer.json()["recordings"] == [rec]
        and rec["price"] is None
        and rec["status"] == "<b>x</b>"
    )
    assert space.delete_compat_recording(DEMO_PROJECT_ID, rec["sid"])


# ---- the client's hard cases ------------------------------------------------------------------


def test_relay_oldest_first_pages_every_recording_once():
    with DemoSpace(count=57, now=NOW, relay_order="oldest") as oldest, requests.Session() as http:
        http.auth = DEMO
        pages = collect(http, oldest, 10)
        recs = [r for page in pages for r in page["data"]]
        assert recs == oldest.recordings(DEMO_PROJECT_ID)
        assert [r["created_at"] for r in recs] == sorted(r["created_at"] for r in recs)
        assert [len(p["data"]) for p in pages] == [10, 10, 10, 10, 10, 7]
        assert "prev" not in pages[0]["links"] and "next" not in pages[-1]["links"]
        back = get(http, oldest, pages[3]["links"]["prev"]).json()
        assert back["data"] == pages[2]["data"]
        # Keyset paging: deleting what a next page would start with skips nothing else.
        gone = pages[2]["data"][0]["id"]
        assert http.delete(oldest.base_url + f"{LIST}/{gone}").status_code == 204
        third = get(http, oldest, pages[1]["links"]["next"]).json()
        assert third["data"] == pages[2]["data"][1:] + pages[3]["data"][:1]
        # An empty page past the end links back to the last full page.
        for rec in pages[-1]["data"]:
            assert http.delete(oldest.base_url + f"{LIST}/{rec['id']}").status_code == 204
        empty = get(http, oldest, pages[-2]["links"]["next"]).json()
        assert empty["data"] == [] and "next" not in empty["links"]
        assert get(http, oldest, empty["links"]["prev"]).json()["data"] == pages[-2]["data"]


def test_a_scopeless_token_can_get_401_instead_of_403():
    auth = (NO_VOICE_PROJECT_ID, NO_VOICE_API_TOKEN)
    compat = f"/api/laml/2010-04-01/Accounts/{NO_VOICE_PROJECT_ID}/Recordings.json"
    with DemoSpace(count=5, now=NOW, scopeless_status=401) as strict:
        answer = requests.get(strict.base_url + LIST, auth=auth, timeout=TIMEOUT)
        assert (answer.status_code, answer.json()) == (401, {"error": "Unauthorized"})
        assert answer.headers["WWW-Authenticate"] == 'Basic realm="SignalWire"'
        answer = requests.get(strict.base_url + compat, auth=auth, timeout=TIMEOUT)
        assert answer.status_code == 401 and answer.json()["code"] == 20003
    with DemoSpace(count=5, now=NOW) as default:
        answer = requests.get(default.base_url + compat, auth=auth, timeout=TIMEOUT)
        assert answer.status_code == 403 and answer.json()["status"] == 403


def test_one_family_can_be_refused_to_a_project(space):
    space.refuse_compat(DEMO_PROJECT_ID)
    answer = requests.get(space.base_url + COMPAT, auth=DEMO, timeout=TIMEOUT)
    assert answer.status_code == 401 and answer.json()["code"] == 20003
    assert requests.get(space.base_url + LIST, auth=DEMO, timeout=TIMEOUT).status_code == 200
    other = f"/api/laml/2010-04-01/Accounts/{OTHER_PROJECT_ID}/Recordings"
    assert requests.get(space.base_url + other, auth=OTHER, timeout=TIMEOUT).status_code == 200
    space.refuse_relay(OTHER_PROJECT_ID, status=403)
    answer = requests.get(space.base_url + LIST, auth=OTHER, timeout=TIMEOUT)
    assert (answer.status_code, answer.json()) == (403, {"error": "Forbidden"})
    space.reset()
    assert requests.get(space.base_url + COMPAT, auth=DEMO, timeout=TIMEOUT).status_code == 200


# ---- switches and the command line ------------------------------------------------------------


def test_realistic_turns_the_switches_on_and_a_given_one_wins():
    real = DemoSpace(count=50, now=NOW, realistic=True, formats="wav")
    assert (real.media_host, real.status_words, real.formats, real.public_media) == (
        "files",
        "real",
        "wav",
        True,
    )
    assert all(r["url"].endswith(".wav") for r in real.recordings(DEMO_PROJECT_ID))
    plain = DemoSpace(count=50, now=NOW)
    assert (plain.media_host, plain.status_words, plain.formats, plain.public_media) == (
        "space",
        "legacy",
        "wav",
        False,
    )
    assert (plain.relay_order, plain.scopeless_status, plain.compat_redirect) == (
        "newest",
        403,
        False,
    )
    for bad in (
        {"media_host": "cdn"},
        {"formats": "ogg"},
        {"status_words": "x"},
        {"relay_order": "random"},
        {"scopeless_status": 500},
    ):
        with pytest.raises(ValueError):
            DemoSpace(count=1, **bad)


def test_the_command_line_has_a_flag_for_every_switch():
    default = space_from_args([])
    assert (default.media_host, default.status_words, default.formats, default.public_media) == (
        "space",
        "legacy",
        "wav",
        False,
    )
    real = space_from_args(["--realistic", "--count", "10"])
    assert (real.media_host, real.status_words, real.formats, real.public_media) == (
        "files",
        "real",
        "mixed",
        True,
    )
    each = space_from_args(
        [
            "--count=10",
            "--media-host=files",
            "--status-words=real",
            "--formats=mixed",
            "--public-media",
            "--relay-order=oldest",
            "--scopeless-status=401",
            "--compat-redirect",
            "--files-port=0",
        ]
    )
    assert (each.relay_order, each.scopeless_status, each.compat_redirect) == ("oldest", 401, True)
    assert (each.media_host, each.status_words, each.formats, each.public_media) == (
        "files",
        "real",
        "mixed",
        True,
    )
    assert space_from_args(["--realistic", "--no-public-media", "--count=10"]).public_media is False


def test_all_three_hosts_stop():
    running = DemoSpace(count=5, now=NOW).start()
    urls = (running.base_url, running.files_url, running.foreign_url)
    assert len(set(urls)) == 3
    running.stop()
    for url in urls:
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=TIMEOUT)
    with pytest.raises(RuntimeError):
        running.files_url  # noqa: B018


@pytest.mark.parametrize("now", [NOW, datetime(2026, 12, 1, 15, 0, tzinfo=UTC)])
@pytest.mark.parametrize("project", [DEMO_PROJECT_ID, OTHER_PROJECT_ID])
def test_the_newest_recordings_look_like_a_real_day(now, project):
    space = DemoSpace(now=now)
    rows = [(r["created_at"], r["status"], r["price"]) for r in space.recordings(project)]
    for r in space.compat_recordings(project):
        created = parsedate_to_datetime(r["date_created"]).strftime("%Y-%m-%dT%H:%M:%SZ")
        price = None if r["price"] is None else -float(r["price"])
        rows.append((created, r["status"], price))
    newest = sorted(rows, reverse=True)[:50]
    in_flight = [
        status
        for _, status, _ in newest
        if status not in ("completed", "failed", "absent", "stopped")
    ]
    assert len(in_flight) <= 3, in_flight
    every_in_flight = [s for _, s, _ in rows if s in ("in-progress", "queued", "paused", "resumed")]
    assert 1 <= len(every_in_flight) <= 3  # a few calls are being recorded right now
    priced = [price for _, _, price in newest if price]
    assert len(priced) >= 40, newest  # mostly finished and priced, not $0.00
    again = DemoSpace(now=now).recordings(project)
    assert again == space.recordings(project)  # still the same seeded data every run
