"""Waveform peaks of a recording, computed while its bytes stream past.

The player draws the waveform from these peaks and plays the audio through the `<audio>`
element, which streams with `Range`: the browser never has to download and decode the
whole file to show it. Every format SignalWire records gets peaks: WAV (PCM of any sample
width, float, mu-law, A-law), MP3 and MP4/AAC. `media_peaks` is the way in:

- 16-bit PCM WAV, what SignalWire records as WAV, is read with the stdlib (`wav_peaks`): the
  header gives the length, so each peak looks at a bounded sample of its slice and nothing is
  decoded. bench/peaks.py measures it against decoding the same file with PyAV: about 3.5
  times faster (0.2 s against 0.75 s for an hour of stereo), so it stays.
- Everything else is decoded with PyAV, which ships FFmpeg's decoders in its wheels, from a
  file object that reads the chunks as they arrive. The length may be unknown until the end
  (an MP3 without a header), so the loudest sample of each short slice is kept, neighbouring
  slices merge as they pile up, and the slices fold into the peaks at the end.

Memory stays flat for any length: no path holds more than a chunk or two of the file, and the
slices are bounded. A file of more than MAX_BYTES, or more than MAX_SECONDS of audio, gets no
waveform ("too long"): refused before reading when the WAV header, the Content-Length or the
container's own duration says so, otherwise once the stream passes the limit.

The stdlib `array` module does the sample work in C (`audioop` is deprecated). PyAV's
`to_ndarray` would need numpy, and is no faster here: an hour of stereo MP3 took 1.25 s with
numpy per decoded frame, 1.2 s this way; decoding itself is 0.6 s of it.
"""

import io
import struct
import sys
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeVar

import av
from django.conf import settings

from recordings_app import credential_cache

BUCKETS = 1000  # peaks per channel: about one per pixel of a wide waveform
MAX_BYTES = 256 * 1024 * 1024  # about 2 h 20 min of 8 kHz stereo WAV; longer files get none
# Decoding runs in the request: an hour of 8 kHz stereo MP3 takes about 1.5 s (bench/peaks.py),
# so this bounds the wait; longer calls get no waveform.
MAX_SECONDS = 4 * 3600
MAX_HEADER = 64 * 1024  # a WAV's chunks before `data`, an MP4's boxes before `moov`/`mdat`
# A peak is the loudest of at most about this many evenly spaced frames of its slice: plenty
# for a picture of speech, and it keeps long files to a few hundred MB/s (bench/peaks.py).
# Short files get every frame looked at.
FRAMES_PER_PEAK = 2000
# Decoded audio: slices kept per channel before neighbours merge; each peak then covers 8 to
# 16 of them, so its edges are within 1/8 of a peak of the truth.
SLICES_PER_PEAK = 16
SLICES = SLICES_PER_PEAK * BUCKETS
BLOCK = 16384  # decoded samples per channel gathered before they are looked at
# A forward seek shorter than this reads through; a longer one reopens the media there.
READ_THROUGH = 1024 * 1024
TOO_LONG = "The recording is too long to draw a waveform for."

# FFmpeg sample format (packed name) -> array typecode, the value of silence, full scale.
SAMPLE_FORMATS = {
    "u8": ("B", 128, 128),
    "s16": ("h", 0, 1 << 15),
    "s32": ("i" if array("i").itemsize == 4 else "l", 0, 1 << 31),
    "s64": ("q", 0, 1 << 63),
    "flt": ("f", 0, 1),
    "dbl": ("d", 0, 1),
}
CONTAINER_NAMES = {"wav": "WAV", "mp3": "MP3", "mp4": "MP4"}


T = TypeVar("T")


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


def media_peaks(
    chunks: Iterable[bytes],
    content_type: str = "",
    *,
    size: int | None = None,
    reopen: Callable[[int], Iterable[bytes]] | None = None,
    buckets: int = BUCKETS,
) -> Peaks:
    """Peaks per channel of a WAV, MP3 or MP4 file given as a stream of byte chunks.

    The file's first bytes say what it is; `content_type` only explains a refusal (a web page
    where audio was expected). `size` (the Content-Length, when known) refuses a file that is
    too long before reading it. `reopen(offset)` gives the file's bytes from `offset` on (an
    HTTP Range request): an MP4 that keeps its index (`moov`) after the audio can only be
    read with it. Raises NoWaveform, saying why, for what cannot be drawn."""
    if size is not None and size > MAX_BYTES:
        raise NoWaveform(TOO_LONG)
    return read_with(
        chunks, reopen, lambda reader: _read_peaks(reader, content_type, size, buckets), NoWaveform
    )


def read_with(
    chunks: Iterable[bytes],
    reopen: Callable[[int], Iterable[bytes]] | None,
    read: Callable[["MediaReader"], T],
    refusal: type[Exception],
) -> T:
    """`read` applied to a MediaReader of the chunks. Where the stream failed, its
    failure (a SignalWireError, PastDeadline) is raised rather than `refusal`, the
    reader's own "cannot read this": a failing upstream explains more than what it left."""
    reader = MediaReader(chunks, reopen)
    try:
        result = read(reader)
    except refusal:
        reader.raise_failure()
        raise
    finally:
        reader.close()
    reader.raise_failure()
    return result


def _read_peaks(reader: "MediaReader", content_type: str, size: int | None, buckets: int):
    """media_peaks' choice of a way to read the file, from its first bytes."""
    container = container_format(reader.peek(12), content_type)
    if container == "wav":
        fmt, data, ended = wav_layout(reader)
        if data is None and ended:
            raise NoWaveform("The audio file ended before its audio data began.")
        # A WAV written as it streams may not know its length: 0 or all ones; PyAV reads to the end.
        if data is not None and data[1] not in (0, 0xFFFFFFFF):
            if data[1] > MAX_BYTES:
                raise NoWaveform(TOO_LONG)
            if fmt is not None and is_pcm16(fmt):
                return wav_peaks(reader.chunks(), buckets)
    elif container == "mp4":
        index_first = mp4_index_first(reader)
        if index_first is False and not reader.can_reopen:
            raise NoWaveform(
                "This MP4 file keeps its index after the audio, and the server offered no way "
                "to read from a later point, so it cannot be read as it streams."
            )
        reader.random_access = not index_first and reader.can_reopen
    return _decoded_peaks(reader, container, size, buckets)


def wav_peaks(chunks: Iterable[bytes], buckets: int = BUCKETS) -> Peaks:
    """Peaks per channel of a 16-bit PCM WAV file given as a stream of byte chunks.

    media_peaks' fast path: no decoding, and at most FRAMES_PER_PEAK frames looked at per peak.
    Raises NoWaveform for a file that is not 16-bit PCM WAV, too long, or empty."""
    stream = iter(chunks)
    head = bytearray()
    while True:
        fmt, data = _wav_header(head)
        if fmt is not None and not is_pcm16(fmt):
            raise NoWaveform("Only 16-bit PCM WAV files get a waveform.")
        if data is not None:
            break
        if len(head) > MAX_HEADER:
            raise NoWaveform("The audio file's header is not a WAV header we can read.")
        chunk = next(stream, None)
        if chunk is None:
            raise NoWaveform("The audio file ended before its audio data began.")
        head += chunk
    (_, channels, rate, _), (data_start, data_size) = fmt, data
    if data_size > MAX_BYTES:
        raise NoWaveform(TOO_LONG)
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


def is_pcm16(fmt: tuple[int, int, int, int]) -> bool:
    audio_format, channels, rate, bits = fmt
    return audio_format in (1, 0xFFFE) and bits == 16 and channels in (1, 2) and rate > 0


def _wav_header(head: bytes | bytearray):
    """The WAV header's format (tag, channels, rate, bits) and its audio data's (offset,
    size), each None while `head` does not reach that far."""
    if len(head) < 12:
        return None, None
    riff, _, wave = struct.unpack_from("<4sI4s", head)
    if riff != b"RIFF" or wave != b"WAVE":
        raise NoWaveform("The audio file is not a WAV file.")
    offset, fmt = 12, None
    while offset + 8 <= len(head):
        name, size = struct.unpack_from("<4sI", head, offset)
        body = offset + 8
        if name == b"fmt ":
            if body + 16 > len(head):
                return fmt, None
            fmt = struct.unpack_from("<HHI6xH", head, body)
        elif name == b"data":
            if fmt is None:
                raise NoWaveform("The WAV file has its audio data before its format.")
            return fmt, (body, size)
        offset = body + size + (size & 1)
    return fmt, None


def wav_layout(reader: "MediaReader"):
    """_wav_header of the stream, reading as much of it as the header needs (up to about
    MAX_HEADER), and whether the file ended before that."""
    want = 64
    while True:
        head = reader.peek(want)
        fmt, data = _wav_header(head)
        if data is not None or len(head) < want or want > MAX_HEADER:
            return fmt, data, len(head) < want
        want *= 2


def container_format(head: bytes, content_type: str) -> str:
    """PyAV's name for the container the file's first bytes show. Its bytes decide, not its
    label: a Content-Type only explains what the file is when it is not audio."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:3] == b"ID3" or _is_mpeg_audio_frame(head):
        return "mp3"
    if not head:
        raise NoWaveform("The recording's file is empty.")
    label = content_type.partition(";")[0].strip().lower()
    if label in ("text/html", "application/xhtml+xml") or head.lstrip()[:1] == b"<":
        raise NoWaveform("The recording's address answered with a web page, not audio.")
    raise NoWaveform(
        f"The recording's file is not WAV, MP3 or MP4 audio{f' ({label})' if label else ''}."
    )


def _is_mpeg_audio_frame(head: bytes) -> bool:
    """An MP3 without an ID3 tag starts with a frame: 11 sync bits, then a version and a layer
    that are not the reserved values (layer 0 would be ADTS AAC)."""
    return (
        len(head) >= 2
        and head[0] == 0xFF
        and head[1] & 0xE0 == 0xE0
        and (head[1] >> 3) & 3 != 1
        and (head[1] >> 1) & 3 != 0
    )


def mp4_index_first(reader: "MediaReader") -> bool | None:
    """Whether an MP4's index (`moov`) comes before its audio (`mdat`), from the top-level
    boxes; None when the boxes before either do not fit in MAX_HEADER."""
    offset = 0
    while offset <= MAX_HEADER:
        head = reader.peek(offset + 16)
        if len(head) < offset + 8:
            return None
        size, name = struct.unpack_from(">I4s", head, offset)
        if name == b"moov":
            return True
        if name == b"mdat":
            return False
        if size == 1 and len(head) >= offset + 16:  # a 64-bit size follows the name
            size = struct.unpack_from(">Q", head, offset + 8)[0]
        if size < 8:
            return None
        offset += size
    return None


class MediaReader:
    """A read-only file over a stream of byte chunks, for PyAV to read as they arrive.

    It holds at most a chunk or two. Forward only, unless `random_access` is set and
    `reopen(offset)` gives the file from a later or earlier byte (an HTTP Range request). It
    never raises into FFmpeg: a failing stream ends the file, and `raise_failure()` raises
    that error afterwards; past MAX_BYTES the file ends too and `too_long` says so."""

    def __init__(self, chunks: Iterable[bytes], reopen: Callable[[int], Iterable[bytes]] | None):
        self._source: Iterator[bytes] = iter(chunks)
        self._opened: Iterable[bytes] | None = None  # what reopen gave: ours to close
        self._reopen = reopen
        self._pending = bytearray()
        self._position = 0  # offset in the file of the first pending byte
        self._taken = 0  # bytes taken from upstream, every opening together
        self.random_access = False
        self.too_long = False
        self.failure: Exception | None = None

    def peek(self, size: int) -> bytes:
        """The next `size` bytes (fewer at the end), without consuming them."""
        self._fill(size)
        return bytes(self._pending[:size])

    def chunks(self) -> Iterator[bytes]:
        """The rest of the file as chunks, starting with the bytes peek() has read."""
        if self._pending:
            yield bytes(self._pending)
            self._pending.clear()
        while (chunk := self._next_chunk()) is not None:
            yield chunk

    @property
    def can_reopen(self) -> bool:
        return self._reopen is not None

    def read(self, size: int) -> bytes:
        # PyAV copies the answer into a buffer of `size` bytes: never answer more.
        self._fill(size)
        out = bytes(self._pending[:size])
        del self._pending[:size]
        self._position += len(out)
        return out

    def seekable(self) -> bool:
        return self.random_access

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = 0) -> int:
        """The new position, or -1 where it cannot go (the end: the size is unknown)."""
        if whence == io.SEEK_CUR:
            offset += self._position
        elif whence != io.SEEK_SET:
            return -1
        ahead = offset - self._position
        if ahead >= 0 and (self._reopen is None or ahead <= READ_THROUGH):
            while ahead > 0:
                self._fill(min(ahead, 1 << 16))
                skipped = min(ahead, len(self._pending))
                if not skipped:
                    break  # the file ended: reads from here on find nothing
                del self._pending[:skipped]
                ahead -= skipped
            self._position = offset
            return offset
        if self._reopen is None or offset < 0:
            return -1
        self._close_opened()
        self._pending.clear()
        self._position = offset
        try:
            self._opened = self._reopen(offset)
            self._source = iter(self._opened)
        except Exception as error:
            self.failure = error
            self._source = iter(())
        return offset

    def raise_failure(self) -> None:
        if self.failure is not None:
            raise self.failure

    def close(self) -> None:
        self._close_opened()

    def _fill(self, size: int) -> bool:
        """Read chunks until `size` bytes are pending; False if the file ended first."""
        while len(self._pending) < size:
            chunk = self._next_chunk()
            if chunk is None:
                return False
            self._pending += chunk
        return True

    def _next_chunk(self) -> bytes | None:
        if self.too_long or self.failure is not None:
            return None
        try:
            chunk = next(self._source, None)
            while chunk is not None and not chunk:
                chunk = next(self._source, None)
        except Exception as error:
            # PyAV would raise it at some later call; raised by raise_failure() instead.
            self.failure = error
            return None
        if chunk is None:
            return None
        self._taken += len(chunk)
        if self._taken > MAX_BYTES + MAX_HEADER:
            self.too_long = True
            return None
        return chunk

    def _close_opened(self) -> None:
        close = getattr(self._opened, "close", None)
        if close is not None:
            close()
        self._opened = None


def _decoded_peaks(reader: MediaReader, container_format: str, size: int | None, buckets: int):
    """Peaks of the file the reader streams, decoded with PyAV. `size` (bytes), when known,
    estimates the duration of a file that does not state it (an MP3 without a header)."""
    name = CONTAINER_NAMES[container_format]
    try:
        container = av.open(reader, mode="r", format=container_format)
    except av.FFmpegError as error:
        why = error.strerror or type(error).__name__
        raise NoWaveform(f"The {name} file could not be read ({why}).") from None
    slices = None
    with container:
        if not container.streams.audio:
            raise NoWaveform(f"The {name} file has no audio in it.")
        stream = container.streams.audio[0]
        if stream.codec_context.channels not in (1, 2):
            raise NoWaveform("Only mono and stereo recordings get a waveform.")
        known = None
        if stream.duration and stream.time_base:
            known = float(stream.duration * stream.time_base)
        elif container.duration:
            known = container.duration / av.time_base
        if known is not None and known > MAX_SECONDS:
            raise NoWaveform(TOO_LONG)
        bit_rate = stream.codec_context.bit_rate or container.bit_rate
        expected = known or (size * 8 / bit_rate if size and bit_rate else None)
        try:
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.FFmpegError:
                    continue  # a damaged packet: skipped, as players do
                for frame in frames:
                    if slices is None:
                        channels = stream.codec_context.channels
                        slices = _SliceMaxima(channels, frame.rate, expected, stream.time_base)
                    slices.add(frame)
                if slices is not None and slices.samples > MAX_SECONDS * slices.rate:
                    raise NoWaveform(TOO_LONG)
        except av.FFmpegError:
            pass  # the file breaks off or turns to garbage: draw what was decoded
    if reader.too_long:
        raise NoWaveform(TOO_LONG)
    if slices is None or not slices.samples:
        raise NoWaveform("The recording has no audio samples.")
    return slices.peaks(buckets)


class _SliceMaxima:
    """The loudest sample of every `length`-sample slice of decoded audio, per channel.

    The total length may be unknown until the end, so slices start short (10 ms, or half of
    what the expected duration suggests: an estimate may be high) and, each time SLICES of
    them have piled up, neighbours merge and the length doubles: bounded memory for any
    duration. Decoded frames are short (576 samples of MP3 at 8 kHz), so their samples are
    gathered into blocks of BLOCK before the per-slice work, which then runs a few times per
    block rather than per frame."""

    def __init__(self, channels: int, rate: int, seconds: float | None, time_base):
        self.channels = channels
        self.rate = rate
        expected = int(seconds * rate) if seconds else 0
        self.length = max(1, expected // (2 * SLICES) if expected else rate // 100)
        self.closed = [array("f") for _ in range(channels)]
        self.loudest = [0.0] * channels  # of the slice being filled
        self.filled = 0  # samples in the slice being filled
        self.samples = 0
        # A frame's duration in samples: duration * ticks[0] // ticks[1].
        ticks = Fraction(time_base or 0) * rate
        self.ticks = ticks.numerator, ticks.denominator
        self.block: list[bytearray] = []  # each plane's bytes of the frames not yet looked at
        self.block_format: tuple[str, int] | None = None  # (sample format, channels) of those
        self.block_samples = 0

    def add(self, frame: av.AudioFrame) -> None:
        count = frame.samples
        if frame.duration and self.ticks[0]:
            # The last frame of an AAC file is padded to full length; its duration says how
            # much of it is the recording.
            count = min(count, frame.duration * self.ticks[0] // self.ticks[1])
        sample_format = frame.format
        layout = sample_format.name, frame.layout.nb_channels
        if layout != self.block_format:
            self._look_at_block()
            self.block_format = layout
        width = sample_format.bytes  # of a sample, in a plane of each channel's samples
        planes = frame.planes
        if len(planes) == 1:  # one plane of interleaved channels (or mono)
            width *= layout[1]
        if not self.block:
            self.block = [bytearray() for _ in planes]
        for plane, gathered in zip(planes, self.block, strict=True):
            gathered += memoryview(plane)[: count * width]
        self.block_samples += count
        if self.block_samples >= BLOCK:
            self._look_at_block()

    def _look_at_block(self) -> None:
        if not self.block_samples or self.block_format is None:
            return
        name, frame_channels = self.block_format
        typecode, silence, full_scale = SAMPLE_FORMATS[av.AudioFormat(name).packed.name]
        channels = min(self.channels, frame_channels)
        planes = []
        for gathered in self.block:
            samples = array(typecode)
            samples.frombytes(gathered)
            planes.append(samples)
        # (samples, first index, step) of each channel
        if len(planes) == 1:
            lanes = [(planes[0], channel, frame_channels) for channel in range(channels)]
        else:
            lanes = [(plane, 0, 1) for plane in planes[:channels]]
        count, start = self.block_samples, 0
        self.block, self.block_samples = [], 0
        while start < count:
            take = min(count - start, self.length - self.filled)
            # A peak looks at about FRAMES_PER_PEAK samples, as in wav_peaks: evenly spaced, at
            # another phase of the spacing in each slice, so a steady tone cannot hide.
            spacing = max(1, self.length * SLICES_PER_PEAK // FRAMES_PER_PEAK)
            first = start + (len(self.closed[0]) - self.samples) % spacing
            for channel, (lane, offset, step) in enumerate(lanes):
                part = lane[offset + first * step : offset + (start + take) * step : spacing * step]
                if part:
                    loud = max(max(part) - silence, silence - min(part)) / full_scale
                    if loud > self.loudest[channel]:
                        self.loudest[channel] = loud
            start += take
            self.filled += take
            self.samples += take
            if self.filled == self.length:
                self._close_slice()

    def _close_slice(self) -> None:
        for channel in range(self.channels):
            self.closed[channel].append(self.loudest[channel])
            self.loudest[channel] = 0.0
        self.filled = 0
        if len(self.closed[0]) == SLICES:
            self.closed = [array("f", map(max, c[0::2], c[1::2])) for c in self.closed]
            self.length *= 2

    def peaks(self, buckets: int) -> Peaks:
        """Folded into `buckets` peaks (one per sample for a shorter file), as wav_peaks. A
        peak is the loudest of the slices whose middle falls in it (so a slice counts once,
        and an edge is off by half a slice at most); where slices are longer than peaks, of
        the slice its own middle falls in."""
        self._look_at_block()
        total, length = self.samples, self.length
        per_bucket = -(-total // buckets)
        out = []
        for channel in range(self.channels):
            slices = self.closed[channel]
            if self.filled:
                slices = slices + array("f", [self.loudest[channel]])
            lane = []
            for start in range(0, total, per_bucket):
                end = min(start + per_bucket, total)
                # Slices j with j * length + length / 2 in [start, end).
                first = -(-(2 * start - length) // (2 * length))
                beyond = -(-(2 * end - length) // (2 * length))
                if first < beyond:
                    loud = max(slices[first:beyond])
                else:
                    loud = slices[min((start + end) // 2 // length, len(slices) - 1)]
                lane.append(round(min(loud, 1.0), 3))
            out.append(lane)
        return Peaks(self.channels, self.rate, round(total / self.rate, 3), out)


def peaks_for(credential, recording_id: str) -> dict:
    """The recording's peaks as JSON-ready data, computed from its streamed media once and
    cached for a day under the credential's scope (a delete forgets them);
    `{"peaks": None, "reason": ...}` where there is none to draw.

    Only an answer from the whole file is cached: peaks of a stream that broke off or
    ended short of its Content-Length, and a computation stopped at PEAKS_TIMEOUT, are
    answered as they are and computed afresh next time."""
    try:
        return credential_cache.remember(
            credential,
            ("peaks", recording_id),
            lambda: _compute_peaks(credential.client(), recording_id),
            credential_cache.PEAKS_SECONDS,
        )
    except _NotToKeep as answer:
        return answer.answer


class _NotToKeep(Exception):
    """An answer for this request only: raised through `remember`, which then stores
    nothing."""

    def __init__(self, answer: dict):
        super().__init__()
        self.answer = answer


class PastDeadline(Exception):
    """Reading the media for the peaks took longer than PEAKS_TIMEOUT."""


def _compute_peaks(client, recording_id: str) -> dict:
    seconds = settings.PEAKS_TIMEOUT
    recording = client.get_recording(recording_id)
    try:
        with streamed(client, recording, seconds) as media:
            answer = media_peaks(
                media.chunks, media.content_type, size=media.size, reopen=media.reopen
            ).as_json()
    except NoWaveform as reason:
        answer = {"peaks": None, "reason": str(reason)}
    except PastDeadline:
        # The client may well have left; the work stops, and the next request tries again.
        raise _NotToKeep(
            {
                "peaks": None,
                "reason": "The recording took too long to read to draw a waveform for "
                f"(more than {seconds:g} seconds). Try again later.",
            }
        ) from None
    if media.ended_early:
        raise _NotToKeep(answer)
    return answer


@dataclass
class Streamed:
    """A recording's media as streamed(): its chunks, what its headers say, a way to read
    on from any byte, and every stream opened for it."""

    chunks: Iterator[bytes]
    content_type: str
    size: int | None
    reopen: Callable[[int], Iterator[bytes]]
    opened: list

    @property
    def ended_early(self) -> bool:
        """Whether a stream broke off or ended short of its Content-Length."""
        return any(stream.ended_early for stream in self.opened)


@contextmanager
def streamed(client, recording, seconds: float) -> Iterator[Streamed]:
    """The recording's media to be read within `seconds` (then PastDeadline), from the
    start and, through Range requests, from any byte; what was opened is closed on
    leaving (a Range request's stream by its own reader)."""
    deadline = time.monotonic() + seconds
    media = client.open_media(recording)
    opened = [media]
    try:
        yield Streamed(
            _until(deadline, media),
            media.headers.get("Content-Type", ""),
            _content_length(media.headers),
            lambda offset: _until(deadline, _media_from(client, recording, offset, opened)),
            opened,
        )
    finally:
        media.close()


def _until(deadline: float, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks, until the deadline passes: then PastDeadline (which the reader keeps
    and media_peaks raises once it stops)."""
    source = iter(chunks)
    try:
        while True:
            if time.monotonic() > deadline:
                raise PastDeadline()
            chunk = next(source, None)
            if chunk is None:
                return
            yield chunk
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()


def _content_length(headers: dict) -> int | None:
    value = headers.get("Content-Length", "")
    return int(value) if value.isascii() and value.isdigit() else None


def _media_from(client, recording, offset: int, opened: list) -> Iterator[bytes]:
    """The recording's media from byte `offset` on, through a Range request (opened when
    first read; added to `opened`). A server that ignores Range answers 200 with the whole
    file: its first `offset` bytes are skipped here."""
    media = client.open_media(recording, f"bytes={offset}-")
    opened.append(media)
    try:
        if media.status == 206:
            yield from media
        elif media.status == 200:
            for chunk in media:
                if offset >= len(chunk):
                    offset -= len(chunk)
                    continue
                yield chunk[offset:]
                offset = 0
    finally:
        media.close()
