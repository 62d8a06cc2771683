"""Waveform peaks of a WAV recording, computed while its bytes stream past.

The player draws the waveform from these peaks and plays the audio through the `<audio>`
element, which streams with `Range`: the browser never has to download and decode the
whole file to show it. Only 16-bit PCM WAV is read (what SignalWire records as WAV);
anything else (mp3) gets no peaks and the player shows a plain progress bar.

The stdlib `array` module does the sample work in C (`audioop` is deprecated).
"""

import struct
import sys
from array import array
from collections.abc import Iterable
from dataclasses import dataclass

from recordings_app import credential_cache

BUCKETS = 1000  # peaks per channel: about one per pixel of a wide waveform
MAX_BYTES = 256 * 1024 * 1024  # about 2 h 20 min of 8 kHz stereo; longer files get no waveform
MAX_HEADER = 64 * 1024  # fmt and other chunks before `data` must fit in this
# A peak is the loudest of at most this many evenly spaced frames of its slice: plenty
# for a picture of speech, and it keeps long files to a few hundred MB/s (bench/peaks.py).
FRAMES_PER_PEAK = 2000


class NoWaveform(Exception):
    """The file is not something we draw a waveform for; the message says why."""


@dataclass(frozen=True)
class Peaks:
    channels: int
    sample_rate: int
    duration: float
    # One list per channel, BUCKETS values from 0 to 1 (the loudest sample in each slice).
    peaks: list[list[float]]

    def as_json(self) -> dict:
        return {
            "channels": self.channels,
            "sample_rate": self.sample_rate,
            "duration": self.duration,
            "peaks": self.peaks,
        }


def wav_peaks(chunks: Iterable[bytes], buckets: int = BUCKETS) -> Peaks:
    """Peaks per channel of a 16-bit PCM WAV file given as a stream of byte chunks.

    Raises NoWaveform for a file that is not 16-bit PCM WAV, too long, or empty."""
    stream = iter(chunks)
    head = bytearray()
    while True:
        parsed = _parse_header(head)
        if parsed is not None:
            break
        if len(head) > MAX_HEADER:
            raise NoWaveform("The audio file's header is not a WAV header we can read.")
        chunk = next(stream, None)
        if chunk is None:
            raise NoWaveform("The audio file ended before its audio data began.")
        head += chunk
    channels, rate, data_start, data_size = parsed
    if data_size > MAX_BYTES:
        raise NoWaveform("The recording is too long to draw a waveform for.")
    frame = 2 * channels
    frames = data_size // frame
    if frames == 0:
        raise NoWaveform("The recording has no audio samples.")
    per_bucket = -(-frames // buckets)  # ceiling: every frame lands in a bucket
    stride = channels * max(1, per_bucket // FRAMES_PER_PEAK)
    bucket_bytes = per_bucket * frame
    out: list[list[float]] = [[] for _ in range(channels)]
    pending = bytearray(head[data_start:])
    remaining = data_size

    def flush(block: bytes) -> None:
        samples = array("h")
        samples.frombytes(block[: len(block) - len(block) % frame])
        if sys.byteorder != "little":
            samples.byteswap()
        for channel in range(channels):
            lane = samples[channel::stride]
            loudest = max(max(lane), -min(lane)) if lane else 0
            out[channel].append(round(min(loudest / 32767, 1.0), 3))

    while remaining > 0:
        while remaining > 0 and len(pending) >= min(bucket_bytes, remaining):
            take = min(bucket_bytes, remaining)
            flush(bytes(pending[:take]))
            del pending[:take]
            remaining -= take
        if remaining <= 0:
            break
        chunk = next(stream, None)
        if chunk is None:
            break  # a short file: draw what arrived
        pending += chunk
    if remaining > 0 and len(pending) >= frame:
        flush(bytes(pending[: min(len(pending), remaining)]))
    if not out[0]:
        raise NoWaveform("The recording has no audio samples.")
    return Peaks(channels, rate, round(frames / rate, 3), out)


def _parse_header(head: bytearray):
    """(channels, rate, data offset, data size) once `head` holds the header, else None."""
    if len(head) < 12:
        return None
    riff, _, wave = struct.unpack_from("<4sI4s", head)
    if riff != b"RIFF" or wave != b"WAVE":
        raise NoWaveform("The audio file is not a WAV file.")
    offset, fmt = 12, None
    while offset + 8 <= len(head):
        name, size = struct.unpack_from("<4sI", head, offset)
        body = offset + 8
        if name == b"fmt ":
            if body + 16 > len(head):
                return None
            audio_format, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", head, body)
            if audio_format not in (1, 0xFFFE) or bits != 16 or channels not in (1, 2) or not rate:
                raise NoWaveform("Only 16-bit PCM WAV files get a waveform.")
            fmt = channels, rate
        elif name == b"data":
            if fmt is None:
                raise NoWaveform("The WAV file has its audio data before its format.")
            return (*fmt, body, size)
        offset = body + size + (size & 1)
    return None


def peaks_for(credential, recording_id: str) -> dict:
    """The recording's peaks as JSON-ready data, computed from its streamed WAV once and
    cached for a day under the credential's scope (a delete forgets them);
    `{"peaks": None, "reason": ...}` where there is none to draw."""
    return credential_cache.remember(
        credential,
        ("peaks", recording_id),
        lambda: _compute_peaks(credential.client(), recording_id),
        credential_cache.PEAKS_SECONDS,
    )


def _compute_peaks(client, recording_id: str) -> dict:
    media = client.open_media(client.get_recording(recording_id))
    try:
        # Anything else is sniffed: wav_peaks refuses what is not 16-bit PCM WAV.
        if "mpeg" in media.headers.get("Content-Type", ""):
            raise NoWaveform("Waveforms are drawn for WAV recordings only.")
        return wav_peaks(media).as_json()
    except NoWaveform as reason:
        return {"peaks": None, "reason": str(reason)}
    finally:
        media.close()
