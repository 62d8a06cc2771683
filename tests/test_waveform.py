import struct

import pytest
from django.core.cache import cache

from demo_space import DEMO_PROJECT_ID, iter_wav
from recordings_app.waveform import BUCKETS, NoWaveform, wav_peaks


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()


def chunks(data: bytes, size: int):
    return (data[i : i + size] for i in range(0, len(data), size))


def test_stereo_peaks_show_each_party_on_its_own_channel():
    peaks = wav_peaks(iter_wav(120, True, "two parties"))
    assert peaks.channels == 2 and peaks.sample_rate == 8000 and peaks.duration == 120
    left, right = peaks.peaks
    assert len(left) == len(right) == BUCKETS
    # The demo's parties take turns: where one speaks the other's channel is quiet.
    assert any(a > 0.2 and b < 0.01 for a, b in zip(left, right, strict=True))
    assert any(b > 0.2 and a < 0.01 for a, b in zip(left, right, strict=True))
    assert max(left + right) <= 1


def test_peaks_do_not_depend_on_how_the_bytes_arrive():
    whole = b"".join(iter_wav(30, False, "mono"))
    assert wav_peaks(chunks(whole, 7)).peaks == wav_peaks([whole]).peaks


def test_a_short_file_gets_one_peak_per_frame_at_most():
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        44,
        b"WAVE",
        b"fmt ",
        16,
        1,
        1,
        8000,
        16000,
        2,
        16,
        b"data",
        8,
    )
    peaks = wav_peaks([header + struct.pack("<4h", 0, 16384, -32768, 5)])
    assert peaks.peaks == [[0.0, 0.5, 1.0, 0.0]]


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"ID3\x04" + bytes(200), "not a WAV file"),
        (
            b"RIFF" + bytes(4) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8),
            "Only 16-bit PCM",
        ),
        (b"RIFF" + bytes(4) + b"WAVE", "ended before"),
    ],
)
def test_files_we_cannot_draw_say_why(data, reason):
    with pytest.raises(NoWaveform, match=reason):
        wav_peaks([data])


def test_the_peaks_endpoint_answers_json_for_a_stereo_recording(alice_client, demo_space):
    raw = demo_space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=90, stereo=True)
    answer = alice_client.get(f"/recordings/{raw['id']}/peaks/").json()
    assert answer["channels"] == 2 and answer["duration"] == 90
    assert len(answer["peaks"]) == 2 and len(answer["peaks"][0]) == BUCKETS


def test_peaks_are_computed_once_and_then_cached(alice_client, demo_space):
    raw = demo_space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=20)
    first = alice_client.get(f"/recordings/{raw['id']}/peaks/").json()
    demo_space.clear_request_log()
    assert alice_client.get(f"/recordings/{raw['id']}/peaks/").json() == first
    assert demo_space.request_log == []


def test_an_mp3_recording_has_no_waveform_and_says_why(alice_client, demo_space):
    raw = demo_space.add_recording(DEMO_PROJECT_ID)
    # The demo space serves WAV only; this fault makes its media answer an mp3.
    demo_space.add_fault(
        status=200, body=b"ID3\x04" + bytes(500), content_type="audio/mpeg", path_prefix="/media/"
    )
    answer = alice_client.get(f"/recordings/{raw['id']}/peaks/").json()
    assert answer == {"peaks": None, "reason": "Waveforms are drawn for WAV recordings only."}


def test_nobody_gets_the_peaks_of_another_projects_recording(bob_client, demo_space):
    raw = demo_space.add_recording(DEMO_PROJECT_ID)
    assert bob_client.get(f"/recordings/{raw['id']}/peaks/").status_code == 404


def test_peaks_need_a_login(client, demo_space):
    raw = demo_space.add_recording(DEMO_PROJECT_ID)
    response = client.get(f"/recordings/{raw['id']}/peaks/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
