"""Who called whom, at the client: voice logs (RELAY legs) and calls (Compatibility), each
answer SignalWire may give, by one lookup and by the list of a window. The demo space
serves them over HTTP; only what a server cannot produce is faked."""

from datetime import UTC, datetime, timedelta

import pytest

from demo_space import (
    DEMO_API_TOKEN,
    DEMO_PROJECT_ID,
    NO_VOICE_API_TOKEN,
    NO_VOICE_PROJECT_ID,
)
from recordings_app.signalwire import (
    CredentialsRejected,
    MalformedResponse,
    Parties,
    Recording,
    ScopeMissing,
    SignalWireClient,
    UpstreamFailed,
    number_digits,
)

VOICE_LOGS = "/api/voice/logs"
CALLS = f"/api/laml/2010-04-01/Accounts/{DEMO_PROJECT_ID}/Calls"


@pytest.fixture
def client(demo_space) -> SignalWireClient:
    return SignalWireClient("demo", DEMO_PROJECT_ID, DEMO_API_TOKEN)


def relay_with_leg(space, key="relay_pstn_leg_id") -> dict:
    return next(r for r in space.recordings(DEMO_PROJECT_ID) if r.get(key))


def compat_with_call(space) -> dict:
    return next(r for r in space.compat_recordings(DEMO_PROJECT_ID) if r["call_sid"])


def relay(rec) -> Recording:
    return Recording.from_api(rec)


def compat(rec) -> Recording:
    return Recording.from_compat(rec, "demo")


# ------------------------------------------------------------------ one lookup


def test_a_relay_recordings_leg_gives_its_numbers_and_direction(client, demo_space):
    rec = relay_with_leg(demo_space)
    log = demo_space.voice_log(DEMO_PROJECT_ID, rec["relay_pstn_leg_id"])
    parties = client.get_parties(relay(rec))
    assert parties.known and parties.state == "found"
    assert (parties.from_address, parties.to_address) == (log["from"], log["to"])
    assert parties.direction == log["direction"] and parties.id == rec["relay_pstn_leg_id"]


def test_a_sip_leg_keeps_its_uri_as_it_came(client, demo_space):
    rec = relay_with_leg(demo_space, "relay_sip_leg_id")
    parties = client.get_parties(relay(rec))
    assert "sip:" in (parties.from_address or "") + (parties.to_address or "")


def test_a_compat_recordings_call_gives_its_numbers(client, demo_space):
    rec = compat_with_call(demo_space)
    call = demo_space.call(DEMO_PROJECT_ID, rec["call_sid"])
    parties = client.get_parties(compat(rec))
    assert (parties.from_address, parties.to_address) == (call["from"], call["to"])
    assert parties.direction == call["direction"]


def test_a_conference_recording_has_no_single_pair_and_costs_no_request(client, demo_space):
    rec = next(
        r
        for r in demo_space.recordings(DEMO_PROJECT_ID)
        if "relay_pstn_leg_id" not in r
        and "relay_sip_leg_id" not in r
        and "relay_webrtc_leg_id" not in r
    )
    demo_space.clear_request_log()
    parties = client.get_parties(relay(rec))
    assert parties.state == "none" and "conference" in parties.reason.lower()
    assert demo_space.request_log == []


@pytest.mark.parametrize("family", ["relay", "compat"])
def test_a_leg_missing_upstream_is_not_found(client, demo_space, family):
    if family == "relay":
        rec = relay_with_leg(demo_space)
        demo_space.hide_voice_log(DEMO_PROJECT_ID, rec["relay_pstn_leg_id"], lookup_too=True)
        recording = relay(rec)
    else:
        rec = demo_space.add_compat_recording(DEMO_PROJECT_ID)  # its call sid has no call
        recording = compat(rec)
    parties = client.get_parties(recording)
    assert parties.state == "not_found" and not parties.known
    assert "no record" in parties.reason


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize("family", ["relay", "compat"])
def test_a_refusal_says_numbers_are_not_available(client, demo_space, family, status):
    if family == "relay":
        demo_space.refuse_voice_logs(DEMO_PROJECT_ID, status)
        recording = relay(relay_with_leg(demo_space))
    else:
        demo_space.refuse_calls(DEMO_PROJECT_ID, status)
        recording = compat(compat_with_call(demo_space))
    parties = client.get_parties(recording)
    assert parties.state == "refused" and "scope" in parties.reason


def test_a_token_without_the_voice_scope_gets_no_numbers(demo_space):
    client = SignalWireClient("demo", NO_VOICE_PROJECT_ID, NO_VOICE_API_TOKEN)
    leg = relay_with_leg(demo_space)["relay_pstn_leg_id"]
    probe = Recording(id=None, leg_id=leg)
    assert client.get_parties(probe).state == "refused"


@pytest.mark.parametrize(
    ("fault", "family"),
    [
        ({"status": 500}, "relay"),
        ({"status": 503}, "compat"),
        ({"status": 200, "body": "<html>not json</html>", "content_type": "text/html"}, "relay"),
        ({"status": 200, "body": {"calls": "nope"}}, "compat"),
        ({"status": 200, "body": ["not", "a", "log"]}, "relay"),
    ],
)
def test_a_failing_or_malformed_answer_is_failed_not_a_crash(client, demo_space, fault, family):
    prefix = VOICE_LOGS if family == "relay" else CALLS
    demo_space.add_fault(path_prefix=prefix, **fault)
    recording = (
        relay(relay_with_leg(demo_space))
        if family == "relay"
        else compat(compat_with_call(demo_space))
    )
    parties = client.get_parties(recording)
    assert parties.state == "failed" and "tries again" in parties.reason


def test_unknown_and_wrongly_typed_fields_do_not_crash_the_parser():
    parties = Parties.from_voice_log(
        {
            "id": "B7182DC2-00F3-40E4-A5CE-20F164B329DF",
            "from": 12,
            "to": " +12065553434 ",
            "direction": {"x": 1},
            "created_at": "yesterday",
            "surprise": [1, 2],
        }
    )
    assert parties.id == "b7182dc2-00f3-40e4-a5ce-20f164b329df"
    assert parties.from_address is None and parties.to_address == "+12065553434"
    assert parties.direction is None and parties.started_at is None
    discarded = Parties.from_voice_log(
        {
            "id": "b7182dc2-00f3-40e4-a5ce-20f164b329df",
            "discarded_at": "2024-05-06T12:20:00Z",
            "created_at": "2024-05-06T12:20:00Z",
        }
    )
    assert discarded.from_address is None and discarded.to_address is None
    assert Parties.from_call("not a call").state == "failed"


@pytest.mark.parametrize(
    ("address", "digits"),
    [
        ("+14155550100", "14155550100"),
        ("+44 20 7946 0000", "442079460000"),
        ("sip:+14155550100@pbx.example.com", "14155550100"),
        ("sip:agent-7@acme.sip.signalwire.com", ""),
        ("visitor-1234", ""),
        ("anonymous", ""),
        ("4155550100", ""),  # no country code: not guessed
        ("", ""),
        (None, ""),
    ],
)
def test_only_phone_numbers_get_search_digits(address, digits):
    assert number_digits(address) == digits


# ------------------------------------------------------------ the window's list


def test_the_voice_logs_list_pages_a_window_in_thousands(client, demo_space):
    logs = demo_space.voice_logs(DEMO_PROJECT_ID)
    newest = datetime.fromisoformat(logs[0]["created_at"].replace("Z", "+00:00"))
    after = newest - timedelta(days=200)
    seen, cursor, pages = [], None, 0
    while True:
        page = client.list_voice_logs(cursor, 1000, created_after=after, created_before=newest)
        pages += 1
        seen += [p.id for p in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(log["id"] for log in logs)
    assert pages == -(-len(logs) // 1000)
    sizes = [path for _, path, _ in demo_space.request_log if path.startswith(VOICE_LOGS + "?")]
    assert all("page_size=1000" in path for path in sizes)


def test_a_narrow_window_holds_only_its_logs(client, demo_space):
    logs = demo_space.voice_logs(DEMO_PROJECT_ID)
    middle = logs[len(logs) // 2]
    moment = datetime.fromisoformat(middle["created_at"].replace("Z", "+00:00"))
    page = client.list_voice_logs(created_after=moment, created_before=moment)
    assert middle["id"] in {p.id for p in page.items}
    assert all(p.started_at == moment for p in page.items)


def test_every_page_of_a_window_keeps_to_the_window(client, demo_space):
    # SignalWire carries a list's filters on in its `next` link; the demo space's links
    # once dropped them, so the pages after the first ran on past the window.
    logs = demo_space.voice_logs(DEMO_PROJECT_ID)
    times = sorted(datetime.fromisoformat(log["created_at"].replace("Z", "+00:00")) for log in logs)
    after = times[len(times) // 2]
    seen, cursor = [], None
    while True:
        page = client.list_voice_logs(cursor, 10, created_after=after)
        seen += page.items
        if (cursor := page.next_cursor) is None:
            break
        assert "created_after=" in cursor
    assert len(seen) > 10  # more than one page
    assert all(p.started_at >= after for p in seen)
    assert len(seen) == sum(1 for moment in times if moment >= after)


def test_the_calls_list_filters_by_start_time(client, demo_space):
    calls = demo_space.calls(DEMO_PROJECT_ID)
    start = datetime.strptime(calls[5]["start_time"], "%a, %d %b %Y %H:%M:%S %z")
    page = client.list_calls(started_after=start, started_before=start + timedelta(seconds=1))
    assert calls[5]["sid"] in {p.id for p in page.items}
    assert all(start <= p.started_at <= start + timedelta(seconds=1) for p in page.items)
    assert any(
        "StartTime%3E=" in path or "StartTime>=" in path for _, path, _ in demo_space.request_log
    )


@pytest.mark.parametrize(("status", "error"), [(401, CredentialsRejected), (403, ScopeMissing)])
def test_a_refused_list_raises_the_clients_own_exception(client, demo_space, status, error):
    demo_space.refuse_voice_logs(DEMO_PROJECT_ID, status)
    with pytest.raises(error):
        client.list_voice_logs(created_after=datetime(2024, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"status": 500}, UpstreamFailed),
        ({"status": 200, "body": {"links": {}, "data": "nope"}}, MalformedResponse),
        ({"status": 200, "body": "{", "content_type": "application/json"}, MalformedResponse),
    ],
)
def test_a_failing_list_raises_the_clients_own_exception(client, demo_space, fault, error):
    demo_space.add_fault(path_prefix=VOICE_LOGS, **fault)
    with pytest.raises(error):
        client.list_voice_logs()


def test_a_next_link_to_another_host_is_never_followed(client, demo_space):
    demo_space.add_fault(
        path_prefix=VOICE_LOGS,
        times=1,
        status=200,
        body={
            "links": {"self": "x", "first": "x", "next": "https://evil.example/api/voice/logs?p=2"},
            "data": [],
        },
    )
    assert client.list_voice_logs().next_cursor is None
