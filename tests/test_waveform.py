import io
import math
import random
import struct
import tracemalloc
import wave
from array import array
from fractions import Fraction

import av
import pytest
from django.core.cache import cache

from demo_space import DEMO_PROJECT_ID, iter_wav
from recordings_app import waveform
from recordings_app.waveform import BUCKETS, NoWaveform, media_peaks, wav_peaks

RATE = 8000


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


# ---- every format SignalWire records, made here with the stdlib and PyAV's encoders ------------

SECONDS = 3
FORMATS = [
    "wav 16-bit",
    "wav 8-bit",
    "wav 24-bit",
    "wav 32-bit",
    "wav float",
    "wav mu-law",
    "wav A-law",
    "mp3",
    "mp4 faststart",
    "mp4 moov at end",
]


def call(seconds: int = SECONDS) -> list[tuple[float, float]]:
    """8 kHz stereo: the left party silent for a second, then a loud tone (half of full
    scale) to the end; on the right a faint hiss throughout, as on a line nobody speaks on."""
    hiss = random.Random("right")
    return [
        (
            0.5 * math.sin(2 * math.pi * 440 * i / RATE) if i >= RATE else 0.0,
            hiss.uniform(-0.002, 0.002),
        )
        for i in range(seconds * RATE)
    ]


def pcm_wav(samples, width: int) -> bytes:
    """PCM WAV through the stdlib: unsigned 8-bit, or signed 16, 24 or 32-bit."""
    full = (1 << (8 * width - 1)) - 1
    data = bytearray()
    for pair in samples:
        for value in pair:
            if width == 1:
                data.append(128 + round(value * 127))
            else:
                data += round(value * full).to_bytes(width, "little", signed=True)
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(2)
        file.setsampwidth(width)
        file.setframerate(RATE)
        file.writeframes(bytes(data))
    return out.getvalue()


def encoded(samples, container: str, codec: str, target=None, options=None) -> bytes:
    """The samples encoded by PyAV (FFmpeg's encoders) into `target`, a path or memory."""
    target = target or io.BytesIO()
    flat = array("f", (value for pair in samples for value in pair))
    with av.open(target, "w", format=container, options=options or {}) as muxer:
        stream = muxer.add_stream(codec, rate=RATE, layout="stereo")
        assert isinstance(stream, av.AudioStream)
        if codec in ("aac", "libmp3lame"):
            stream.bit_rate = 64000
        for start in range(0, len(samples), 1024):
            part = flat[2 * start : 2 * (start + 1024)]
            frame = av.AudioFrame(format="flt", layout="stereo", samples=len(part) // 2)
            frame.planes[0].update(part.tobytes())
            frame.sample_rate = RATE
            frame.pts = start
            frame.time_base = Fraction(1, RATE)
            muxer.mux(stream.encode(frame))
        muxer.mux(stream.encode(None))
    if isinstance(target, io.BytesIO):
        return target.getvalue()
    with open(target, "rb") as file:
        return file.read()


def make_recording(name: str, folder, seconds: int = SECONDS) -> bytes:
    samples = call(seconds)
    widths = {"wav 8-bit": 1, "wav 16-bit": 2, "wav 24-bit": 3, "wav 32-bit": 4}
    codecs = {"wav float": "pcm_f32le", "wav mu-law": "pcm_mulaw", "wav A-law": "pcm_alaw"}
    if name in widths:
        return pcm_wav(samples, widths[name])
    if name in codecs:
        return encoded(samples, "wav", codecs[name])
    if name == "mp3":
        return encoded(samples, "mp3", "libmp3lame")
    # The faststart pass rewrites the file it wrote, so it needs a real one.
    path = str(folder / f"{name.replace(' ', '-')}-{seconds}.mp4")
    options = {"movflags": "faststart"} if name == "mp4 faststart" else {}
    return encoded(samples, "mp4", "aac", path, options)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("recordings")
    return {name: make_recording(name, folder) for name in FORMATS}


@pytest.fixture(scope="module")
def long_mp4(tmp_path_factory) -> bytes:
    """20 s with the index at the end: its audio outgrows PyAV's read buffer."""
    return make_recording("mp4 moov at end", tmp_path_factory.mktemp("long"), seconds=20)


def ranged(data: bytes, size: int = 65536, asked: list | None = None):
    """A stand-in for a Range request: the file from an offset on, in chunks."""

    def reopen(offset: int):
        if asked is not None:
            asked.append(offset)
        return chunks(data[offset:], size)

    return reopen


def assert_shows_the_call(peaks, seconds: int = SECONDS) -> None:
    assert peaks.channels == 2 and peaks.sample_rate == RATE
    # MP3 and AAC add some encoder delay and padding (AAC: 128 ms).
    assert peaks.duration == pytest.approx(seconds, abs=0.15)
    left, right = peaks.peaks
    assert BUCKETS * 0.9 < len(left) == len(right) <= BUCKETS

    def at(second: float) -> int:
        return int(second / peaks.duration * len(left))

    assert max(left[: at(0.9)]) < 0.05  # the left party's silent first second
    assert min(left[at(1.3) : at(seconds - 0.2)]) > 0.35  # then its loud tone
    assert max(left) <= 1 and max(left) > 10 * max(right)
    assert max(right) < 0.05


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_gets_peaks_that_show_the_loud_left_and_the_quiet_right(recordings, name):
    data = recordings[name]
    assert_shows_the_call(media_peaks(chunks(data, 65536), reopen=ranged(data)))


@pytest.mark.parametrize("size", [1, 7, 65536])
@pytest.mark.parametrize("name", FORMATS)
def test_the_peaks_of_every_format_do_not_depend_on_how_the_bytes_arrive(recordings, name, size):
    data = recordings[name]
    whole = media_peaks([data], reopen=ranged(data, len(data)))
    assert media_peaks(chunks(data, size), reopen=ranged(data, size)) == whole


def test_a_16_bit_wav_takes_the_stdlib_path_and_others_agree_with_it(recordings):
    data = recordings["wav 16-bit"]
    assert media_peaks([data]) == wav_peaks([data])
    # A streamed WAV's header may not know its length (all ones): PyAV decodes it to the end.
    unknown = data[:40] + b"\xff\xff\xff\xff" + data[44:]
    decoded = media_peaks([unknown])
    assert_shows_the_call(decoded)
    assert decoded.duration == SECONDS


def test_an_mp4_with_its_index_at_the_end_needs_a_way_to_read_from_a_later_point(recordings):
    data = recordings["mp4 moov at end"]
    assert data.index(b"moov") > data.index(b"mdat")
    assert recordings["mp4 faststart"].index(b"moov") < recordings["mp4 faststart"].index(b"mdat")
    with pytest.raises(NoWaveform, match="keeps its index after the audio"):
        media_peaks([recordings["mp4 moov at end"]], "audio/mp4")
    # Its faststart twin needs none, and both layouts draw the same.
    faststart = media_peaks([recordings["mp4 faststart"]])
    assert media_peaks([data], reopen=ranged(data)) == faststart


def test_an_mp4_with_its_index_at_the_end_is_read_with_two_range_requests(long_mp4, monkeypatch):
    data = long_mp4
    fetched = []
    asked: list[int] = []

    def counted(stream):
        for chunk in stream:
            fetched.append(len(chunk))
            yield chunk

    monkeypatch.setattr(waveform, "READ_THROUGH", 4096)  # the audio is a few kB here
    reopen = ranged(data, 4096, asked)
    peaks = media_peaks(counted(chunks(data, 4096)), reopen=lambda at: counted(reopen(at)))
    assert_shows_the_call(peaks, seconds=20)
    # One to skip the audio to the index at the end, one back to the audio's first byte.
    assert asked == [data.index(b"moov") - 4, data.index(b"mdat") + 4]
    # The audio once, and a read buffer's worth before the skip: not the whole file twice.
    assert sum(fetched) < len(data) + 64 * 1024


def test_a_steady_tone_cannot_hide_between_the_samples_looked_at(monkeypatch):
    # Few samples looked at per slice, and a spacing that is a multiple of the tone's period
    # (4 samples, 2 kHz), whose every other sample is zero: looked at always at the same
    # phase, some peaks would read 0. The phase moves from one slice to the next.
    monkeypatch.setattr(waveform, "FRAMES_PER_PEAK", 64)
    tone = [(0.9 * math.sin(math.pi * n / 2),) * 2 for n in range(20 * RATE)]
    data = encoded(tone, "wav", "pcm_f32le")
    unknown = data[: -4 - 20 * RATE * 8] + b"\xff\xff\xff\xff" + data[-20 * RATE * 8 :]
    peaks = media_peaks([unknown])
    assert peaks.duration == 20
    assert min(peaks.peaks[0]) > 0.85


@pytest.mark.parametrize(
    "data, content_type, reason",
    [
        (b"", "audio/wav", "file is empty"),
        (b"<!DOCTYPE html><html><body>Sign in</body></html>", "text/html", "a web page"),
        (bytes(range(256)) * 8, "application/octet-stream", "not WAV, MP3 or MP4 audio"),
        (random.Random(7).randbytes(4000), "audio/mpeg", "not WAV, MP3 or MP4 audio"),
        (b"RIFF\x00\x00\x00\x00AVI LIST" + bytes(100), "video/avi", r"not WAV.*\(video/avi\)"),
        (b"RIFF" + bytes(4) + b"WAVE", "audio/wav", "ended before its audio data began"),
        (b"ID3\x04" + bytes(500), "audio/mpeg", "The MP3 file could not be read"),
        (b"\x00\x00\x00\x18ftypmp42" + bytes(3000), "audio/mp4", "The MP4 file could not be read"),
    ],
)
def test_what_cannot_be_drawn_says_why(data, content_type, reason):
    with pytest.raises(NoWaveform, match=reason):
        media_peaks([data], content_type)


def test_a_file_too_long_to_draw_is_refused_before_it_is_read():
    consumed = []

    def counted(stream):
        for chunk in stream:
            consumed.append(len(chunk))
            yield chunk

    with pytest.raises(NoWaveform, match="too long"):
        media_peaks(counted(iter([b"x"])), size=waveform.MAX_BYTES + 1)
    assert consumed == []
    # 500 MB of WAV: its header says how long, and little past it is read.
    with pytest.raises(NoWaveform, match="too long"):
        media_peaks(counted(iter_wav(16_000, True, "long")))
    assert sum(consumed) < 100_000


def test_a_stream_that_grows_too_long_is_refused_as_it_passes_the_limit(recordings, monkeypatch):
    mp3 = recordings["mp3"]
    monkeypatch.setattr(waveform, "MAX_BYTES", len(mp3))
    with pytest.raises(NoWaveform, match="too long"):
        media_peaks(chunks(mp3 * 10, 4096))
    monkeypatch.setattr(waveform, "MAX_SECONDS", 2)
    wav = recordings["wav 16-bit"]
    unknown = wav[:40] + b"\xff\xff\xff\xff" + wav[44:]  # the WAV header does not say
    with pytest.raises(NoWaveform, match="too long"):
        media_peaks(chunks(unknown, 4096))
    # The MP3's header and the MP4's index say how long they are: refused before decoding.
    for name in ("mp3", "mp4 faststart"):
        with pytest.raises(NoWaveform, match="too long"):
            media_peaks([recordings[name]])


def test_an_upstream_failure_is_raised_not_drawn(recordings):
    class Broken(Exception):
        pass

    def breaking(data):
        yield data[:5000]
        raise Broken()

    with pytest.raises(Broken):
        media_peaks(breaking(recordings["mp3"]))
    with pytest.raises(Broken):
        media_peaks(breaking(recordings["wav 16-bit"]))


def peak_heap(function, *args, **kwargs) -> int:
    tracemalloc.start()
    try:
        function(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_for_200_mb_of_wav():
    b"".join(iter_wav(1, False, "warm"))  # builds the demo's one-second blocks (kept) first
    seconds = 200_000_000 // (RATE * 2)  # mono: tracemalloc slows the sample work down
    peaks = []
    heap = peak_heap(lambda: peaks.append(media_peaks(iter_wav(seconds, False, "long"))))
    assert peaks[0].duration == seconds
    assert heap < 2_000_000


def test_memory_stays_flat_for_a_long_mp3_of_unknown_length():
    # MP3 frames alone (no ID3 tag, no Xing header) repeat into a stream that nothing says
    # the length of: its peaks are gathered in slices that merge as they pile up.
    frames = encoded(call(), "mp3", "libmp3lame", options={"write_xing": "0", "id3v2_version": "0"})

    def five_minutes():
        for _ in range(100):
            yield from chunks(frames, 65536)

    peaks = []
    heap = peak_heap(lambda: peaks.append(media_peaks(five_minutes())))
    assert peaks[0].duration > 300 and len(peaks[0].peaks[0]) == BUCKETS
    assert heap < 2_000_000


# ---- the endpoint ----------------------------------------------------------------------------


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


def test_an_mp3_recording_has_a_waveform_too(alice_client, demo_space, recordings):
    raw = demo_space.add_recording(DEMO_PROJECT_ID)
    # This fault makes the recording's media answer an MP3 (made by this test's encoder).
    demo_space.add_fault(
        status=200, body=recordings["mp3"], content_type="audio/mpeg", path_prefix="/media/"
    )
    answer = alice_client.get(f"/recordings/{raw['id']}/peaks/").json()
    assert answer["channels"] == 2 and answer["duration"] == pytest.approx(SECONDS, abs=0.15)
    left, right = answer["peaks"]
    assert max(left) > 0.4 and max(right) < 0.05


def test_an_mp4_with_its_index_at_the_end_has_a_waveform_through_range_requests(
    alice_client, demo_space, long_mp4
):
    raw = demo_space.add_recording(DEMO_PROJECT_ID)
    # This fault answers every request with the whole MP4, Range or not (200): the Range
    # request's answer then skips to the offset it asked for.
    demo_space.add_fault(status=200, body=long_mp4, content_type="audio/mp4", path_prefix="/media/")
    demo_space.clear_request_log()
    answer = alice_client.get(f"/recordings/{raw['id']}/peaks/").json()
    assert answer["channels"] == 2 and answer["duration"] == pytest.approx(20, abs=0.15)
    left, right = answer["peaks"]
    assert max(left) > 0.4 and max(right) < 0.05
    media_requests = [entry for entry in demo_space.request_log if "/media/" in entry[1]]
    assert len(media_requests) >= 2


def test_nobody_gets_the_peaks_of_another_projects_recording(bob_client, demo_space):
    raw = demo_space.add_recording(DEMO_PROJECT_ID)
    assert bob_client.get(f"/recordings/{raw['id']}/peaks/").status_code == 404


def test_peaks_need_a_login(client, demo_space):
    raw = demo_space.add_recording(DEMO_PROJECT_ID)
    response = client.get(f"/recordings/{raw['id']}/peaks/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
