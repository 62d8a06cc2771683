"""Compatibility (cXML) recordings: list, one, delete, media, errors and paging."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from recordings_app import signalwire as sw
from tests import test_signalwire_fakes as fakes
from tests.test_signalwire_fakes import (
    API_TOKEN,
    COMPAT_PATH,
    PROJECT_ID,
    RELAY_PATH,
    WAV,
    Answer,
    compat_list,
    compat_recording,
    times,
    uuid_for,
)

pytestmark = pytest.mark.no_upstream
space, client = fakes.space, fakes.client

SID = uuid_for("compat", 1)
MOMENT = datetime(2018, 9, 25, 23, 0, tzinfo=UTC)


def test_a_compatibility_recording_is_parsed_into_the_one_recording_type(client, space):
    space.route("GET", COMPAT_PATH, compat_list([compat_recording(1, MOMENT, channels="2")]))
    [recording] = client.list_compat_recordings().recordings
    assert recording.problems == ()
    assert (recording.id, recording.project_id, recording.family) == (SID, PROJECT_ID, "compat")
    assert recording.created_at == MOMENT
    assert recording.updated_at == datetime(2018, 9, 26, 23, 0, 4, tzinfo=UTC)
    assert recording.duration_seconds == 4 and recording.stereo is True
    assert recording.price == Decimal("0.0025") and recording.price_unit == "USD"
    assert (recording.source, recording.cxml_source) == ("cxml", "RecordVerb")
    assert recording.source_label == "cXML (RecordVerb)"
    assert recording.call_sid == "43bb71ee-553f-4074-bb20-8e2747647cce"
    assert recording.conference_id is None and recording.track is None
    assert recording.url == f"https://demo.signalwire.com{COMPAT_PATH}/{SID}"
    assert recording.has_audio and recording.status_family == "done"


@pytest.mark.parametrize(
    ("price", "cost"),
    [("-0.0025", Decimal("0.0025")), ("-1.50", Decimal("1.50")), ("0", Decimal(0)), (None, None)],
)
def test_a_compatibility_price_becomes_a_positive_cost_and_null_stays_unrated(price, cost):
    recording = sw.Recording.from_compat(compat_recording(1, MOMENT, price=price), "demo")
    assert recording.price == cost
    assert "price" not in recording.problems
    assert str(recording.price) != "-0"


def test_a_zero_cost_is_zero_not_negative_zero():
    recording = sw.Recording.from_compat(compat_recording(1, MOMENT, price="-0.00"), "demo")
    assert recording.price == 0 and not recording.price.is_signed()


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Tue, 25 Sep 2018 23:00:00 +0000", MOMENT),
        ("Wed, 26 Sep 2018 01:00:00 +0200", MOMENT),
        ("Tue, 25 Sep 2018 23:00:00 GMT", MOMENT),
        ("Tue, 25 Sep 2018 23:00:00 -0000", MOMENT),
        ("2018-09-25T23:00:00Z", None),
        ("yesterday", None),
        ("Fri, 31 Dec 9999 23:00:00 +0000", None),
    ],
)
def test_rfc_2822_dates_become_aware_utc_datetimes(date, expected):
    recording = sw.Recording.from_compat(compat_recording(1, MOMENT, date_created=date), "demo")
    assert recording.created_at == expected
    assert ("date_created" in recording.problems) is (expected is None)
    if expected:
        assert recording.created_at.utcoffset().total_seconds() in (0, 7200)


@pytest.mark.parametrize(
    ("channels", "stereo"), [("1", False), ("2", True), (2, True), ("3", None)]
)
def test_channels_say_whether_a_recording_is_stereo(channels, stereo):
    raw = compat_recording(1, MOMENT, channels=channels)
    recording = sw.Recording.from_compat(raw, "demo")
    assert recording.stereo is stereo
    assert ("channels" in recording.problems) is (stereo is None)


def test_bad_compatibility_fields_are_marked_not_fatal():
    raw = compat_recording(
        1,
        MOMENT,
        price="about a cent",
        duration=-4,
        status=None,
        uri="https://evil.example/x.wav",
        call_sid="not-a-sid",
        source=7,
    )
    del raw["date_updated"]
    recording = sw.Recording.from_compat(raw, "demo")
    assert recording.id == SID
    assert recording.price is None and recording.duration_seconds is None and recording.url is None
    assert {"price", "duration", "status", "uri", "call_sid", "source", "date_updated"} <= set(
        recording.problems
    )


def test_a_compatibility_duration_sent_as_text_is_read():
    recording = sw.Recording.from_compat(compat_recording(1, MOMENT, duration="4"), "demo")
    assert recording.duration_seconds == 4 and recording.problems == ()


def test_a_conference_recording_keeps_its_conference(client):
    conference = "0089cc48-4f98-4a6b-90d8-61f8a5d1b0e3"
    raw = compat_recording(1, MOMENT, call_sid=None, conference_sid=conference, source="Conference")
    recording = sw.Recording.from_compat(raw, "demo")
    assert recording.conference_id == conference and recording.call_sid is None
    assert recording.source_label == "cXML (Conference)" and recording.problems == ()


def test_an_item_that_is_not_an_object_is_kept_as_a_marked_row():
    recording = sw.Recording.from_compat("x", "demo")
    assert recording.problems == ("not a recording object",) and recording.family == "compat"


# ------------------------------------------------------------------- the list


def test_the_list_asks_for_a_page_size_with_the_credentials(client, space):
    space.route("GET", COMPAT_PATH, compat_list([]))
    page = client.list_compat_recordings(page_size=1000)
    assert page.recordings == () and page.next_cursor is None
    [seen] = space.seen
    assert seen.query == {"PageSize": ["1000"]}
    assert (seen.user, seen.password) == (PROJECT_ID, API_TOKEN)


def test_an_incremental_sync_filters_by_date_created_after(client, space):
    space.route("GET", COMPAT_PATH, compat_list([]))
    client.list_compat_recordings(created_after=datetime(2024, 1, 15, 10, 30, tzinfo=UTC))
    assert space.seen[0].query["DateCreated>"] == ["Mon, 15 Jan 2024 10:30:00 +0000"]


def test_next_page_uri_pages_through_the_whole_list(client, space):
    moments = times(12)
    space.route(
        "GET", COMPAT_PATH, compat_list([compat_recording(i, t) for i, t in enumerate(moments)])
    )
    ids, cursor = [], None
    for _ in range(10):
        page = client.list_compat_recordings(cursor, page_size=5)
        ids += [recording.id for recording in page.recordings]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert ids == [uuid_for("compat", i) for i in range(12)]
    assert page.prev_cursor is not None and page.first_cursor == ""


@pytest.mark.parametrize(
    "next_uri",
    [
        "https://evil.example" + COMPAT_PATH + "?Page=1",
        "/api/laml/2010-04-01/Accounts/00000000-0000-4000-8000-000000000000/Recordings?Page=1",
        "/api/laml/2010-04-01/Accounts/" + PROJECT_ID + "/Calls?Page=1",
        RELAY_PATH + "?page_token=x",
        "//evil.example" + COMPAT_PATH + "?Page=1",
    ],
)
def test_a_next_page_uri_pointing_elsewhere_is_ignored(client, space, next_uri):
    space.route("GET", COMPAT_PATH, compat_list([compat_recording(1, MOMENT)], next_uri=next_uri))
    assert client.list_compat_recordings().next_cursor is None


@pytest.mark.parametrize(
    "next_uri",
    [COMPAT_PATH + "?Page=1&PageToken=PA1", COMPAT_PATH + ".json?Page=1&PageToken=PA1"],
)
def test_a_next_page_uri_on_the_same_endpoint_keeps_only_its_query(client, space, next_uri):
    space.route("GET", COMPAT_PATH, compat_list([compat_recording(1, MOMENT)], next_uri=next_uri))
    assert client.list_compat_recordings().next_cursor == "Page=1&PageToken=PA1"
    absolute = space.url + next_uri
    space.route("GET", COMPAT_PATH, compat_list([compat_recording(1, MOMENT)], next_uri=absolute))
    assert client.list_compat_recordings().next_cursor == "Page=1&PageToken=PA1"


# --------------------------------------------------------- one, delete, media


def test_one_recording_is_read_from_its_json_uri(client, space):
    space.route("GET", f"{COMPAT_PATH}/{SID}.json", Answer(200, compat_recording(1, MOMENT)))
    recording = client.get_recording(SID, family="compat")
    assert recording.id == SID and recording.family == "compat"
    assert [seen.path for seen in space.seen] == [f"{COMPAT_PATH}/{SID}.json"]


def test_deleting_a_compatibility_recording(client, space):
    space.route("DELETE", f"{COMPAT_PATH}/{SID}", Answer(204))
    client.delete_recording(SID, family="compat")
    assert [(seen.method, seen.path, seen.user) for seen in space.seen] == [
        ("DELETE", f"{COMPAT_PATH}/{SID}", PROJECT_ID)
    ]


def test_deleting_a_recording_that_is_gone_is_not_found(client, space):
    with pytest.raises(sw.RecordingNotFound):
        client.delete_recording(SID, family="compat")


def test_compatibility_media_is_the_uri_without_json_on_the_space(client, space):
    space.route("GET", f"{COMPAT_PATH}/{SID}.json", Answer(200, compat_recording(1, MOMENT)))
    space.route("GET", f"{COMPAT_PATH}/{SID}", Answer(200, WAV, {"Content-Type": "audio/x-wav"}))
    space.protected.add(f"{COMPAT_PATH}/{SID}")
    stream = client.open_media(client.get_recording(SID, family="compat"))
    assert b"".join(stream) == WAV and stream.headers["Content-Type"] == "audio/x-wav"


def test_a_recording_id_is_looked_for_in_relay_first_then_in_compatibility(client, space):
    space.route("GET", f"{COMPAT_PATH}/{SID}.json", Answer(200, compat_recording(1, MOMENT)))
    assert client.get_recording(SID).family == "compat"
    assert [seen.path for seen in space.seen] == [
        f"{RELAY_PATH}/{SID}",
        f"{COMPAT_PATH}/{SID}.json",
    ]


def test_a_relay_recording_is_found_without_asking_compatibility(client, space):
    relay_id = uuid_for("relay", 1)
    space.route("GET", f"{RELAY_PATH}/{relay_id}", Answer(200, fakes.relay_recording(1, MOMENT)))
    assert client.get_recording(relay_id).family == "relay"
    assert len(space.seen) == 1


def test_asking_one_family_never_asks_the_other(client, space):
    with pytest.raises(sw.RecordingNotFound):
        client.get_recording(SID, family="relay")
    with pytest.raises(sw.RecordingNotFound):
        client.delete_recording(SID, family="relay")
    assert [seen.path for seen in space.seen] == [f"{RELAY_PATH}/{SID}"] * 2


def test_a_recording_in_neither_family_is_not_found(client, space):
    with pytest.raises(sw.RecordingNotFound):
        client.get_recording(SID)
    assert len(space.seen) == 2


def test_deleting_without_a_family_falls_back_to_compatibility(client, space):
    space.route("DELETE", f"{COMPAT_PATH}/{SID}", Answer(204))
    client.delete_recording(SID)
    assert [(seen.method, seen.path) for seen in space.seen] == [
        ("DELETE", f"{RELAY_PATH}/{SID}"),
        ("DELETE", f"{COMPAT_PATH}/{SID}"),
    ]


def test_a_relay_refusal_is_not_a_reason_to_ask_compatibility(client, space):
    space.route("GET", f"{RELAY_PATH}/{SID}", Answer(401, {"error": "Unauthorized"}))
    with pytest.raises(sw.CredentialsRejected):
        client.get_recording(SID)
    assert len(space.seen) == 1


def test_an_unknown_family_is_a_programming_error(client, space):
    with pytest.raises(ValueError):
        client.get_recording(SID, family="laml")
    assert space.seen == []


# ------------------------------------------------------------------- errors


def flat_error(status: int, message: str) -> Answer:
    return Answer(
        status,
        {
            "code": 20000 + status,
            "message": message,
            "more_info": "https://signalwire.com/docs/compatibility-api/reference/errors",
            "status": status,
        },
    )


@pytest.mark.parametrize(
    ("status", "raised"),
    [
        (401, sw.CredentialsRejected),
        (403, sw.ScopeMissing),
        (404, sw.SpaceNotFound),
        (429, sw.RateLimited),
        (500, sw.UpstreamFailed),
        (503, sw.UpstreamFailed),
    ],
)
def test_flat_errors_from_the_list_map_like_relay_errors(client, space, settings, status, raised):
    settings.SIGNALWIRE_RETRY_BUDGET = 0  # one attempt: the retries have their own tests
    space.route("GET", COMPAT_PATH, flat_error(status, "Nope"))
    with pytest.raises(raised):
        client.list_compat_recordings()


def test_a_422_says_what_upstream_said(client, space):
    space.route("GET", COMPAT_PATH, flat_error(422, "PageSize must be at most 1000"))
    with pytest.raises(sw.RequestRejected) as rejected:
        client.list_compat_recordings()
    assert rejected.value.details == ["PageSize must be at most 1000"]


def test_a_404_for_one_recording_is_not_found(client, space):
    space.route("GET", f"{COMPAT_PATH}/{SID}.json", flat_error(404, "Not found"))
    with pytest.raises(sw.RecordingNotFound):
        client.get_recording(SID, family="compat")


def test_a_5xx_is_retried_then_reported(client, space, settings):
    answers = iter([flat_error(503, "busy"), Answer(200, compat_recording(1, MOMENT))])
    space.route("GET", f"{COMPAT_PATH}/{SID}.json", lambda seen: next(answers))
    assert client.get_recording(SID, family="compat").id == SID
    assert len(space.seen) == 2


@pytest.mark.parametrize("body", [b"<Response/>", {"recordings": "none"}, []])
def test_a_list_that_is_not_the_documented_shape_is_malformed(client, space, body):
    space.route("GET", COMPAT_PATH, Answer(200, body))
    with pytest.raises(sw.MalformedResponse):
        client.list_compat_recordings()
