"""The sync joins who called whom in bulk: voice logs and calls for the window of what it
indexed, in pages of 1,000, matched by leg id and call sid; a leg not in the window is
looked up once by id and remembered. Nothing about numbers ever fails the sync."""

import pytest

from demo_space import DEMO_PROJECT_ID
from recordings_app import index
from recordings_app.models import Credential, IndexedRecording, IndexSync
from tests.conftest import text

VOICE_LOGS = "/api/voice/logs"
CALLS = f"/api/laml/2010-04-01/Accounts/{DEMO_PROJECT_ID}/Calls"
LEG_KEYS = ("relay_pstn_leg_id", "relay_sip_leg_id", "relay_webrtc_leg_id")


@pytest.fixture
def credential(alice) -> Credential:
    return Credential.objects.get(user=alice)


def gets(space, prefix: str) -> list[str]:
    return [
        path for method, path, _ in space.request_log if method == "GET" and path.startswith(prefix)
    ]


def leg_of(rec: dict) -> str | None:
    return next((rec[key] for key in LEG_KEYS if rec.get(key)), None)


def row(credential, recording_id) -> IndexedRecording:
    return IndexedRecording.objects.get(credential=credential, recording_id=recording_id)


def test_a_sync_joins_every_number_with_a_few_list_requests_and_no_lookups(credential, demo_space):
    state = index.run_sync(credential)
    assert state.state == IndexSync.State.IDLE

    logs, calls = demo_space.voice_logs(DEMO_PROJECT_ID), demo_space.calls(DEMO_PROJECT_ID)
    # Pages of 1,000, one read of each window, and not one request per recording.
    log_lists = gets(demo_space, VOICE_LOGS + "?")
    assert 1 <= len(log_lists) <= -(-len(logs) // 1000)
    assert all("page_size=1000" in path for path in log_lists)
    assert len(gets(demo_space, CALLS + ".json?")) <= -(-len(calls) // 1000)
    assert gets(demo_space, VOICE_LOGS + "/") == []
    assert gets(demo_space, CALLS + "/") == []

    rows = index.indexed_recordings(credential)
    for rec in demo_space.recordings(DEMO_PROJECT_ID)[:200]:
        stored = row(credential, rec["id"])
        leg = leg_of(rec)
        if leg is None:
            assert stored.numbers_state == "none"
            continue
        log = demo_space.voice_log(DEMO_PROJECT_ID, leg)
        assert stored.numbers_state == "found"
        assert (stored.from_address, stored.to_address) == (log["from"], log["to"])
        assert stored.direction == log["direction"]
    for rec in demo_space.compat_recordings(DEMO_PROJECT_ID)[:50]:
        stored = row(credential, rec["sid"])
        if rec["call_sid"] is None:
            assert stored.numbers_state == "none"
            continue
        call = demo_space.call(DEMO_PROJECT_ID, rec["call_sid"])
        assert (stored.from_address, stored.to_address) == (call["from"], call["to"])
    assert not rows.filter(numbers_state="pending").exists()


def test_the_search_digits_of_a_joined_number_are_reversed_e164(credential, demo_space):
    index.run_sync(credential)
    stored = (
        index.indexed_recordings(credential)
        .filter(numbers_state="found", from_address__startswith="+44")
        .first()
    )
    assert stored.from_rdigits == stored.from_address[1:][::-1]
    sip = index.indexed_recordings(credential).filter(from_address__startswith="sip:").first()
    assert sip.from_rdigits == ""


def test_a_leg_missing_from_the_window_is_looked_up_once_and_remembered(credential, demo_space):
    recs = [r for r in demo_space.recordings(DEMO_PROJECT_ID) if leg_of(r)]
    listed_elsewhere, gone = recs[3], recs[4]
    demo_space.hide_voice_log(DEMO_PROJECT_ID, leg_of(listed_elsewhere))
    demo_space.hide_voice_log(DEMO_PROJECT_ID, leg_of(gone), lookup_too=True)

    index.run_sync(credential)
    lookups = gets(demo_space, VOICE_LOGS + "/")
    assert sorted(lookups) == sorted(f"{VOICE_LOGS}/{leg_of(r)}" for r in (listed_elsewhere, gone))
    log = demo_space.voice_log(DEMO_PROJECT_ID, leg_of(listed_elsewhere))
    assert row(credential, listed_elsewhere["id"]).from_address == log["from"]
    assert row(credential, gone["id"]).numbers_state == "not_found"

    demo_space.clear_request_log()
    index.run_sync(credential)  # incremental: the missing leg is not asked for again
    assert gets(demo_space, VOICE_LOGS + "/") == []
    assert row(credential, gone["id"]).numbers_state == "not_found"


@pytest.mark.parametrize("status", [401, 403])
def test_refused_voice_logs_leave_the_sync_and_the_calls_working(
    credential, demo_space, alice_client, status
):
    demo_space.refuse_voice_logs(DEMO_PROJECT_ID, status)
    state = index.run_sync(credential)
    assert state.state == IndexSync.State.IDLE and state.last_error == ""
    rows = index.indexed_recordings(credential)
    assert rows.filter(family="relay").exclude(numbers_state__in=("refused", "none")).count() == 0
    assert rows.filter(family="compat", numbers_state="found").exists()
    # No lookups after a refusal: the list said it all.
    assert gets(demo_space, VOICE_LOGS + "/") == []

    rec = next(r for r in demo_space.recordings(DEMO_PROJECT_ID) if leg_of(r))
    page = alice_client.get(f"/recordings/{rec['id']}/")
    assert page.status_code == 200
    assert "Number not available." in text(page) and "lack the scope" in text(page)


def test_a_full_pass_asks_again_for_what_was_refused(credential, demo_space):
    demo_space.refuse_voice_logs(DEMO_PROJECT_ID, 403)
    index.run_sync(credential)
    demo_space.reset()
    index.run_sync(credential, full=True)
    assert not index.indexed_recordings(credential).filter(numbers_state="refused").exists()


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 500},
        {"status": 200, "body": "not json", "content_type": "text/plain"},
        {"status": 200, "body": {"links": {}, "data": {"oops": 1}}},
    ],
)
def test_failing_voice_logs_never_fail_the_sync(credential, demo_space, alice_client, fault):
    demo_space.add_fault(path_prefix=VOICE_LOGS, **fault)
    state = index.run_sync(credential)
    assert state.state == IndexSync.State.IDLE and state.last_error == ""
    assert index.indexed_recordings(credential).count() == 2300
    relay_rows = index.indexed_recordings(credential).filter(family="relay")
    assert not relay_rows.filter(numbers_state="found").exists()
    # One lookup was tried after the window could not be read; it failed the same way,
    # so the rest wait for the next pass instead of a request each.
    assert len(set(gets(demo_space, VOICE_LOGS + "/"))) == 1  # (retried, as every GET)
    assert relay_rows.filter(numbers_state="failed").count() <= 2
    rec = next(r for r in demo_space.recordings(DEMO_PROJECT_ID) if leg_of(r))
    response = alice_client.get(f"/recordings/{rec['id']}/")
    assert response.status_code == 200 and "Number not available." in text(response)

    demo_space.clear_faults()
    index.run_sync(credential, full=True)
    assert not relay_rows.exclude(numbers_state__in=("found", "none")).exists()


def test_a_failing_calls_list_falls_back_to_bounded_lookups(credential, demo_space):
    demo_space.add_fault(path_prefix=CALLS + ".json", status=503)
    index.run_sync(credential)
    compat_rows = index.indexed_recordings(credential).filter(family="compat")
    looked_up = gets(demo_space, CALLS + "/")
    assert 0 < len(looked_up) <= index.MAX_LOOKUPS
    found = compat_rows.filter(numbers_state="found").values_list("call_sid", flat=True)
    assert len(set(found)) == len(set(looked_up))  # a call may hold several recordings
