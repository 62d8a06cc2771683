"""An agent's first hour (issue 13, part 3), the parts a Django test shows: what an error
code means, a filter typo that keeps the page, a download's name, plain words."""

import re
from datetime import UTC, datetime

import pytest

from demo_space import DEMO_PROJECT_ID
from recordings_app import error_codes, index
from recordings_app.models import Credential, Profile
from tests.conftest import text


def test_error_codes_we_know_are_in_words_and_others_stay_raw():
    assert "storage" in error_codes.describe("storage_unavailable")
    assert "media timeout" in error_codes.describe("media_timeout")
    # A number is SignalWire's: its meaning is not guessed at, only whose it is.
    assert error_codes.describe("30005").startswith("SignalWire's code 30005.")
    assert error_codes.describe("some_new_code") is None
    assert error_codes.describe("") is None and error_codes.describe(None) is None


def test_a_failed_recording_says_what_its_error_code_means(alice_client, demo_space):
    failed = demo_space.add_recording(
        DEMO_PROJECT_ID, status="failed", error_code="storage_unavailable", duration_in_seconds=0
    )
    page = text(alice_client.get(f"/recordings/{failed['id']}/"))
    note = page[page.index('class="no-audio"') : page.index("</div>", page.index("no-audio"))]
    assert "<code>storage_unavailable</code>" in note
    assert error_codes.KNOWN["storage_unavailable"] in note
    facts = page[page.index("<dt>Error code</dt>") :]
    assert error_codes.KNOWN["storage_unavailable"] in facts[: facts.index("</dd>")]
    listing = text(alice_client.get("/recordings/"))
    meaning = error_codes.KNOWN["storage_unavailable"].replace("'", "&#x27;")
    assert f'<span class="error-code" title="{meaning}">storage_unavailable</span>' in listing


def test_an_error_code_we_do_not_know_is_shown_as_it_came(alice_client, demo_space):
    failed = demo_space.add_recording(
        DEMO_PROJECT_ID, status="failed", error_code="brand_new_code", duration_in_seconds=0
    )
    page = text(alice_client.get(f"/recordings/{failed['id']}/"))
    assert "<code>brand_new_code</code>" in page
    assert 'class="error-meaning"' not in page
    assert 'title="Error code">brand_new_code<' in text(alice_client.get("/recordings/"))


@pytest.mark.no_upstream
def test_an_invalid_filter_marks_its_field_and_keeps_the_page(alice_client):
    response = alice_client.get("/recordings/?min_duration=-5&status=failed")
    assert response.status_code == 400
    page = text(response)
    assert "<h1>Recordings</h1>" in page and 'id="jump-id"' in page  # the page is kept
    assert '<details class="filters" open>' in page
    field = re.search(r'<input id="f-min-duration"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in field and 'aria-describedby="f-min-duration-error"' in field
    assert re.search(r'id="f-min-duration-error">[^<]*greater than or equal to 0', page)
    assert 'aria-invalid="true"' not in re.search(r'<select id="f-status"[^>]*>', page).group(0)
    assert "The filters need fixing" in page
    assert "Try again" not in page


@pytest.mark.no_upstream
def test_a_range_that_ends_before_it_starts_marks_its_end(alice_client):
    response = alice_client.get("/recordings/?from=2026-03-11T00:00&to=2026-03-10T00:00")
    assert response.status_code == 400
    field = re.search(r'<input id="f-to"[^>]*>', text(response)).group(0)
    assert 'aria-invalid="true"' in field
    assert "The date range ends before it starts." in text(response)


def test_error_pages_offer_try_again_only_where_it_can_help(alice_client, settings):
    missing = text(alice_client.get("/recordings/00000000-0000-4000-8000-000000000000/"))
    assert "Recording not found" in missing and "Try again" not in missing
    bad_page = alice_client.get("/recordings/?status=failed&p=999")
    assert bad_page.status_code == 400 and "Try again" not in text(bad_page)
    settings.SIGNALWIRE_BASE_URL = "http://127.0.0.1:9"  # nothing answers there
    unreachable = alice_client.get("/recordings/00000000-0000-4000-8000-000000000001/")
    assert unreachable.status_code == 503 and "Try again" in text(unreachable)


def test_a_download_is_named_after_when_the_recording_was_made(alice_client, alice, demo_space):
    Profile.objects.update_or_create(user=alice, defaults={"timezone": "America/New_York"})
    recording = demo_space.add_recording(
        DEMO_PROJECT_ID, created_at="2026-12-01T20:46:30Z", duration_in_seconds=3
    )
    response = alice_client.get(f"/recordings/{recording['id']}/audio/?download=1")
    assert response["Content-Disposition"] == (
        f'attachment; filename="2026-12-01_1546_recording-{recording["id"]}.wav"'
    )


@pytest.mark.parametrize(("media_format", "extension"), [("mp3", "mp3"), ("mp4", "m4a")])
def test_a_compressed_download_is_named_by_its_kind(
    alice_client, demo_space, media_format, extension
):
    recording = demo_space.add_recording(
        DEMO_PROJECT_ID, media_format=media_format, duration_in_seconds=3
    )
    response = alice_client.get(f"/recordings/{recording['id']}/audio/?download=1")
    created = datetime.fromisoformat(recording["created_at"]).astimezone(UTC)
    assert response["Content-Disposition"] == (
        f'attachment; filename="{created:%Y-%m-%d_%H%M}_recording-{recording["id"]}.{extension}"'
    )


def test_the_index_and_clearing_filters_are_in_plain_words(alice_client, alice):
    index.run_sync(Credential.objects.get(user=alice))
    page = text(alice_client.get("/recordings/?status=failed"))
    assert "Search covers recordings up to" in page
    assert ">Clear filters</a>" in page
    assert "Indexed as of" not in page and "live view" not in page
