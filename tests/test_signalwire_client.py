"""The client against the demo space over HTTP, and its parsing of what comes back."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from demo_space import DEMO_API_TOKEN, DEMO_PROJECT_ID, MISSING
from recordings_app import signalwire as sw


@pytest.fixture
def client(upstream):
    return sw.SignalWireClient("demo", DEMO_PROJECT_ID, DEMO_API_TOKEN)


@pytest.mark.parametrize(
    "typed",
    ["acme", "ACME", " acme.signalwire.com ", "https://acme.signalwire.com/dashboard/x", "acme/"],
)
@pytest.mark.no_upstream
def test_space_names_are_stored_in_one_form(typed):
    assert sw.normalize_space(typed) == "acme"


@pytest.mark.parametrize("typed", ["", "ac me", "-acme", "acme.example.com/", "a" * 64, "ftp://"])
@pytest.mark.no_upstream
def test_things_that_are_not_space_names_are_refused(typed):
    with pytest.raises(ValueError):
        sw.normalize_space(typed)


@pytest.mark.no_upstream
def test_without_a_base_url_each_space_has_its_own_host(settings):
    settings.SIGNALWIRE_BASE_URL = ""
    assert sw.space_base_url("acme") == "https://acme.signalwire.com"


def test_the_first_page_is_the_newest_recordings_parsed(client, demo_space):
    page = client.list_recordings(page_size=50)
    upstream = demo_space.recordings(DEMO_PROJECT_ID)[:50]
    assert [r.id for r in page.recordings] == [raw["id"] for raw in upstream]
    first = page.recordings[0]
    assert isinstance(first.created_at, datetime) and first.created_at.tzinfo is not None
    assert isinstance(first.price, Decimal)
    assert page.next_cursor and page.prev_cursor is None


def test_following_next_then_prev_returns_the_same_page(client):
    first = client.list_recordings(page_size=25)
    second = client.list_recordings(first.next_cursor)
    back = client.list_recordings(second.prev_cursor)
    assert [r.id for r in back.recordings] == [r.id for r in first.recordings]
    assert {r.id for r in second.recordings}.isdisjoint(r.id for r in first.recordings)


def test_prices_keep_their_decimal_digits(client, demo_space):
    recording = demo_space.add_recording(DEMO_PROJECT_ID, price=0.0025, price_unit="USD")
    assert client.get_recording(recording["id"]).price == Decimal("0.0025")


@pytest.mark.parametrize(
    ("field", "kind"),
    [
        ("relay_pstn_leg_id", "pstn"),
        ("relay_sip_leg_id", "sip"),
        ("relay_webrtc_leg_id", "webrtc"),
        ("relay_conference_id", "conference"),
    ],
)
def test_the_source_kind_comes_from_the_leg_id_present(client, demo_space, field, kind):
    raw = next(
        r
        for r in demo_space.recordings(DEMO_PROJECT_ID)
        if field in r and (kind != "conference" or not any("_leg_id" in key for key in r))
    )
    recording = client.get_recording(raw["id"])
    assert recording.source == kind
    assert (recording.leg_id if kind != "conference" else recording.conference_id) == raw[field]


@pytest.mark.no_upstream
def test_off_schema_fields_are_marked_not_fatal():
    recording = sw.Recording.from_api(
        {
            "id": "9b2f6c1e-0b0a-4c59-8d0e-3f0f2d1c7a11",
            "created_at": "yesterday",
            "duration_in_seconds": "12",
            "price": True,
            "status": None,
            "stereo": "yes",
            "relay_pstn_leg_id": "9b2f6c1e-0b0a-4c59-8d0e-3f0f2d1c7a12",
        }
    )
    assert recording.id == "9b2f6c1e-0b0a-4c59-8d0e-3f0f2d1c7a11"
    assert recording.source == "pstn"
    assert recording.created_at is None and recording.duration_seconds is None
    assert {"created_at", "duration_in_seconds", "price", "status", "stereo", "url"} <= set(
        recording.problems
    )


@pytest.mark.no_upstream
def test_two_leg_ids_make_the_source_unknown():
    recording = sw.Recording.from_api(
        {
            "relay_pstn_leg_id": "9b2f6c1e-0b0a-4c59-8d0e-3f0f2d1c7a12",
            "relay_sip_leg_id": "9b2f6c1e-0b0a-4c59-8d0e-3f0f2d1c7a13",
        }
    )
    assert recording.source == "unknown" and "source" in recording.problems


@pytest.mark.no_upstream
def test_a_list_item_that_is_not_an_object_is_kept_as_a_marked_row():
    assert sw.Recording.from_api(["x"]).problems == ("not a recording object",)


def test_a_recording_missing_required_fields_still_parses(client, demo_space):
    raw = demo_space.add_recording(DEMO_PROJECT_ID, price=MISSING, created_at=None)
    recording = client.get_recording(raw["id"])
    assert recording.price is None and recording.created_at is None
    assert {"price", "created_at"} <= set(recording.problems)


def test_paging_links_to_another_host_are_never_followed(client):
    assert client._cursor("https://evil.example/api/relay/rest/recordings?page_token=x") is None
    assert client._cursor("/somewhere/else?page_token=x") is None
    assert client._cursor("/api/relay/rest/recordings?page_token=x") == "page_token=x"
    assert client._cursor(client.base_url + "/api/relay/rest/recordings?a=1") == "a=1"


def test_a_malformed_id_raises_not_found_without_a_request(client, demo_space):
    before = len(demo_space.request_log)
    with pytest.raises(sw.RecordingNotFound):
        client.get_recording("../../etc/passwd")
    assert len(demo_space.request_log) == before


def test_a_media_url_that_is_not_http_is_refused_not_fetched(client, demo_space):
    # Media on other hosts is fetched, without the credentials: test_signalwire_media.py.
    raw = demo_space.add_recording(DEMO_PROJECT_ID, url="ftp://127.0.0.2/x.wav")
    recording = client.get_recording(raw["id"])
    before = len(demo_space.request_log)
    with pytest.raises(sw.MediaUnavailable):
        client.open_media(recording)
    assert len(demo_space.request_log) == before


def test_the_client_never_shows_its_token():
    client = sw.SignalWireClient("demo", DEMO_PROJECT_ID, DEMO_API_TOKEN)
    assert DEMO_API_TOKEN not in repr(client)


@pytest.mark.no_upstream
def test_totals_never_add_different_currencies():
    def rec(price, unit, seconds):
        return sw.Recording(id="x", price=Decimal(price), price_unit=unit, duration_seconds=seconds)

    totals = sw.PageTotals.of([rec("0.05", "USD", 60), rec("0.10", "EUR", 30), rec("1", "USD", 1)])
    assert totals.count == 3 and totals.seconds == 91
    assert totals.price_by_currency == {"EUR": Decimal("0.10"), "USD": Decimal("1.05")}


def test_created_at_is_an_aware_utc_datetime(client, demo_space):
    raw = demo_space.add_recording(DEMO_PROJECT_ID, created_at="2024-01-15T09:30:00Z")
    assert client.get_recording(raw["id"]).created_at == datetime(2024, 1, 15, 9, 30, tzinfo=UTC)


def test_replacing_the_transport_function_sees_every_request(client, monkeypatch):
    # bench/bench_index.py times upstream by replacing `signalwire._send`.
    seen = []
    send = sw._send

    def spy(method, url, **kwargs):
        seen.append((method, url.split("?", 1)[0]))
        return send(method, url, **kwargs)

    monkeypatch.setattr(sw, "_send", spy)
    client.list_recordings(page_size=5)
    assert seen == [("GET", client.base_url + sw.LIST_PATH)]
