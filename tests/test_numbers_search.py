"""A support agent's first question: "what did this customer say?" The search box takes
the customer's number in any common form, or its last digits, and the Open box takes a
call sid or a leg id; the list, a recording's page and the CSV show who called whom."""

import pytest

from demo_space import DEMO_PROJECT_ID
from recordings_app import index, search
from recordings_app.errors import Problem
from recordings_app.models import Credential, Profile
from recordings_app.search import is_id_piece, number_search
from tests.conftest import csv_lines, text

CUSTOMER = "+14155550100"  # a regular caller of the demo space
UK_CUSTOMER = "+442079460000"
LEG_KEYS = ("relay_pstn_leg_id", "relay_sip_leg_id", "relay_webrtc_leg_id")


@pytest.fixture
def indexed(alice, demo_space) -> Credential:
    credential = Credential.objects.get(user=alice)
    index.run_sync(credential)
    return credential


def recordings_of(space, number: str) -> set[str]:
    """The ids of the demo recordings whose call has `number` at either end."""
    ids = set()
    for rec in space.recordings(DEMO_PROJECT_ID):
        leg = next((rec[k] for k in LEG_KEYS if rec.get(k)), None)
        log = leg and space.voice_log(DEMO_PROJECT_ID, leg)
        if log and number in (log["from"], log["to"]):
            ids.add(rec["id"])
    for rec in space.compat_recordings(DEMO_PROJECT_ID):
        call = rec["call_sid"] and space.call(DEMO_PROJECT_ID, rec["call_sid"])
        if call and number in (call["from"], call["to"]):
            ids.add(rec["sid"])
    return ids


def shown(response) -> set[str]:
    return {r.id for r in response.context["table"].recordings}


@pytest.mark.parametrize(
    "typed", ["+1 415 555 0100", "(415) 555-0100", "4155550100", "+14155550100", "415.555.0100"]
)
def test_a_customers_number_in_any_form_finds_their_recordings(
    alice_client, indexed, demo_space, typed
):
    expected = recordings_of(demo_space, CUSTOMER)
    assert len(expected) >= 3  # the demo's regular caller, in both API families
    response = alice_client.get("/recordings/", {"q": typed, "size": 100})
    assert response.status_code == 200
    assert shown(response) == expected
    assert "(415) 555-0100" in text(response)  # shown in the reader's national form


def test_an_international_number_with_00_finds_the_uk_customer(alice_client, indexed, demo_space):
    expected = recordings_of(demo_space, UK_CUSTOMER)
    assert expected
    response = alice_client.get("/recordings/", {"q": "0044 20 7946 0000", "size": 100})
    assert shown(response) == expected
    assert "+44 20 7946 0000" in text(response)


def test_a_national_number_is_read_in_the_users_region(alice, alice_client, indexed, demo_space):
    Profile.objects.create(user=alice, phone_region="GB")
    response = alice_client.get("/recordings/", {"q": "020 7946 0000", "size": 100})
    assert shown(response) == recordings_of(demo_space, UK_CUSTOMER)
    assert "020 7946 0000" in text(response)  # national form for a reader in GB
    assert "+1 415-555-0199" in text(response) or "+1 415" in text(response)


def test_the_last_four_digits_match_the_end_of_a_number(alice_client, indexed, demo_space):
    response = alice_client.get("/recordings/", {"q": "0100", "size": 250})
    ids = shown(response)
    assert recordings_of(demo_space, CUSTOMER) <= ids
    credential = indexed
    for rec in response.context["table"].recordings:
        row = index.indexed_recordings(credential).get(recording_id=rec.id)
        ends = (row.from_address, row.to_address)
        is_number = any(end and end.endswith("0100") for end in ends)
        # "0100" could also start an id: both are matched.
        is_id = any(
            value.startswith("0100")
            for value in (row.recording_id, row.leg_id, row.call_sid, row.conference_id)
        )
        assert is_number or is_id


def test_an_id_or_a_prefix_still_searches_ids(alice_client, indexed, demo_space):
    rec = next(r for r in demo_space.compat_recordings(DEMO_PROJECT_ID) if r["call_sid"])
    for typed in (rec["call_sid"], rec["call_sid"][:13], rec["sid"], rec["sid"][:8]):
        response = alice_client.get("/recordings/", {"q": typed, "size": 100})
        assert response.status_code == 200 and rec["sid"] in shown(response)


@pytest.mark.parametrize("typed", ["abc!", "+12", "call me", "+1 (415) 5x5"])
def test_what_is_neither_a_number_nor_an_id_is_refused_with_the_reason(
    alice_client, indexed, typed
):
    response = alice_client.get("/recordings/", {"q": typed})
    assert response.status_code == 400
    assert "Search by a phone number" in text(response)


@pytest.mark.parametrize("typed", ["+1 415 555 0100", "0100", "3f1c2a9e"])
def test_a_search_reads_the_indexes_not_a_subquery_per_recording(alice, typed):
    # A subquery in the search's OR (the notes' and tags' matches) made PostgreSQL test
    # it against every recording of the account: 2.6 s over 5,000,000
    # (bench/search_scale.py). The notes' matches are read first, as ids.
    credential = Credential.objects.get(user=alice)
    data = search.RecordingFilters({"q": typed}, region="US")
    try:
        rows = search.filtered(credential, data.checked())
    except Problem:
        return  # nothing matches this text: the 400, tested above
    assert str(rows.query).upper().count("SELECT") == 1


def test_the_search_reads_numbers_with_phonenumbers():
    us = number_search("(415) 555-0100", "US")
    assert us.whole == ("00105555141",) and us.endings == ("0010555514",)
    assert number_search("+1 415 555 0100", "US").endings == ()
    uk = number_search("0044 20 7946 0000", "US")
    assert uk.whole == ("000064970244",) and uk.endings == ()
    assert number_search("0100", "US").whole == ()
    assert number_search("0100", "US").endings == ("0010",)
    assert number_search("123", "US") is None
    assert number_search("sip:alice", "US") is None
    assert is_id_piece("3f1c2a9e-8b7d") and is_id_piece("0100")
    assert not is_id_piece("4155550100") and not is_id_piece("415-555-0100")


# ----------------------------------------------------------------- what a user sees


def test_the_list_shows_from_to_and_direction(alice_client, indexed, demo_space):
    response = alice_client.get("/recordings/", {"sort": "-created", "size": 100})
    page = text(response)
    assert '<th scope="col" class="party-col">From</th>' in page
    assert "Direction</th>" in page
    for rec in response.context["table"].recordings:
        assert rec.parties.state in ("found", "none")  # the index joined them all
    assert "Inbound" in page and "Outbound" in page
    assert "sip:agent-" in page  # a SIP URI as it is


def test_the_live_list_joins_numbers_in_one_request_per_family(alice_client, demo_space):
    demo_space.clear_request_log()
    response = alice_client.get("/recordings/")
    assert response.status_code == 200
    paths = [path for _, path, _ in demo_space.request_log]
    assert len([p for p in paths if p.startswith("/api/voice/logs")]) == 1
    assert not [p for p in paths if p.startswith("/api/voice/logs/")]
    assert len([p for p in paths if "/Calls" in p]) <= 1
    known = [r for r in response.context["table"].recordings if r.parties.known]
    assert len(known) >= len(response.context["table"].recordings) // 2
    # The next look at the same page is answered from the cache.
    demo_space.clear_request_log()
    alice_client.get("/recordings/")
    assert demo_space.request_log == []


def test_the_live_list_still_shows_when_voice_logs_are_refused(alice_client, demo_space):
    demo_space.refuse_voice_logs(DEMO_PROJECT_ID, 403)
    response = alice_client.get("/recordings/")
    assert response.status_code == 200 and response.context["table"].recordings
    assert "Number not available." in text(response)


def test_a_recordings_page_shows_its_numbers_looked_up_once(alice_client, demo_space):
    rec = next(r for r in demo_space.recordings(DEMO_PROJECT_ID) if r.get("relay_pstn_leg_id"))
    log = demo_space.voice_log(DEMO_PROJECT_ID, rec["relay_pstn_leg_id"])
    demo_space.clear_request_log()
    response = alice_client.get(f"/recordings/{rec['id']}/")
    page = text(response)
    assert "<dt>From</dt>" in page and "<dt>Direction</dt>" in page
    lookups = [p for _, p, _ in demo_space.request_log if p.startswith("/api/voice/logs/")]
    assert lookups == [f"/api/voice/logs/{rec['relay_pstn_leg_id']}"]
    assert log["direction"].capitalize() in page
    alice_client.get(f"/recordings/{rec['id']}/")  # cached like the rest
    assert [p for _, p, _ in demo_space.request_log if p.startswith("/api/voice/logs/")] == lookups


def test_a_missing_leg_says_number_not_available_and_why(alice_client, demo_space):
    rec = next(r for r in demo_space.recordings(DEMO_PROJECT_ID) if r.get("relay_sip_leg_id"))
    demo_space.hide_voice_log(DEMO_PROJECT_ID, rec["relay_sip_leg_id"], lookup_too=True)
    response = alice_client.get(f"/recordings/{rec['id']}/")
    assert response.status_code == 200
    assert "Number not available." in text(response)
    assert "no record of this recording" in text(response)


def test_a_conference_recording_says_it_has_no_single_pair(alice_client, demo_space):
    rec = next(
        r for r in demo_space.recordings(DEMO_PROJECT_ID) if not any(r.get(k) for k in LEG_KEYS)
    )
    response = alice_client.get(f"/recordings/{rec['id']}/")
    assert "no single pair of numbers" in text(response)


def test_upstream_addresses_are_escaped(alice_client, demo_space):
    rec = demo_space.add_recording(DEMO_PROJECT_ID)
    demo_space.add_voice_log(
        DEMO_PROJECT_ID, rec["relay_pstn_leg_id"], **{"from": "<script>alert(1)</script>"}
    )
    page = text(alice_client.get(f"/recordings/{rec['id']}/"))
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_the_csv_holds_the_numbers_defused_as_text(alice_client, indexed, demo_space):
    response = alice_client.get("/recordings/export.csv", {"q": CUSTOMER})
    lines = csv_lines(response)
    header = lines[0]
    assert header[-4:] == ["from", "to", "direction", "numbers"]
    assert len(lines) - 1 == len(recordings_of(demo_space, CUSTOMER))
    for line in lines[1:]:
        cells = dict(zip(header, line, strict=True))
        # A leading + would run as a formula: the cell is text that keeps its plus.
        assert "'" + CUSTOMER in (cells["from"], cells["to"])
        assert cells["numbers"] == "found" and cells["direction"] in ("inbound", "outbound")


# --------------------------------------------------------------------- open by ID


def test_a_call_sid_opens_its_recording(alice_client, indexed, demo_space):
    sids = [r["call_sid"] for r in demo_space.compat_recordings(DEMO_PROJECT_ID) if r["call_sid"]]
    single = next(s for s in sids if sids.count(s) == 1)
    rec = next(r for r in demo_space.compat_recordings(DEMO_PROJECT_ID) if r["call_sid"] == single)
    response = alice_client.get("/recordings/go/", {"id": single.upper()})
    assert response.status_code == 302 and response["Location"] == f"/recordings/{rec['sid']}/"


def test_a_leg_id_opens_its_recording(alice_client, indexed, demo_space):
    rec = next(r for r in demo_space.recordings(DEMO_PROJECT_ID) if r.get("relay_webrtc_leg_id"))
    response = alice_client.get("/recordings/go/", {"id": rec["relay_webrtc_leg_id"]})
    assert response["Location"] == f"/recordings/{rec['id']}/"


def test_a_call_with_several_recordings_lists_them(alice_client, indexed, demo_space):
    sids = [r["call_sid"] for r in demo_space.compat_recordings(DEMO_PROJECT_ID) if r["call_sid"]]
    shared = next(s for s in sids if sids.count(s) > 1)
    response = alice_client.get("/recordings/go/", {"id": shared})
    assert response.status_code == 200
    assert f"{sids.count(shared)} recordings match" in text(response)


def test_a_call_sid_the_index_has_not_seen_is_found_upstream(alice_client, demo_space):
    sids = [r["call_sid"] for r in demo_space.compat_recordings(DEMO_PROJECT_ID) if r["call_sid"]]
    single = next(s for s in sids if sids.count(s) == 1)
    rec = next(r for r in demo_space.compat_recordings(DEMO_PROJECT_ID) if r["call_sid"] == single)
    response = alice_client.get("/recordings/go/", {"id": rec["call_sid"]})
    assert response.status_code == 302 and rec["sid"] in response["Location"]


def test_an_unknown_id_says_what_was_searched(alice_client, indexed, demo_space):
    wanted = "0badc0de-0000-4000-8000-000000000000"
    response = alice_client.get("/recordings/go/", {"id": wanted}, follow=True)
    assert f"Nothing has the ID {wanted}" in text(response)
    assert "no recording, call leg or call" in text(response)
