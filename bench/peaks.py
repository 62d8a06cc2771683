"""How long computing waveform peaks takes for an hour of each format SignalWire records.

    .venv/bin/python bench/peaks.py

Every recording is an hour of the demo space's two-party call at 8 kHz, built once here: the
WAV as the demo space serves it; the MP3s and the MP4s by encoding one minute and repeating
its packets (encoding an hour would take minutes). They reach media_peaks in 64 KiB chunks
as from upstream, with the Content-Length as recording_peaks passes it (the "no length" rows
without it: a headerless MP3 then says nothing of its length until it ends).

Two baselines from the same run: `read`, only consuming the chunks (what any reader pays),
and `decode`, PyAV demuxing and decoding the same bytes from memory and doing nothing with
the audio (the floor for peaks made by decoding). `peaks/decode` is what reading from a
stream and finding the peaks add to that floor: compare it across machines, not the seconds.
Each figure is the fastest of 3 runs (the machine is shared). The 16-bit WAV row is the
stdlib fast path; the row below it is the same file decoded by PyAV (as a WAV whose header
does not give its length is), which is why the fast path stays.

Target: an hour of MP3 in under 2 s on this 2-core machine; the last line says if it is met.
"""

import io
import os
import sys
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from itertools import chain
from pathlib import Path
from typing import TypeVar

import av

# Run as a script (sys.path[0] is bench/): the project's packages are one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo_space import iter_wav  # noqa: E402
from recordings_app.waveform import media_peaks  # noqa: E402

RATE = 8000
MINUTES = 60
TARGET_SECONDS = 2.0
CHUNK = 65536
T = TypeVar("T")


def minute_of_call(stereo: bool):
    """One minute of the demo call as PyAV frames of 1024 samples."""
    layout, width = ("stereo", 4) if stereo else ("mono", 2)
    pcm = b"".join(iter_wav(60, stereo, "bench"))[44:]
    for start in range(0, len(pcm), 1024 * width):
        part = pcm[start : start + 1024 * width]
        frame = av.AudioFrame(format="s16", layout=layout, samples=len(part) // width)
        frame.planes[0].update(part)
        frame.sample_rate = RATE
        frame.pts = start // width
        frame.time_base = Fraction(1, RATE)
        yield frame


def encoded_minute(muxer, stereo: bool, codec: str, bit_rate: int):
    """The muxer's audio stream and one minute of the call encoded for it, as (bytes, pts,
    duration) of each packet: muxing a packet empties it, and these are muxed again."""
    stream = muxer.add_stream(codec, rate=RATE, layout="stereo" if stereo else "mono")
    stream.bit_rate = bit_rate
    packets = []
    for frame in chain(minute_of_call(stereo), [None]):
        packets += stream.encode(frame)
    return stream, [(bytes(p), p.pts, p.duration, p.time_base) for p in packets]


def hour_of_mp3(stereo: bool) -> bytes:
    """Frames only (no ID3 tag, no Xing header), so one minute repeats into an hour: a stream
    of an MP3 whose length is unknown until its end, the hard case."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp3", options={"write_xing": "0", "id3v2_version": "0"}) as c:
        stream, minute = encoded_minute(c, stereo, "libmp3lame", 32000 if stereo else 16000)
        mux_repeated(c, stream, minute, 1)
    return out.getvalue() * MINUTES


def hour_of_mp4(path: str, faststart: bool) -> bytes:
    """An hour of AAC in MP4: the minute's packets muxed 60 times with shifted timestamps."""
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(path, "w", format="mp4", options=options) as muxer:
        stream, minute = encoded_minute(muxer, True, "aac", 32000)
        mux_repeated(muxer, stream, minute, MINUTES)
    return Path(path).read_bytes()


def mux_repeated(muxer, stream, minute, times: int) -> None:
    span = sum(duration for _, _, duration, _ in minute)
    for repeat in range(times):
        for data, pts, duration, time_base in minute:
            packet = av.Packet(data)
            packet.pts = packet.dts = pts + repeat * span
            packet.duration = duration
            packet.time_base = time_base
            packet.stream = stream
            muxer.mux(packet)


def chunks(data: bytes):
    return (data[start : start + CHUNK] for start in range(0, len(data), CHUNK))


def best_of(runs: int, function: Callable[..., T], *args, **kwargs) -> tuple[float, T]:
    """The fastest of a few runs (the machine is shared) and the last answer."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        answer = function(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return min(times), answer


def read_only(data: bytes) -> None:
    for _ in chunks(data):
        pass


def decode_only(data: bytes, container: str) -> None:
    """What PyAV's decoding alone costs: the same demux-and-decode loop, nothing done with it."""
    with av.open(io.BytesIO(data), mode="r", format=container) as opened:
        stream = opened.streams.audio[0]
        for packet in opened.demux(stream):
            packet.decode()


def main() -> None:
    print(f"building {MINUTES}-minute recordings of an 8 kHz two-party call...", flush=True)
    wav = b"".join(iter_wav(MINUTES * 60, True, "bench"))
    unsized = wav[:40] + b"\xff\xff\xff\xff" + wav[44:]  # a streamed WAV: length unknown
    mono, stereo = hour_of_mp3(False), hour_of_mp3(True)
    with tempfile.TemporaryDirectory() as folder:
        faststart = hour_of_mp4(os.path.join(folder, "faststart.mp4"), True)
        moov_at_end = hour_of_mp4(os.path.join(folder, "moov-at-end.mp4"), False)
    # (label, bytes, container, Content-Length known: as recording_peaks passes it)
    recordings = [
        ("MP3 mono", mono, "mp3", True),
        ("MP3 stereo", stereo, "mp3", True),
        ("MP3 mono, no length", mono, "mp3", False),
        ("MP3 stereo, no length", stereo, "mp3", False),
        ("WAV 16-bit stereo", wav, "wav", True),
        ("same, decoded by PyAV", unsized, "wav", True),
        ("MP4/AAC faststart", faststart, "mp4", True),
        ("MP4/AAC moov at end", moov_at_end, "mp4", True),
    ]
    print(
        f"{'recording (1 hour)':>22}  {'MB':>6}  {'read s':>6}  {'decode s':>8}  {'peaks s':>7}"
        f"  {'peaks/decode':>12}  {'duration s':>10}"
    )
    slowest_mp3 = 0.0
    for label, data, container, sized in recordings:
        read, _ = best_of(3, read_only, data)
        decode, _ = best_of(3, decode_only, data, container)
        size = len(data) if sized else None
        seconds, peaks = best_of(3, peaks_of, data, size)
        if container == "mp3":
            slowest_mp3 = max(slowest_mp3, seconds)
        print(
            f"{label:>22}  {len(data) / 1e6:6.1f}  {read:6.3f}  {decode:8.3f}  {seconds:7.3f}"
            f"  {seconds / decode:12.2f}  {peaks.duration:10.1f}"
        )
    met = "met" if slowest_mp3 < TARGET_SECONDS else "NOT met"
    print(
        f"target: an hour of MP3 in under {TARGET_SECONDS:.0f} s: {met} "
        f"(slowest {slowest_mp3:.2f} s)"
    )


def peaks_of(data: bytes, size: int | None):
    """As recording_peaks asks: the chunks, the Content-Length, and a Range request's
    stand-in (the file from an offset on)."""
    return media_peaks(chunks(data), size=size, reopen=lambda offset: chunks(data[offset:]))


if __name__ == "__main__":
    main()
