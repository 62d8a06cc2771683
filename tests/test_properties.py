"""Property-based: whatever SignalWire sends for a recording, schema-valid or not, the list
and the recording page answer without a 500, and every upstream string is shown as text.

Each example goes through the real views: the demo space serves the generated JSON."""

import os
import string
import uuid
from datetime import UTC

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

MARK = "<i>mark</i>"  # unescaped, this would be markup in the page
from demo_space import DEMO_PROJECT_ID  # noqa: E402

LIST_PREFIX = "/api/relay/rest/recordings?"
# The list page reads the Compatibility list too: here it has nothing, so the page's
# rows are exactly the RELAY ones under test.
COMPAT_LIST_PREFIX = f"/api/laml/2010-04-01/Accounts/{DEMO_PROJECT_ID}/Recordings"
NO_CXML: dict[str, object] = {
    "uri": COMPAT_LIST_PREFIX,
    "first_page_uri": COMPAT_LIST_PREFIX,
    "next_page_uri": None,
    "previous_page_uri": None,
    "page": 0,
    "page_size": 50,
    "recordings": [],
}
DETAIL_PREFIX = "/api/relay/rest/recordings/"

texts = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=string.printable, max_size=20).map(lambda s: s + MARK),
    st.sampled_from(['"><script>alert(1)</script>', "&amp;", "{{ x }}", "{% x %}", MARK]),
)
edges = st.sampled_from(
    [0, -1, 2**31, 2**63, 10**30, -(10**30), 1e300, -0.0, 1e-30, "", " ", "\x00", "0", "true"]
)
junk = st.one_of(
    edges,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    texts,
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
uuids = st.uuids().map(str)
timestamps = st.one_of(
    st.sampled_from(["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2024-01-15T09:30:00Z"]),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat().replace("+00:00", "Z")),
)
VALID = {
    "id": uuids,
    "project_id": uuids,
    "created_at": timestamps,
    "updated_at": timestamps,
    "duration_in_seconds": st.integers(min_value=0, max_value=10**7),
    "price": st.floats(min_value=0, max_value=10**6, allow_nan=False),
    "price_unit": st.sampled_from(["USD", "EUR", "GBP", "CHF"]) | texts,
    "status": st.sampled_from(["completed", "in-progress", "failed", "absent", "deleted"]) | texts,
    "url": st.just("https://acme.signalwire.com/media/x.wav") | texts,
    "stereo": st.booleans(),
    "track": st.sampled_from(["inbound", "outbound", "both"]) | texts,
    "error_code": texts,
    "byte_size": st.integers(min_value=0, max_value=10**12),
    "relay_pstn_leg_id": uuids,
    "relay_sip_leg_id": uuids,
    "relay_webrtc_leg_id": uuids,
    "relay_conference_id": uuids,
}
# Every field may be missing, valid, or anything at all.
recordings = st.fixed_dictionaries(
    {}, optional={name: st.one_of(valid, junk) for name, valid in VALID.items()}
).map(lambda raw: raw if "id" in raw else {**raw, "id": str(uuid.uuid4())})
off_schema = st.one_of(recordings, junk)  # a list item need not even be an object

property_settings = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# Found by this test before they were fixed: years that overflow in a far time zone,
# and prices too large to format.
REGRESSIONS = {
    "id": "3f1c2a9e-8b7d-4e21-9a55-0c6d2b1e7f40",
    "created_at": "9999-12-31T23:59:59Z",
    "updated_at": "0001-01-01T00:00:00Z",
    "price": 10**30,
    "price_unit": "USD",
}


def fresh_example(demo_space):
    """Each example starts clean: no faults of the one before (and caching is off)."""
    demo_space.clear_faults()


def assert_shown_as_text(response):
    html = response.content.decode()
    assert MARK not in html
    assert "<script>alert" not in html


@property_settings
@given(page=st.lists(off_schema, max_size=8))
@example(page=[REGRESSIONS])
def test_any_list_page_renders_and_escapes(alice_client, demo_space, page):
    fresh_example(demo_space)
    demo_space.add_fault(status=200, body={"links": {}, "data": page}, path_prefix=LIST_PREFIX)
    demo_space.add_fault(status=200, body=NO_CXML, path_prefix=COMPAT_LIST_PREFIX)
    response = alice_client.get("/recordings/")
    assert response.status_code == 200
    assert_shown_as_text(response)
    html = response.content.decode()
    assert html.split("<tbody>")[1].split("</tbody>")[0].count("<tr") == len(page) if page else True


@property_settings
@given(raw=recordings)
@example(raw=REGRESSIONS)
def test_any_recording_page_renders_and_escapes(alice_client, demo_space, raw):
    fresh_example(demo_space)
    demo_space.add_fault(status=200, body=raw, path_prefix=DETAIL_PREFIX)
    response = alice_client.get(f"/recordings/{uuid.uuid4()}/")
    # 502 only when the id itself is unusable: nothing to show a page for.
    assert response.status_code == (200 if _valid_uuid(raw.get("id")) else 502)
    assert_shown_as_text(response)


def _valid_uuid(value) -> bool:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


@pytest.fixture(autouse=True)
def _fresh_faults(demo_space, alice_client, settings):
    # Every example must reach the view's parsing: no upstream answer reused.
    settings.SIGNALWIRE_CACHE_SECONDS = 0
    # The farthest time zones from UTC, where dates at the ends of the calendar overflow.
    alice_client.cookies["tz"] = "Pacific/Kiritimati"
    yield
    demo_space.clear_faults()
