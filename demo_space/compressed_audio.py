"""MP3 and MP4 (AAC) versions of the synthetic call audio, any length, streamed in byte ranges.

Why a loop of encoded packets: encoding hours of audio per request would cost seconds and
megabytes, and `byte_size` must be known before anyone asks for the file. So a short clip of
the same two-party speech as the WAV files is encoded once per channel count (lazily: PyAV is
imported on first use, so the space starts without it for WAV), and every file is that clip's
packets played in a loop from a per-recording starting packet.

- MP3: 8 kHz MPEG-2.5 Layer III at a constant bit rate with the bit reservoir off, so every
  frame has the same size and decodes on its own: a file is just frames back to back, and its
  size is arithmetic.
- MP4: the AAC packets in an ISO BMFF file built here (ftyp, moov with one audio track, mdat),
  `moov` first so a player can start before the end arrives.

The clip is encoded from two copies of its PCM plus a margin, and the packets of the second
copy are kept: the encoder's delay and look-ahead then see the loop's own audio on both sides,
so the loop has no seam.
"""

import math
import struct
import sys
import threading
import zlib
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal

from .audio import HEADER_SIZE, RATE, iter_wav, wav_size

MP3_FRAME_SAMPLES = 576  # MPEG-2/2.5 Layer III
MP3_BIT_RATE = {False: 16_000, True: 32_000}
MP3_CLIP_SECONDS = 36  # 500 frames: a whole number of frames and of one-second blocks
AAC_FRAME_SAMPLES = 1024
AAC_BIT_RATE = {False: 16_000, True: 32_000}
AAC_CLIP_SECONDS = 32  # 250 packets, as above
MARGIN_SECONDS = 3  # audio after the kept copy, for the encoder's look-ahead
MOVIE_TIMESCALE = 1000

CONTENT_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "mp4": "audio/mp4"}


def mp3_frame_bytes(stereo: bool) -> int:
    # MPEG-2/2.5 Layer III: 72 * bit rate / sample rate, a whole number here, so no padding.
    return 72 * MP3_BIT_RATE[stereo] // RATE


def mp3_frames(duration: int) -> int:
    return math.ceil(max(0, duration) * RATE / MP3_FRAME_SAMPLES)


def mp3_size(duration: int, stereo: bool) -> int:
    """Exact size in bytes of a recording's MP3 file: known without encoding anything."""
    return mp3_frames(duration) * mp3_frame_bytes(stereo)


def aac_packets(duration: int) -> int:
    return math.ceil(max(0, duration) * RATE / AAC_FRAME_SAMPLES)


# ---- the encoded clips --------------------------------------------------------------------


@dataclass(frozen=True)
class _Clip:
    """Encoded packets back to back in `blob`; `offsets[i]` is where packet i starts, and
    `offsets[-1] == len(blob)`."""

    blob: bytes
    offsets: tuple[int, ...]
    extradata: bytes

    @property
    def count(self) -> int:
        return len(self.offsets) - 1

    def sizes(self, first: int, count: int) -> array:
        """Sizes of `count` packets played in a loop from packet `first`."""
        one = array("I", (b - a for a, b in zip(self.offsets, self.offsets[1:], strict=False)))
        rotated = one[first:] + one[:first]
        whole, rest = divmod(count, self.count)
        return rotated * whole + rotated[:rest]

    def span(self, first: int, count: int) -> int:
        """Bytes of `count` packets played in a loop from packet `first`."""
        whole, rest = divmod(count, self.count)
        end = first + rest
        if end <= self.count:
            part = self.offsets[end] - self.offsets[first]
        else:
            part = len(self.blob) - self.offsets[first] + self.offsets[end - self.count]
        return whole * len(self.blob) + part

    def chunks(self, first: int, start: int, stop: int, chunk: int):
        """Bytes [start, stop) of the looped stream that begins with packet `first`."""
        blob, total = memoryview(self.blob), len(self.blob)
        pos = start
        while pos < stop:
            inner = (self.offsets[first] + pos) % total
            take = min(total - inner, stop - pos, chunk)
            yield bytes(blob[inner : inner + take])
            pos += take


_encode_lock = threading.Lock()
# The encoders the clips are made with (PyAV's names): MP3, and AAC for MP4.
_Codec = Literal["libmp3lame", "aac"]


@cache
def _clip_unlocked(codec: _Codec, stereo: bool) -> _Clip:
    import av  # here, not at the top: only MP3 and MP4 need PyAV

    layout = "stereo" if stereo else "mono"
    mp3 = codec == "libmp3lame"
    seconds = MP3_CLIP_SECONDS if mp3 else AAC_CLIP_SECONDS
    context = av.CodecContext.create(codec, "w")
    context.sample_rate = RATE
    context.layout = layout
    context.format = "s16p" if mp3 else "fltp"
    context.bit_rate = (MP3_BIT_RATE if mp3 else AAC_BIT_RATE)[stereo]
    if mp3:
        context.options = {"reservoir": "0"}  # every frame decodes on its own
    context.open()

    # SignalWire-like audio from the WAV generator, without its header.
    clip = b"".join(iter_wav(seconds, stereo, "compressed-clip"))[HEADER_SIZE:]
    frame_bytes = 2 * (2 if stereo else 1)
    margin = clip[: MARGIN_SECONDS * RATE * frame_bytes]
    resampler = av.AudioResampler(
        format=context.format.name, layout=layout, rate=RATE, frame_size=context.frame_size
    )
    packets = []
    fed = 0
    for pcm in (clip, clip, margin):
        frame = av.AudioFrame(format="s16", layout=layout, samples=len(pcm) // frame_bytes)
        frame.planes[0].update(pcm)
        frame.sample_rate, frame.pts = RATE, fed
        fed += frame.samples
        for converted in resampler.resample(frame):
            packets += context.encode(converted)
    for converted in resampler.resample(None):
        packets += context.encode(converted)
    packets += context.encode(None)

    period = seconds * RATE
    kept = [bytes(p) for p in packets if p.pts is not None and period <= p.pts < 2 * period]
    per_packet = MP3_FRAME_SAMPLES if mp3 else AAC_FRAME_SAMPLES
    if len(kept) != period // per_packet:
        raise RuntimeError(f"{codec}: {len(kept)} packets for one loop, not {period // per_packet}")
    if mp3 and {len(p) for p in kept} != {mp3_frame_bytes(stereo)}:
        raise RuntimeError("libmp3lame did not write constant-size frames")
    offsets = [0]
    for packet in kept:
        offsets.append(offsets[-1] + len(packet))
    return _Clip(b"".join(kept), tuple(offsets), bytes(context.extradata or b""))


def _clip(codec: _Codec, stereo: bool) -> _Clip:
    with _encode_lock:  # one encode per clip, even when the first requests come together
        return _clip_unlocked(codec, stereo)


def _first_packet(seed: str, count: int) -> int:
    """Where in the loop a recording starts: by its id, so recordings do not all sound alike."""
    return zlib.crc32(seed.encode()) % count


# ---- files --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaFile:
    """One recording's file in one format: its size, and any byte range of it on demand."""

    content_type: str
    size: int
    _chunks: Callable[[int, int, int], Iterator[bytes]]  # (start, stop, chunk)

    def iter_range(self, start: int = 0, end: int | None = None, chunk: int = 65536):
        """Yield the bytes [start, end] (inclusive, like HTTP ranges); `end` past the file is
        clamped, an empty range yields nothing."""
        stop = self.size if end is None else min(end + 1, self.size)
        if start < stop:
            yield from self._chunks(start, stop, chunk)


def wav_file(duration: int, stereo: bool, seed: str) -> MediaFile:
    size = wav_size(duration, stereo)
    return MediaFile(
        CONTENT_TYPES["wav"],
        size,
        lambda start, stop, chunk: iter_wav(duration, stereo, seed, start, stop - 1, chunk),
    )


def mp3_file(duration: int, stereo: bool, seed: str) -> MediaFile:
    frames = mp3_frames(duration)
    frame_bytes = mp3_frame_bytes(stereo)

    def chunks(start, stop, chunk):
        clip = _clip("libmp3lame", stereo)  # constant-size frames: checked when encoded
        first = _first_packet(seed, clip.count)
        yield from clip.chunks(first, start, stop, chunk)

    return MediaFile(CONTENT_TYPES["mp3"], frames * frame_bytes, chunks)


def mp4_size(duration: int, stereo: bool, seed: str) -> int:
    """Exact size in bytes of a recording's MP4 file (encodes the AAC clip on first use)."""
    clip = _clip("aac", stereo)
    count = aac_packets(duration)
    first = _first_packet(seed, clip.count)
    return _mp4_header_size(count, stereo) + clip.span(first, count)


def mp4_file(duration: int, stereo: bool, seed: str) -> MediaFile:
    clip = _clip("aac", stereo)
    count = aac_packets(duration)
    first = _first_packet(seed, clip.count)
    header_size = _mp4_header_size(count, stereo)

    def chunks(start, stop, chunk):
        if start < header_size:
            header = _mp4_header(max(0, duration), stereo, first)
            yield header[start : min(stop, header_size)]
            start = header_size
        if start < stop:
            yield from clip.chunks(first, start - header_size, stop - header_size, chunk)

    return MediaFile(CONTENT_TYPES["mp4"], header_size + clip.span(first, count), chunks)


def media_file(media_format: str, duration, stereo, seed: str) -> MediaFile:
    """The file a recording is served as. An off-schema duration serves an empty file."""
    if not isinstance(duration, int) or isinstance(duration, bool) or duration < 0:
        duration = 0
    stereo = stereo is True
    maker = {"wav": wav_file, "mp3": mp3_file, "mp4": mp4_file}[media_format]
    return maker(duration, stereo, seed)


# ---- the MP4 container ------------------------------------------------------------------------


def _box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _full_box(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *parts)


def _descriptor(tag: int, body: bytes) -> bytes:
    # MPEG-4 descriptors: a tag, then the length in 7-bit groups (four bytes, as encoders write).
    n = len(body)
    size = bytes([0x80 | (n >> 21) & 0x7F, 0x80 | (n >> 14) & 0x7F, 0x80 | (n >> 7) & 0x7F])
    return bytes([tag]) + size + bytes([n & 0x7F]) + body


_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
_FTYP = _box(b"ftyp", b"M4A ", struct.pack(">I", 0), b"M4A ", b"mp42", b"isom")


def _mp4_header_size(count: int, stereo: bool) -> int:
    # Everything before the AAC payload; only the sample size table grows with the length.
    empty = _mp4_boxes(0, stereo, 0, _clip("aac", stereo).extradata, array("I"))
    return len(empty) + 4 * count


@lru_cache(maxsize=8)
def _mp4_header(duration: int, stereo: bool, first: int) -> bytes:
    clip = _clip("aac", stereo)
    sizes = clip.sizes(first, aac_packets(duration))
    return _mp4_boxes(duration, stereo, len(sizes), clip.extradata, sizes)


def _mp4_boxes(duration: int, stereo: bool, count: int, config: bytes, sizes: array) -> bytes:
    """ftyp + moov + the mdat box header, for `count` AAC packets of the given sizes."""
    channels = 2 if stereo else 1
    movie_duration = duration * MOVIE_TIMESCALE
    media_duration = count * AAC_FRAME_SAMPLES
    bit_rate = AAC_BIT_RATE[stereo]
    esds = _full_box(
        b"esds",
        0,
        0,
        _descriptor(
            0x03,  # ES_Descriptor
            struct.pack(">HB", 1, 0)
            + _descriptor(
                0x04,  # DecoderConfigDescriptor: MPEG-4 audio, audio stream
                struct.pack(">BB", 0x40, 0x15)
                + b"\0\0\0"
                + struct.pack(">II", bit_rate, bit_rate)
                # AudioSpecificConfig
                + _descriptor(0x05, config),
            )
            + _descriptor(0x06, b"\x02"),  # SLConfigDescriptor
        ),
    )
    mp4a = _box(
        b"mp4a",
        bytes(6),
        struct.pack(">H", 1),  # data reference index
        bytes(8),
        struct.pack(">HHHHI", channels, 16, 0, 0, RATE << 16),
        esds,
    )
    table = array("I", sizes)
    if sys.byteorder == "little":
        table.byteswap()
    stbl = _box(
        b"stbl",
        _full_box(b"stsd", 0, 0, struct.pack(">I", 1), mp4a),
        _full_box(b"stts", 0, 0, struct.pack(">III", 1, count, AAC_FRAME_SAMPLES)),
        _full_box(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, count, 1)),  # one chunk holds all
        _full_box(b"stsz", 0, 0, struct.pack(">II", 0, count), table.tobytes()),
        _full_box(b"stco", 0, 0, struct.pack(">II", 1, 0)),  # offset patched below
    )
    trak = _box(
        b"trak",
        _full_box(
            b"tkhd",
            0,
            3,  # enabled, in movie
            struct.pack(">IIIII", 0, 0, 1, 0, movie_duration),
            bytes(8),
            struct.pack(">hhHH", 0, 1, 0x0100, 0),
            _MATRIX,
            struct.pack(">II", 0, 0),
        ),
        # An edit list: the file plays for exactly `duration`, not the last packet's end.
        _box(
            b"edts",
            _full_box(b"elst", 0, 0, struct.pack(">IIihh", 1, movie_duration, 0, 1, 0)),
        ),
        _box(
            b"mdia",
            _full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, RATE, media_duration, 0x55C4, 0)),
            _full_box(b"hdlr", 0, 0, bytes(4), b"soun", bytes(12), b"SoundHandler\0"),
            _box(
                b"minf",
                _full_box(b"smhd", 0, 0, bytes(4)),
                _box(
                    b"dinf",
                    _full_box(b"dref", 0, 0, struct.pack(">I", 1), _full_box(b"url ", 0, 1)),
                ),
                stbl,
            ),
        ),
    )
    moov = _box(
        b"moov",
        _full_box(
            b"mvhd",
            0,
            0,
            struct.pack(">IIII", 0, 0, MOVIE_TIMESCALE, movie_duration),
            struct.pack(">IH", 0x10000, 0x0100),
            bytes(10),
            _MATRIX,
            bytes(24),
            struct.pack(">I", 2),
        ),
        trak,
    )
    payload = sum(sizes)
    head = _FTYP + moov
    # stco is moov's last 4 bytes: the payload starts right after the mdat box header.
    head = head[:-4] + struct.pack(">I", len(head) + 8)
    return head + struct.pack(">I4s", 8 + payload, b"mdat")
