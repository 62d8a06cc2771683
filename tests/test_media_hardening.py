"""Audio answers that a hostile or careless upstream cannot turn against the dashboard,
and downloads that are audited however the Range header is spelled."""

import gzip

import pytest

from demo_space import DEMO_PROJECT_ID
from recordings_app.models import AuditEvent
from tests.conftest import body


@pytest.fixture
def recording(demo_space):
    return demo_space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=2)


def downloads() -> int:
    return AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).count()


@pytest.mark.parametrize(
    ("spelling", "status", "from_byte"),
    [
        ("bytes=00-", 206, 0),  # the same range, spelled oddly: passed on as bytes=0-
        ("bytes=-99999999", 206, 0),  # a suffix longer than the file: the whole file
        ("bytes=1-1,0-", 200, 0),  # several ranges: answered as the whole file
        ("BYTES=0-", 200, 0),  # not the unit's spelling: the whole file
        ("bytes=5-2", 200, 0),  # backwards: the whole file
        ("bytes=1-", 206, 1),  # a resumed download: the same download, no new row
    ],
)
def test_a_download_is_audited_by_what_it_delivers(
    alice_client, recording, spelling, status, from_byte
):
    response = alice_client.get(
        f"/recordings/{recording['id']}/audio/?download=1", headers={"Range": spelling}
    )
    assert response.status_code == status
    assert len(body(response)) == recording["byte_size"] - from_byte
    assert downloads() == (1 if from_byte == 0 else 0)


def test_media_is_served_only_as_audio_and_never_as_a_page(alice_client, demo_space):
    hostile = demo_space.add_recording(DEMO_PROJECT_ID, media_host="foreign", duration_in_seconds=2)
    page = b'<script src="/recordings/other/audio/"></script>'
    demo_space.add_fault(
        status=200, body=page, content_type="text/html", host="foreign", path_prefix="/"
    )
    response = alice_client.get(f"/recordings/{hostile['id']}/audio/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert body(response) == page


def test_audio_types_pass_as_they_are(alice_client, demo_space):
    mp3 = demo_space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=2, media_format="mp3")
    response = alice_client.get(f"/recordings/{mp3['id']}/audio/")
    assert response["Content-Type"] == "audio/mpeg"
    assert response["Content-Security-Policy"] == "sandbox"


def test_compressed_media_passes_through_byte_for_byte(alice_client, demo_space, recording):
    squeezed = gzip.compress(b"RIFF" + bytes(5000))
    demo_space.add_fault(
        status=200,
        body=squeezed,
        content_type="audio/wav",
        headers={"Content-Encoding": "gzip"},
        path_prefix="/media/",
    )
    response = alice_client.get(f"/recordings/{recording['id']}/audio/")
    assert response.status_code == 200
    delivered = body(response)
    assert delivered == squeezed and int(response["Content-Length"]) == len(delivered)
