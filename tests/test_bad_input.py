"""What a mistaken or malicious user can send: each gets a 400, 404, 405 or 414 with a
message, never a 500, and upstream strings are always shown as text."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from demo_space import DEMO_PROJECT_ID, OTHER_PROJECT_ID
from recordings_app import paging
from recordings_app.models import Credential
from recordings_app.signalwire import merged
from tests.conftest import page_link, text

NOT_AN_ID = "That is not a recording ID"
NO_SUCH_PAGE = "Page not found"  # an encoded slash makes the path another page's


# ------------------------------------------------------------------------------- ids


@pytest.mark.parametrize(
    ("bad_id", "message"),
    [
        ("not-a-uuid", NOT_AN_ID),
        ("123", NOT_AN_ID),
        ("3f1c2a9e-8b7d-4e21-9a55-0c6d2b1e7f4", NOT_AN_ID),  # one digit short
        ("3f1c2a9e-8b7d-4e21-9a55-0c6d2b1e7f40x", NOT_AN_ID),
        ("0" * 37, NOT_AN_ID),
        ("%00", NOT_AN_ID),
        ("%3Cscript%3E", NOT_AN_ID),
        ("%3Cscript%3Ealert(1)%3C%2Fscript%3E", NO_SUCH_PAGE),
        ("..%2F..%2Fetc%2Fpasswd", NO_SUCH_PAGE),
        ("é" * 40, NOT_AN_ID),
        ("1" * 5000, NOT_AN_ID),
    ],
)
@pytest.mark.parametrize("suffix", ["", "audio/", "delete/"])
def test_a_malformed_recording_id_is_a_404_with_a_message(
    alice_client, demo_space, bad_id, message, suffix
):
    response = alice_client.get(f"/recordings/{bad_id}/{suffix}")
    assert response.status_code == 404
    assert message in text(response)
    assert "<script>alert" not in text(response)
    assert demo_space.request_log == []


def test_a_recording_id_in_another_form_is_the_same_recording(alice_client, demo_space):
    recording_id = demo_space.recordings(DEMO_PROJECT_ID)[0]["id"]
    response = alice_client.get(f"/recordings/{recording_id.upper().replace('-', '')}/")
    assert response.status_code == 200 and recording_id in text(response)


@pytest.mark.parametrize("suffix", ["", "audio/", "audio/?download=1"])
def test_another_projects_recording_is_not_found(alice_client, demo_space, suffix):
    foreign = demo_space.recordings(OTHER_PROJECT_ID)[0]["id"]
    response = alice_client.get(f"/recordings/{foreign}/{suffix}")
    assert response.status_code == 404
    assert "Recording not found" in text(response)


def test_another_projects_recording_cannot_be_deleted(alice_client, demo_space):
    foreign = demo_space.recordings(OTHER_PROJECT_ID)[0]["id"]
    alice_client.post(f"/recordings/{foreign}/delete/")
    assert foreign in {r["id"] for r in demo_space.recordings(OTHER_PROJECT_ID)}


@pytest.mark.parametrize(
    ("value", "status", "message"),
    [
        ("nonsense", 200, NOT_AN_ID),
        ("", 200, NOT_AN_ID),
        ("   ", 200, NOT_AN_ID),
        ("<b>x</b>", 200, NOT_AN_ID),
        ("<script>", 200, NOT_AN_ID),
        ("1" * 3000, 414, "too long"),
    ],
)
def test_opening_a_garbage_id_says_so(alice_client, demo_space, value, status, message):
    response = alice_client.get("/recordings/go/", {"id": value}, follow=True)
    assert response.status_code == status
    assert message in text(response)


# --------------------------------------------------------------------------- cursors


def next_link(client) -> str:
    link = page_link(text(client.get("/recordings/")), "next")
    assert link is not None, "the first page has no next link"
    return link


@pytest.mark.parametrize(
    "page",
    ["garbage", "%00", "a" * 500, "eyJhIjoxfQ:1:2", "<script>alert(1)</script>"],
)
def test_a_made_up_page_link_is_a_400_with_a_message(alice_client, demo_space, page):
    response = alice_client.get(f"/recordings/?page={page}")
    assert response.status_code == 400
    assert "This page link is not valid" in text(response)
    assert demo_space.request_log == []


def test_a_tampered_page_link_is_a_400(alice_client, demo_space):
    link = next_link(alice_client)
    token = link.split("page=", 1)[1]
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    response = alice_client.get(f"/recordings/?size=50&page={flipped}")
    assert response.status_code == 400
    assert "This page link is not valid" in text(response)
    assert "The link was altered" in text(response)


def test_a_page_link_of_other_credentials_is_refused(alice_client, bob_client, demo_space):
    link = next_link(alice_client)
    response = bob_client.get("/recordings/" + link)
    assert response.status_code == 400
    assert "belongs to other credentials" in text(response)


def test_a_replayed_page_link_of_the_same_credentials_works(alice_client, demo_space):
    # Decided: a page link is a bookmark, not a one-time token. Opening it again (back
    # button, reload, a saved link) with the same credentials is legitimate; it only
    # names a place in a list those credentials may read anyway.
    link = next_link(alice_client)
    first = text(alice_client.get("/recordings/" + link))
    again = alice_client.get("/recordings/" + link)
    assert again.status_code == 200
    assert text(again).split("<tbody>")[1] == first.split("<tbody>")[1]


def test_a_page_link_dies_with_its_credentials(alice_client, alice, demo_space):
    link = next_link(alice_client)
    old = Credential.objects.get(user=alice)
    fresh = Credential(user=alice, label="Again", space="demo", project_id=old.project_id)
    fresh.encrypted_token, fresh.token_hint = old.encrypted_token, old.token_hint
    old.delete()
    fresh.is_active = True
    fresh.save()
    assert alice_client.get("/recordings/" + link).status_code == 400


def test_a_signed_cursor_cannot_point_the_server_elsewhere(alice, alice_client, demo_space):
    # Even a validly signed cursor is only ever a query string on the space's list paths.
    credential = Credential.objects.get(user=alice)
    evil = "page_size=5#@evil.example/"
    cursor = merged.encode_cursor(
        {"relay": merged.Position(evil, 1, next=evil), "compat": merged.Position(evil)}
    )
    token = paging.sign_trail(credential, [cursor])
    response = alice_client.get(f"/recordings/?page={token}")
    assert response.status_code in (200, 502)
    compat_list = f"/api/laml/2010-04-01/Accounts/{DEMO_PROJECT_ID}/Recordings?"
    # and, for who called whom, one window of voice logs and one of calls, on this space
    calls_list = f"/api/laml/2010-04-01/Accounts/{DEMO_PROJECT_ID}/Calls.json?"
    paths = [path for _, path, _ in demo_space.request_log]
    assert paths and all(
        path.startswith(
            ("/api/relay/rest/recordings?", compat_list, "/api/voice/logs?", calls_list)
        )
        for path in paths
    )


# ------------------------------------------------------------------------ page sizes


@pytest.mark.parametrize(
    "size", ["0", "1", "7", "24", "251", "1001", "-5", "-50", "50.0", "abc", "%00", "9" * 40]
)
def test_a_page_size_out_of_range_is_a_400_with_the_choices(alice_client, demo_space, size):
    response = alice_client.get(f"/recordings/?size={size}")
    assert response.status_code == 400
    assert "Choose 25, 50, 100, 250 recordings per page." in text(response)
    assert demo_space.request_log == []


# ------------------------------------------------------------------ oversized input


@pytest.mark.no_upstream
@pytest.mark.parametrize(
    "url",
    [
        "/recordings/?size=" + "5" * 3000,
        "/recordings/?" + "a=1&" * 700,
        "/activity/?user=" + "x" * 2100,
    ],
)
def test_an_oversized_query_string_is_a_414_with_a_message(alice_client, url):
    response = alice_client.get(url)
    assert response.status_code == 414
    assert "That address is too long" in text(response)


@pytest.mark.no_upstream
def test_a_form_with_too_many_fields_is_a_400(alice_client):
    fields = {f"f{i}": "x" for i in range(1500)}
    response = alice_client.post("/credentials/add/", fields)
    assert response.status_code == 400
    assert "That request could not be understood" in text(response)


@pytest.mark.no_upstream
def test_an_oversized_form_is_a_400(alice_client):
    response = alice_client.post("/credentials/add/", {"label": "x" * 3_000_000})
    assert response.status_code == 400


@pytest.mark.no_upstream
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("put", "/recordings/"),
        ("delete", "/recordings/3f1c2a9e-8b7d-4e21-9a55-0c6d2b1e7f40/"),
        ("post", "/recordings/3f1c2a9e-8b7d-4e21-9a55-0c6d2b1e7f40/audio/"),
        ("get", "/credentials/1/delete/"),
        ("post", "/activity/"),
    ],
)
def test_a_wrong_method_is_a_405_with_a_message(alice_client, method, url):
    response = getattr(alice_client, method)(url)
    assert response.status_code == 405 and response["Allow"]
    assert "This page cannot do that" in text(response)


# ------------------------------------------------------------ markup from upstream

MARKUP = '"><script>alert("x")</script><img src=x onerror=alert(1)>'
STRING_FIELDS = (
    "project_id",
    "created_at",
    "updated_at",
    "price_unit",
    "status",
    "error_code",
    "url",
    "track",
    "relay_pstn_leg_id",
    "relay_conference_id",
)


@pytest.fixture
def marked_up(demo_space):
    """A recording with markup in every string field, served by the list and detail."""
    raw = dict(
        demo_space.add_recording(DEMO_PROJECT_ID),
        **{field: MARKUP for field in STRING_FIELDS},
    )
    demo_space.add_fault(
        status=200, body={"links": {}, "data": [raw]}, path_prefix="/api/relay/rest/recordings?"
    )
    demo_space.add_fault(status=200, body=raw, path_prefix="/api/relay/rest/recordings/")
    return raw


def assert_escaped(html: str):
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "onerror=alert(1)>" not in html


def test_markup_in_every_upstream_string_is_shown_as_text_on_the_list(alice_client, marked_up):
    response = alice_client.get("/recordings/")
    assert response.status_code == 200
    html = text(response)
    assert_escaped(html)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html  # the status, as text


def test_markup_in_every_upstream_string_is_shown_as_text_on_the_recording(alice_client, marked_up):
    for url in (f"/recordings/{marked_up['id']}/", f"/recordings/{marked_up['id']}/delete/"):
        response = alice_client.get(url)
        assert response.status_code == 200
        html = text(response)
        assert_escaped(html)
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html  # as text


def test_markup_in_a_credential_label_is_text(client, db):
    user = User.objects.create_user("mallory", password="pw")
    Credential.objects.create(
        user=user, label=MARKUP[:80], space="demo", project_id=DEMO_PROJECT_ID, token_hint="1234"
    )
    client = Client()
    client.force_login(user)
    assert_escaped(text(client.get("/credentials/")))


# ------------------------------------------------------------- list filters (index)


@pytest.mark.no_upstream
@pytest.mark.parametrize(
    "query",
    [
        "min_duration=99999999999999999999999999",
        "max_price=1e999",
        "min_price=NaN",
        "min_price=-inf",
        "from=%00",
        "from=9999-12-31T23:59",
        "to=0001-01-01T00:00",
        "to=9999-12-31T23:59",
        "from=0001-01-01T00:00&to=9999-12-31T23:59&status=done",
        "stereo=maybe",
        "q=%00",
        "status=completed&status=%3Cscript%3E",
        "sort=-created&page=-1",
        "status=failed&page=999999999999999999999",
        "track=" + "x" * 1500,
    ],
)
def test_garbage_filters_never_break_the_list(alice_client, query):
    alice_client.cookies["tz"] = "Pacific/Kiritimati"
    response = alice_client.get(f"/recordings/?{query}")
    assert response.status_code in (200, 400), query
    assert "<script>" not in text(response)
    if response.status_code == 400:
        assert "problem" in text(response)
