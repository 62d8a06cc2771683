"""Both families as one list: newest first, stable pages, and one family refused."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from recordings_app import signalwire as sw
from tests import test_signalwire_fakes as fakes
from tests.test_signalwire_fakes import (
    COMPAT_PATH,
    RELAY_PATH,
    Answer,
    compat_list,
    compat_recording,
    relay_list,
    relay_recording,
    uuid_for,
)

pytestmark = pytest.mark.no_upstream
space, client = fakes.space, fakes.client

START = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def two_families(space, relay_count=23, compat_count=19, seed=7):
    """Recordings of both families at interleaved, distinct times; RELAY's pages come
    out in no particular order. Returns every id, newest first."""
    rng = random.Random(seed)
    moments = [START - timedelta(minutes=i) for i in range(relay_count + compat_count)]
    families = ["relay"] * relay_count + ["compat"] * compat_count
    rng.shuffle(families)
    relay, compat, expected = [], [], []
    for moment, family in zip(moments, families, strict=True):
        if family == "relay":
            relay.append(relay_recording(len(relay), moment))
            expected.append(relay[-1]["id"])
        else:
            compat.append(compat_recording(len(compat), moment))
            expected.append(compat[-1]["sid"])
    space.route("GET", RELAY_PATH, relay_list(relay, shuffle_pages=True))
    space.route("GET", COMPAT_PATH, compat_list(compat))
    return expected


def every_page(client, page_size):
    pages, cursor = [], None
    while True:
        page = client.list_all(cursor, page_size=page_size)
        pages.append(page)
        cursor = page.next_cursor
        if cursor is None or len(pages) > 100:
            return pages


@pytest.mark.parametrize("page_size", [1, 3, 5, 7])
def test_pages_show_both_families_newest_first_without_repeats_or_gaps(client, space, page_size):
    expected = two_families(space)
    pages = every_page(client, page_size)
    assert len(pages) >= 5
    shown = [recording.id for page in pages for recording in page.recordings]
    assert shown == expected
    assert all(len(page.recordings) == page_size for page in pages[:-1])
    assert {r.family for r in pages[0].recordings + pages[1].recordings} <= {"relay", "compat"}
    assert {r.family for page in pages for r in page.recordings} == {"relay", "compat"}


def test_a_page_asks_each_family_for_its_page_and_the_next_at_once(client, space):
    two_families(space, relay_count=60, compat_count=60)
    first = client.list_all(page_size=5)  # upstream pages of 5, like the merged one
    assert sorted(seen.path for seen in space.seen) == sorted([RELAY_PATH, COMPAT_PATH])
    space.seen.clear()
    # Both families' pages are partly shown now: each page and the one after it are
    # asked for together (one round trip), since the next is likely to be needed.
    second = client.list_all(first.next_cursor, page_size=5)
    assert sorted(seen.path for seen in space.seen) == sorted([RELAY_PATH, COMPAT_PATH] * 2)
    assert {r.id for r in first.recordings}.isdisjoint(r.id for r in second.recordings)
    assert len(first.recordings) == len(second.recordings) == 5


def test_the_first_cursor_leads_back_to_the_first_page(client, space):
    two_families(space)
    first = client.list_all(page_size=4)
    third = client.list_all(client.list_all(first.next_cursor, page_size=4).next_cursor, 4)
    again = client.list_all(third.first_cursor, page_size=4)
    assert [r.id for r in again.recordings] == [r.id for r in first.recordings]
    assert third.prev_cursor is None  # the merged list makes no prev links


def test_the_last_page_has_no_next_cursor(client, space):
    expected = two_families(space, relay_count=2, compat_count=2)
    page = client.list_all(page_size=10)
    assert [r.id for r in page.recordings] == expected and page.next_cursor is None


def test_one_empty_family_leaves_the_other_in_its_order(client, space):
    space.route("GET", RELAY_PATH, relay_list([]))
    compat = [compat_recording(i, START - timedelta(minutes=i)) for i in range(6)]
    space.route("GET", COMPAT_PATH, compat_list(compat))
    shown = [r.id for page in every_page(client, 4) for r in page.recordings]
    assert shown == [raw["sid"] for raw in compat]


def test_undated_relay_recordings_are_shown_exactly_once(client, space):
    relay = [relay_recording(i, START - timedelta(minutes=2 * i)) for i in range(5)]
    relay.insert(2, relay_recording(99, None))
    compat = [compat_recording(i, START - timedelta(minutes=2 * i + 1)) for i in range(5)]
    space.route("GET", RELAY_PATH, relay_list(relay))
    space.route("GET", COMPAT_PATH, compat_list(compat))
    shown = [r.id for page in every_page(client, 3) for r in page.recordings]
    assert sorted(shown) == sorted([r["id"] for r in relay] + [c["sid"] for c in compat])
    assert len(shown) == len(set(shown))


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (401, "Compatibility (cXML) recordings: SignalWire answered 401"),
        (403, "Compatibility (cXML) recordings: SignalWire answered 403"),
        (404, "Compatibility (cXML) recordings: SignalWire answered 404"),
    ],
)
def test_a_refused_family_is_named_and_the_other_is_shown(client, space, status, words):
    relay = [relay_recording(i, START - timedelta(minutes=i)) for i in range(8)]
    space.route("GET", RELAY_PATH, relay_list(relay))
    space.route("GET", COMPAT_PATH, Answer(status, {"code": 1, "message": "no", "status": status}))
    first = client.list_all(page_size=5)
    assert [r.id for r in first.recordings] == [raw["id"] for raw in relay[:5]]
    [reason] = first.unavailable
    assert reason.startswith(words)
    second = client.list_all(first.next_cursor, page_size=5)
    assert [r.id for r in second.recordings] == [raw["id"] for raw in relay[5:]]
    assert second.next_cursor is None


def test_relay_refused_still_shows_compatibility_recordings(client, space):
    space.route("GET", RELAY_PATH, Answer(403, {"error": "Forbidden"}))
    space.route("GET", COMPAT_PATH, compat_list([compat_recording(1, START)]))
    page = client.list_all()
    assert [r.family for r in page.recordings] == ["compat"]
    assert page.unavailable == (
        "RELAY recordings: SignalWire answered 403: the API token lacks the scope to read them",
    )


def test_both_families_refused_raises_the_relay_error(client, space):
    space.route("GET", RELAY_PATH, Answer(401, {"error": "Unauthorized"}))
    space.route("GET", COMPAT_PATH, Answer(403, {"code": 1, "message": "no", "status": 403}))
    with pytest.raises(sw.CredentialsRejected):
        client.list_all()


def test_a_failure_that_is_not_a_refusal_is_raised(client, space, settings):
    settings.SIGNALWIRE_RETRY_BUDGET = 0
    space.route("GET", RELAY_PATH, relay_list([relay_recording(1, START)]))
    space.route("GET", COMPAT_PATH, Answer(500, {"code": 1, "message": "no", "status": 500}))
    with pytest.raises(sw.UpstreamFailed):
        client.list_all()


@pytest.mark.parametrize(
    "cursor", ["page_size=50&page_token=abc", "m1.not-base64!", "m1.e30", "m1.W10", ""]
)
def test_a_cursor_the_merged_list_did_not_make_is_refused_without_a_request(client, space, cursor):
    with pytest.raises(sw.InvalidCursor):
        client.list_all(cursor)
    assert space.seen == []


def test_every_recording_appears_once_when_relay_pages_are_sorted_within(client, space):
    # A RELAY list whose pages are newest first overall but shuffled inside each page
    # still merges into the exact order.
    expected = two_families(space, relay_count=41, compat_count=3, seed=3)
    shown = [r.id for page in every_page(client, 6) for r in page.recordings]
    assert shown == expected
    assert uuid_for("relay", 40) in shown


def test_a_family_refused_after_the_other_ran_out_leaves_an_explained_empty_page(client, space):
    compat = [compat_recording(i, START - timedelta(minutes=i)) for i in range(2)]
    relay = [relay_recording(i, START - timedelta(hours=1, minutes=i)) for i in range(10)]
    space.route("GET", COMPAT_PATH, compat_list(compat))
    space.route("GET", RELAY_PATH, relay_list(relay))
    first = client.list_all(page_size=5)
    assert [r.family for r in first.recordings] == ["compat"] * 2 + ["relay"] * 3

    space.route("GET", RELAY_PATH, Answer(401, {"error": "Unauthorized"}))
    space.seen.clear()
    second = client.list_all(first.next_cursor, page_size=5)
    assert second.recordings == () and second.unavailable[0].startswith("RELAY recordings")
    # RELAY's page and the next, asked at once; compat is known to be done.
    assert [seen.path for seen in space.seen] == [RELAY_PATH, RELAY_PATH]
