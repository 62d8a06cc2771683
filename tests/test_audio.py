import asyncio
import io
import tracemalloc
import wave
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient

from demo_space import DEMO_PROJECT_ID
from tests.conftest import body


def test_the_whole_file_streams_with_its_headers(alice_client, playable):
    response = alice_client.get(f"/recordings/{playable['id']}/audio/")
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert response["Accept-Ranges"] == "bytes"
    assert int(response["Content-Length"]) == playable["byte_size"]
    audio = body(response)
    assert len(audio) == playable["byte_size"]
    with wave.open(io.BytesIO(audio)) as wav:
        assert wav.getnframes() / wav.getframerate() == playable["duration_in_seconds"]


def test_a_range_request_gets_206_and_just_those_bytes(alice_client, playable):
    full = body(alice_client.get(f"/recordings/{playable['id']}/audio/"))
    response = alice_client.get(
        f"/recordings/{playable['id']}/audio/", headers={"Range": "bytes=1000-1999"}
    )
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 1000-1999/{playable['byte_size']}"
    assert response["Content-Length"] == "1000"
    assert body(response) == full[1000:2000]


def test_an_unsatisfiable_range_is_416(alice_client, playable):
    response = alice_client.get(
        f"/recordings/{playable['id']}/audio/", headers={"Range": "bytes=999999999-"}
    )
    assert response.status_code == 416


def test_download_is_an_attachment_named_after_the_recording(alice_client, playable):
    response = alice_client.get(f"/recordings/{playable['id']}/audio/?download=1")
    assert response["Content-Disposition"] == (
        f'attachment; filename="{made_at(playable)}_recording-{playable["id"]}.wav"'
    )
    assert len(body(response)) == playable["byte_size"]


def test_credentials_go_only_to_the_spaces_own_host(alice_client, demo_space, playable):
    alice_client.get(f"/recordings/{playable['id']}/audio/")
    media_requests = [entry for entry in demo_space.request_log if "/media/" in entry[1]]
    assert media_requests and all(user == DEMO_PROJECT_ID for _, _, user in media_requests)


def test_media_on_a_foreign_host_is_fetched_without_the_credentials(alice_client, demo_space):
    raw = demo_space.add_recording(DEMO_PROJECT_ID, media_host="foreign", duration_in_seconds=3)
    response = alice_client.get(f"/recordings/{raw['id']}/audio/")
    assert response.status_code == 200
    assert len(body(response)) == raw["byte_size"]
    log = demo_space.foreign_request_log
    assert log and not any(entry.authorization for entry in log)


def test_media_on_files_signalwire_com_plays_with_the_credentials(
    alice_client, demo_space, settings
):
    settings.SIGNALWIRE_FILES_URL = demo_space.files_url
    raw = demo_space.add_recording(DEMO_PROJECT_ID, media_host="files", duration_in_seconds=3)
    assert raw["url"].startswith("https://files.signalwire.com/")
    response = alice_client.get(f"/recordings/{raw['id']}/audio/", headers={"Range": "bytes=100-"})
    assert response.status_code == 206
    assert len(body(response)) == raw["byte_size"] - 100
    log = demo_space.files_request_log
    assert log and all(entry.username == DEMO_PROJECT_ID for entry in log)


def test_a_large_download_streams_in_flat_memory(alice_client, demo_space):
    # About 160 MB of audio; memory held by the stream must stay at a few chunks.
    raw = demo_space.add_recording(
        DEMO_PROJECT_ID, duration_in_seconds=10_000, stereo=False, status="completed"
    )
    response = alice_client.get(f"/recordings/{raw['id']}/audio/?download=1")
    tracemalloc.start()
    size = sum(len(chunk) for chunk in response.streaming_content)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert size == 44 + 10_000 * 8000 * 2
    assert peak < 5 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB while streaming {size / 1e6:.0f} MB"


def made_at(recording) -> str:
    """A download's name starts with when it was made (here, in UTC)."""
    return f"{datetime.fromisoformat(recording['created_at']):%Y-%m-%d_%H%M}"


@pytest.mark.django_db(transaction=True)
def test_under_asgi_the_audio_is_sent_from_the_event_loop(alice, playable):
    """As deployed (ASGI), the body is an async iterator: the server sends it from its
    event loop, and a slow listener holds no thread. A sync one would be read whole
    into memory before the first byte went out."""

    async def play():
        client = AsyncClient()
        await client.aforce_login(alice)
        response = await client.get(
            f"/recordings/{playable['id']}/audio/", headers={"Range": "bytes=0-"}
        )
        audio = b"".join([chunk async for chunk in response.streaming_content])
        # The test client leaves connections open after a request (for the test's own
        # transaction); this one was opened in a thread of asgiref's: closed there.
        await sync_to_async(connections.close_all)()
        return response, audio

    # In a thread of its own: the browser tests leave an event loop in this one.
    with ThreadPoolExecutor(1) as thread:
        response, audio = thread.submit(asyncio.run, play()).result()
    assert response.status_code == 206 and response.is_async
    assert len(audio) == playable["byte_size"] and audio[:4] == b"RIFF"
