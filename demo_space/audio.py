"""Synthetic call audio: 8 kHz, 16-bit PCM WAV files of any length, streamed in byte ranges.

Why precomputed blocks: a recording can last hours (a 40000 s stereo file is ~640 MB), and a
player asks for arbitrary byte ranges. So a handful of one-second PCM blocks (silence and a few
"syllable" variants per party) are built once, and every file is a per-recording sequence of
those blocks. Any byte range is then a few slices of prebuilt bytes: fast and memory-flat, with
no per-sample Python loop at request time.
"""

import math
import random
import struct
import sys
from array import array
from functools import cache, lru_cache

RATE = 8000
SAMPLE_WIDTH = 2
HEADER_SIZE = 44

VARIANTS = 3  # speech blocks per party
PITCHES = (180.0, 260.0)  # party A (left channel), party B (right channel)
SILENCE = 0  # block index; parties' blocks follow: 1..VARIANTS for A, then B


def channels(stereo: bool) -> int:
    return 2 if stereo else 1


def wav_size(duration: int, stereo: bool) -> int:
    """Exact size in bytes of the WAV file for a recording (what `byte_size` reports)."""
    return HEADER_SIZE + duration * RATE * channels(stereo) * SAMPLE_WIDTH


def wav_header(duration: int, stereo: bool) -> bytes:
    """The canonical 44-byte RIFF/WAVE header for 16-bit PCM."""
    ch = channels(stereo)
    data_size = duration * RATE * ch * SAMPLE_WIDTH
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + data_size,
        b"WAVE",
        b"fmt ",
        16,
        1,  # PCM
        ch,
        RATE,
        RATE * ch * SAMPLE_WIDTH,
        ch * SAMPLE_WIDTH,
        8 * SAMPLE_WIDTH,
        b"data",
        data_size,
    )


def _noise(seed: str) -> list[int]:
    """A very low noise floor, so pauses look like a real line rather than digital zero."""
    rng = random.Random(seed)
    return [rng.randint(-12, 12) for _ in range(RATE)]


def _speech(pitch: float, variant: int) -> list[int]:
    """One second of a voice: 3-5 syllables (Hann-shaped bursts of a gliding tone + harmonics).

    Every syllable starts and ends at zero amplitude, so blocks join without clicks. The peak is
    about 0.6 of full scale: never clipping.
    """
    rng = random.Random(f"speech:{pitch}:{variant}")
    envelope = [0.0] * RATE
    t = rng.uniform(0.03, 0.12)
    while t < 0.85:
        length = rng.uniform(0.12, 0.25)
        start, n = int(t * RATE), int(min(length, 0.97 - t) * RATE)
        loudness = rng.uniform(0.7, 1.0)
        for i in range(n):
            envelope[start + i] = loudness * 0.5 * (1 - math.cos(2 * math.pi * i / n))
        t += length + rng.uniform(0.03, 0.12)
    glide = rng.uniform(-0.15, 0.15)
    noise = _noise(f"floor:{pitch}:{variant}")
    samples, phase = [], 0.0
    for i in range(RATE):
        phase += 2 * math.pi * pitch * (1 + glide * (i / RATE - 0.5)) / RATE
        wave = 0.45 * math.sin(phase) + 0.2 * math.sin(2 * phase) + 0.08 * math.sin(3 * phase)
        samples.append(int(envelope[i] * wave * 0.8 * 32767) + noise[i])
    return samples


def _pcm(samples: array) -> bytes:
    if sys.byteorder != "little":
        samples.byteswap()
    return samples.tobytes()


@cache
def _blocks(stereo: bool) -> tuple[bytes, ...]:
    """One-second PCM blocks: silence, then VARIANTS blocks of party A, then of party B.

    Stereo: party A speaks on the left channel, party B on the right, the other side silent.
    Mono: both parties share the one channel.
    """
    silence = _noise("floor:silence")
    voices = [_speech(pitch, v) for pitch in PITCHES for v in range(VARIANTS)]
    if not stereo:
        return tuple(_pcm(array("h", s)) for s in [silence, *voices])
    blocks = []
    for index, left in enumerate([silence, *voices]):
        right = silence
        if index > VARIANTS:  # party B: voice on the right, silence on the left
            left, right = silence, left
        frames = array("h", bytes(RATE * 2 * SAMPLE_WIDTH))
        frames[0::2] = array("h", left)
        frames[1::2] = array("h", right)
        blocks.append(_pcm(frames))
    return tuple(blocks)


@lru_cache(maxsize=4096)
def _pattern(seed: str) -> tuple[int, ...]:
    """Which block plays in each second: parties taking turns, with pauses; repeats after ~1 min.

    Seeded by the recording id, so a file is the same on every request and every range of it
    agrees with the whole.
    """
    rng = random.Random(f"turns:{seed}")
    speaker = rng.randrange(2)
    out: list[int] = []
    while len(out) < 60:
        for _ in range(rng.randint(2, 6)):
            out.append(1 + speaker * VARIANTS + rng.randrange(VARIANTS))
        if rng.random() < 0.6:
            out.extend([SILENCE] * rng.randint(1, 2))
        speaker = 1 - speaker
    return tuple(out)


def iter_wav(
    duration: int,
    stereo: bool,
    seed: str,
    start: int = 0,
    end: int | None = None,
    chunk: int = 65536,
):
    """Yield the bytes [start, end] (inclusive, like HTTP ranges) of a recording's WAV file.

    `end` past the file is clamped; an empty range yields nothing. Chunks are at most `chunk`
    bytes, built by joining slices of prebuilt blocks.
    """
    size = wav_size(duration, stereo)
    end = size - 1 if end is None else min(end, size - 1)
    if start > end:
        return
    if start < HEADER_SIZE:
        yield wav_header(duration, stereo)[start : end + 1]
        start = HEADER_SIZE
    blocks = [memoryview(b) for b in _blocks(stereo)]
    block_size = len(blocks[0])
    pattern = _pattern(seed)
    pos, stop = start - HEADER_SIZE, end + 1 - HEADER_SIZE
    parts, filled = [], 0
    while pos < stop:
        second, inner = divmod(pos, block_size)
        take = min(block_size - inner, stop - pos, chunk - filled)
        parts.append(blocks[pattern[second % len(pattern)]][inner : inner + take])
        pos += take
        filled += take
        if filled >= chunk:
            yield b"".join(parts)
            parts, filled = [], 0
    if parts:
        yield b"".join(parts)
