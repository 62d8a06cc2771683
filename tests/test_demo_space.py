"""Tests of demo_space, the local SignalWire stand-in: plain pytest over HTTP, no Django."""

import io
import re
import time
import uuid
import wave
from datetime import UTC, datetime

import pytest
import requests

from demo_space import (
    DEMO_API_TOKEN,
    DEMO_PROJECT_ID,
    MISSING,
    NO_VOICE_API_TOKEN,
    NO_VOICE_PROJECT_ID,
    OTHER_API_TOKEN,
    OTHER_PROJECT_ID,
    DemoSpace,
    iter_wav,
    wav_size,
)

TIMEOUT = 10
NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
LIST = "/api/relay/rest/recordings"
DEMO = (DEMO_PROJECT_ID, DEMO_API_TOKEN)
OTHER = (OTHER_PROJECT_ID, OTHER_API_TOKEN)
REQUIRED = {
    "id",
    "project_id",
    "created_at",
    "updated_at",
    "duration_in_seconds",
    "price",
    "price_unit",
    "status",
    "url",
    "stereo",
    "track",
}
LEGS = {"relay_pstn_leg_id", "relay_sip_leg_id", "relay_webrtc_leg_id"}
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
        sources = keys - REQUIRED - {"error_code", "byte_size"}
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
