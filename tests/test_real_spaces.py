"""The dashboard against a demo space that behaves like a real one: media on
files.signalwire.com (a second port), public and protected media, SignalWire's own
status words, MP3 and MP4 as well as WAV, cXML recordings in the Compatibility API, and
a 401 for a token without the Voice scope."""

import re
from datetime import datetime
from decimal import Decimal

import pytest

from demo_space import (
    DEMO_API_TOKEN,
    DEMO_PROJECT_ID,
    NO_VOICE_API_TOKEN,
    NO_VOICE_PROJECT_ID,
    DemoSpace,
)
from recordings_app import index
from recordings_app.models import Credential
from tests.conftest import body, csv_lines


@pytest.fixture(scope="module")
def real_space():
    with DemoSpace(host="127.0.0.1", port=0, realistic=True, scopeless_status=401) as space:
        yield space


@pytest.fixture
def space(real_space, settings):
    settings.SIGNALWIRE_BASE_URL = real_space.base_url
    settings.SIGNALWIRE_FILES_URL = real_space.files_url
    yield real_space
    real_space.reset()


def test_a_recording_on_the_files_host_plays_seeks_and_downloads(alice_client, space):
    recording = space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=4, stereo=True)
    assert recording["url"].startswith("https://files.signalwire.com/")
    audio = f"/recordings/{recording['id']}/audio/"

    whole = alice_client.get(audio)
    assert whole.status_code == 200 and len(body(whole)) == recording["byte_size"]
    seek = alice_client.get(audio, headers={"Range": "bytes=1000-1999"})
    assert seek.status_code == 206 and len(body(seek)) == 1000
    download = alice_client.get(audio + "?download=1")
    assert download["Content-Disposition"] == (
        f'attachment; filename="{made_at(recording)}_recording-{recording["id"]}.wav"'
    )
    assert len(body(download)) == recording["byte_size"]
    assert all(entry.username == DEMO_PROJECT_ID for entry in space.files_request_log)


def test_public_media_plays_and_protected_media_gets_the_credentials(alice_client, space):
    recording = space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=2)
    for protected in (False, True):
        space.protect_media(DEMO_PROJECT_ID, protected)
        response = alice_client.get(f"/recordings/{recording['id']}/audio/")
        assert response.status_code == 200
        assert len(body(response)) == recording["byte_size"]


def test_cxml_recordings_are_on_the_list_and_open_play_download_and_delete(alice_client, space):
    cxml = space.add_compat_recording(DEMO_PROJECT_ID, price="-0.0125", price_unit="USD")
    listed = alice_client.get("/recordings/").content.decode()
    assert f"/recordings/{cxml['sid']}/" in listed
    assert "cXML" in listed

    page = alice_client.get(f"/recordings/{cxml['sid']}/").content.decode()
    assert "$0.0125" in page and "-$0.0125" not in page  # a cost, shown positive
    assert re.search(r"cXML \(\w+\)", page)  # with how it was made (RecordVerb, ...)

    audio = alice_client.get(f"/recordings/{cxml['sid']}/audio/?download=1")
    assert audio.status_code == 200
    assert body(audio)[:4] == b"RIFF"
    assert audio["Content-Disposition"].endswith('.wav"')

    peaks = alice_client.get(f"/recordings/{cxml['sid']}/peaks/").json()
    assert peaks["peaks"]

    response = alice_client.post(f"/recordings/{cxml['sid']}/delete/", follow=True)
    assert f"Recording {cxml['sid']} was deleted." in response.content.decode()
    assert cxml["sid"] not in {r["sid"] for r in space.compat_recordings(DEMO_PROJECT_ID)}


def test_the_list_shows_both_families_newest_first(alice_client, space):
    relay = space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=3)
    cxml = space.add_compat_recording(DEMO_PROJECT_ID)
    table = alice_client.get("/recordings/").context["table"]
    ids = [recording.id for recording in table.recordings]
    families = {recording.family for recording in table.recordings}
    assert families == {"relay", "compat"}
    assert ids.index(cxml["sid"]) < ids.index(relay["id"])  # the cXML one is newer
    times = [r.created_at for r in table.recordings]
    assert times == sorted(times, reverse=True)


def test_paging_the_merged_list_shows_every_recording_once(alice_client, space):
    seen, url = [], "/recordings/?size=100"
    for _ in range(4):
        table = alice_client.get(url).context["table"]
        seen += [recording.id for recording in table.recordings]
        url = "/recordings/" + table.next_url
    assert len(seen) == len(set(seen)) == 400
    back = alice_client.get("/recordings/" + table.prev_url).context["table"]
    assert [r.id for r in back.recordings] == seen[200:300]


def test_a_token_refused_by_one_family_shows_the_other_and_says_so_once(alice_client, space):
    space.refuse_compat(DEMO_PROJECT_ID, status=401)
    response = alice_client.get("/recordings/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("Not shown here: Compatibility (cXML) recordings") == 1
    assert {r.family for r in response.context["table"].recordings} == {"relay"}


def test_status_words_are_shown_as_they_are_in_their_family_colour(alice_client, space):
    done = space.add_recording(DEMO_PROJECT_ID, status="finished", duration_in_seconds=2)
    unknown = space.add_recording(DEMO_PROJECT_ID, status="transcoding", duration_in_seconds=2)
    failed = space.add_recording(
        DEMO_PROJECT_ID, status="error", error_code="30005", duration_in_seconds=0
    )
    html = alice_client.get("/recordings/").content.decode()
    assert '<span class="badge status-done" title="Done">finished</span>' in html
    assert '<span class="badge status-other" title="Other">transcoding</span>' in html
    assert '<span class="badge status-failed" title="Failed">error</span>' in html
    page = alice_client.get(f"/recordings/{failed['id']}/").content.decode()
    assert "The recording failed with error code <code>30005</code>" in page
    assert alice_client.get(f"/recordings/{done['id']}/").status_code == 200
    assert alice_client.get(f"/recordings/{unknown['id']}/").status_code == 200


def add_credentials(client, label: str, project_id: str, api_token: str):
    """The credentials form, posted for the demo space."""
    fields = {"label": label, "space": "demo", "project_id": project_id, "api_token": api_token}
    return client.post("/credentials/add/", fields)


def test_a_token_without_the_voice_scope_reads_as_such_on_saving(client, carol, space):
    client.force_login(carol)
    response = add_credentials(client, "No voice", NO_VOICE_PROJECT_ID, NO_VOICE_API_TOKEN)
    html = response.content.decode()
    assert response.status_code == 200
    assert "SignalWire answered 401" in html
    assert "lacks the Voice scope" in html
    assert NO_VOICE_API_TOKEN not in html


def test_the_right_token_is_still_accepted(client, carol, space):
    client.force_login(carol)
    response = add_credentials(client, "Acme", DEMO_PROJECT_ID, DEMO_API_TOKEN)
    assert response.status_code == 302


def test_cxml_recordings_count_in_costs_as_positive_costs(alice_client, alice, space):
    cxml = space.add_compat_recording(DEMO_PROJECT_ID, price="-1.2345", price_unit="EUR")
    index.run_sync(Credential.objects.get(user=alice), full=True)
    daily = csv_lines(alice_client.get("/costs/daily.csv?period=today"))
    euros = [line for line in daily[1:] if line[1] == "EUR"]
    assert euros and all(not line[4].startswith("-") for line in euros)
    assert sum(Decimal(line[4]) for line in euros) >= Decimal("1.2345")
    top = alice_client.get("/costs/?period=today").content.decode()
    assert f"/recordings/{cxml['sid']}/" in top and "€1.2345" in top


def made_at(recording) -> str:
    """A download's name starts with when it was made (here, in UTC)."""
    return f"{datetime.fromisoformat(recording['created_at']):%Y-%m-%d_%H%M}"
