"""The index holds both API families: RELAY's recordings and the Compatibility (cXML)
API's, each with its family, cost and status family; a family SignalWire refuses is
skipped and named, and the other is still indexed."""

from datetime import timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from demo_space import DEMO_PROJECT_ID
from recordings_app import index
from recordings_app.models import Credential, IndexedRecording, IndexSync
from recordings_app.signalwire import CredentialsRejected, status_family

COMPAT_LIST = f"/api/laml/2010-04-01/Accounts/{DEMO_PROJECT_ID}/Recordings"
RELAY_COUNT, COMPAT_COUNT = 2000, 300


@pytest.fixture
def credential(alice) -> Credential:
    return Credential.objects.get(user=alice)


def compat_requests(space) -> list[str]:
    return [path for method, path, _ in space.request_log if path.startswith(COMPAT_LIST + "?")]


def row_of(credential, recording_id) -> IndexedRecording:
    return IndexedRecording.objects.get(credential=credential, recording_id=recording_id)


def test_a_sync_indexes_both_families_with_their_family_cost_and_status_family(
    credential, demo_space
):
    index.run_sync(credential)

    rows = index.indexed_recordings(credential)
    assert rows.filter(family="relay").count() == RELAY_COUNT
    assert rows.filter(family="compat").count() == COMPAT_COUNT
    upstream = demo_space.compat_recordings(DEMO_PROJECT_ID)
    charged = next(r for r in upstream if r["price"] and r["price"].startswith("-0.0"))
    row = row_of(credential, charged["sid"])
    # SignalWire: a Compatibility price is negative for a cost; the index keeps the cost.
    assert row.price == -Decimal(charged["price"]) > 0
    assert row.family == "compat" and row.source == "cxml"
    assert row.cxml_source == charged["source"] and row.call_sid == (charged["call_sid"] or "")
    assert row.status_family == status_family(charged["status"], charged["error_code"])
    unrated = next(r for r in upstream if r["price"] is None)
    assert row_of(credential, unrated["sid"]).price is None
    for word, family in (("absent", "no_audio"), ("in-progress", "in_progress")):
        sample = next(r for r in upstream if r["status"] == word and not r["error_code"])
        assert row_of(credential, sample["sid"]).status_family == family
    relay = demo_space.recordings(DEMO_PROJECT_ID)[0]
    relay_row = row_of(credential, relay["id"])
    assert relay_row.family == "relay" and relay_row.cxml_source == "" and relay_row.call_sid == ""


def test_an_indexed_row_reads_back_as_the_clients_recording_with_its_family(credential, demo_space):
    index.run_sync(credential)
    sample = next(
        r for r in demo_space.compat_recordings(DEMO_PROJECT_ID) if r["call_sid"] and r["price"]
    )

    recording = row_of(credential, sample["sid"]).as_recording()

    assert (recording.family, recording.cxml_source) == ("compat", sample["source"])
    assert recording.call_sid == sample["call_sid"]
    assert recording.source_label == f"cXML ({sample['source']})"
    assert recording.status_family == row_of(credential, sample["sid"]).status_family


def test_a_refused_compatibility_list_still_indexes_relay_and_says_what_it_could_not_read(
    credential, demo_space, alice_client
):
    demo_space.refuse_compat(DEMO_PROJECT_ID, 401)

    state = index.run_sync(credential)

    assert state.state == IndexSync.State.IDLE and state.last_error == ""
    rows = index.indexed_recordings(credential)
    assert rows.filter(family="relay").count() == RELAY_COUNT
    assert not rows.filter(family="compat").exists()
    assert state.unavailable["compat"].startswith(
        "Compatibility (cXML) recordings: SignalWire answered 401"
    )
    page = alice_client.get("/index/status/").content.decode()
    assert "Search covers recordings up to" in page
    assert "Not in the index: Compatibility (cXML) recordings: SignalWire answered 401" in page


def test_a_refused_relay_list_still_indexes_compatibility(credential, demo_space):
    demo_space.refuse_relay(DEMO_PROJECT_ID, 403)

    state = index.run_sync(credential)

    rows = index.indexed_recordings(credential)
    assert rows.filter(family="compat").count() == COMPAT_COUNT
    assert not rows.filter(family="relay").exists()
    assert list(state.unavailable) == ["relay"]
    assert "RELAY recordings: SignalWire answered 403" in state.unavailable["relay"]


def test_recordings_of_a_refused_family_are_kept_not_marked_vanished(credential, demo_space):
    index.run_sync(credential)
    demo_space.refuse_compat(DEMO_PROJECT_ID, 403)

    state = index.run_sync(credential, full=True)

    assert "compat" in state.unavailable
    assert index.indexed_recordings(credential).filter(family="compat").count() == COMPAT_COUNT
    demo_space.reset()
    assert index.run_sync(credential).unavailable == {}  # readable again: nothing to say


def test_when_neither_family_can_be_read_the_sync_fails_and_the_next_starts_afresh(
    credential, demo_space
):
    demo_space.refuse_relay(DEMO_PROJECT_ID, 401)
    demo_space.refuse_compat(DEMO_PROJECT_ID, 401)

    with pytest.raises(CredentialsRejected):
        index.run_sync(credential)

    state = index.sync_state(credential)
    assert state.state == IndexSync.State.FAILED
    assert "SignalWire rejected the credentials" in state.last_error
    demo_space.reset()
    state = index.run_sync(credential)
    assert index.indexed_recordings(credential).count() == RELAY_COUNT + COMPAT_COUNT
    assert state.full_pass and state.unavailable == {}


def test_an_incremental_pass_asks_compatibility_for_what_is_newer_than_its_horizon(
    credential, demo_space
):
    index.run_sync(credential)
    through = index.sync_state(credential).compat_complete_through
    horizon = through - timedelta(days=index.RECHECK_DAYS)
    upstream = demo_space.compat_recordings(DEMO_PROJECT_ID)  # newest first
    recent = next(
        r for r in upstream if parsedate_to_datetime(r["date_created"]) > horizon + timedelta(1)
    )
    old = next(
        r for r in upstream if parsedate_to_datetime(r["date_created"]) < horizon - timedelta(1)
    )
    demo_space.delete_compat_recording(DEMO_PROJECT_ID, recent["sid"])
    demo_space.delete_compat_recording(DEMO_PROJECT_ID, old["sid"])
    added = demo_space.add_compat_recording(DEMO_PROJECT_ID, price="-0.0125")
    demo_space.clear_request_log()

    state = index.run_sync(credential)

    assert not state.full_pass
    [request] = compat_requests(demo_space)
    asked = parse_qs(urlsplit(request).query)["DateCreated>"]
    assert asked == [horizon.strftime("%a, %d %b %Y %H:%M:%S +0000")]
    live = index.indexed_recordings(credential)
    assert live.get(recording_id=added["sid"]).price == Decimal("0.0125")
    # Marked vanished only within the window it re-read: the old one waits for a full pass.
    assert not live.filter(recording_id=recent["sid"]).exists()
    assert live.filter(recording_id=old["sid"]).exists()
    index.run_sync(credential, full=True)
    assert not live.filter(recording_id=old["sid"]).exists()


def test_a_full_pass_asks_compatibility_for_everything(credential, demo_space):
    index.run_sync(credential)
    demo_space.clear_request_log()

    index.run_sync(credential, full=True)

    [request] = compat_requests(demo_space)
    assert "DateCreated" not in request
