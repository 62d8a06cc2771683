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
from dataclasses import dataclass
from functools import cache, lru_cache

RATE = 8000
SAMPLE_WIDTH = 2
HEADER_SIZE = 44

VARIANTS = 3  # speech blocks per party
PITCHES = (180.0, 260.0)  # party A (left channel), party B (right channel)
SILENCE = 0  # block index; parties' blocks follow: 1..VARIANTS for A, then B, then both
BOTH = 1 + 2 * VARIANTS  # first of the VARIANTS blocks where both parties talk at once


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
    """One-second PCM blocks: silence, then VARIANTS blocks of party A, then of party B,
    then of both talking at once (one cutting in before the other has finished).

    Stereo: party A speaks on the left channel, party B on the right, the other side silent.
    Mono: both parties share the one channel (talking at once: the two voices mixed).
    """
    silence = _noise("floor:silence")
    voices = [_speech(pitch, v) for pitch in PITCHES for v in range(VARIANTS)]
    a_voices, b_voices = voices[:VARIANTS], voices[VARIANTS:]
    if not stereo:
        mixed = [
            [max(-32767, min(32767, x + y)) for x, y in zip(a, b, strict=True)]
            for a, b in zip(a_voices, b_voices, strict=True)
        ]
        return tuple(_pcm(array("h", s)) for s in [silence, *voices, *mixed])
    pairs = [(silence, silence)]
    pairs += [(voice, silence) for voice in a_voices]  # party A on the left
    pairs += [(silence, voice) for voice in b_voices]  # party B on the right
    pairs += list(zip(a_voices, b_voices, strict=True))  # both at once
    blocks = []
    for left, right in pairs:
        frames = array("h", bytes(RATE * 2 * SAMPLE_WIDTH))
        frames[0::2] = array("h", left)
        frames[1::2] = array("h", right)
        blocks.append(_pcm(frames))
    return tuple(blocks)


@lru_cache(maxsize=4096)
def _pattern(seed: str) -> tuple[int, ...]:
    """Which block plays in each second: parties taking turns, with pauses; repeats after ~1 min.

    As on a real call, the next speaker sometimes cuts in a second before the other has
    finished (a block of both talking), and now and then nobody speaks for a while (a
    hold while someone looks something up). Seeded by the recording id, so a file is the
    same on every request and every range of it agrees with the whole.
    """
    rng = random.Random(f"turns:{seed}")
    speaker = rng.randrange(2)
    out: list[int] = []
    while len(out) < 60:
        turn = [1 + speaker * VARIANTS + rng.randrange(VARIANTS) for _ in range(rng.randint(2, 6))]
        if out and out[-1] != SILENCE and rng.random() < 0.5:
            out[-1] = BOTH + rng.randrange(VARIANTS)  # cuts in over the last second
        out.extend(turn)
        pause = rng.random()
        if pause < 0.1:
            out.extend([SILENCE] * rng.randint(6, 12))  # on hold
        elif pause < 0.6:
            out.extend([SILENCE] * rng.randint(1, 2))
        speaker = 1 - speaker
    return tuple(out)


@dataclass(frozen=True)
class TalkSpans:
    """What a demo recording holds, second by second as it was made: each channel's
    speaking seconds (one channel for mono), the seconds both talk at once, and the
    longest run of seconds with nobody talking. A voice-activity detector should find
    about these (its frames and hangover blur each edge by a fraction of a second)."""

    speaking: tuple[int, ...]
    overlap: int
    longest_silence: int


def talk_spans(duration: int, stereo: bool, seed: str) -> TalkSpans:
    pattern = _pattern(seed)
    blocks = [pattern[second % len(pattern)] for second in range(duration)]
    left = [SILENCE < b <= VARIANTS or b >= BOTH for b in blocks]
    right = [b > VARIANTS for b in blocks]
    anyone = [a or b for a, b in zip(left, right, strict=True)]
    longest = run = 0
    for talking in anyone:
        run = 0 if talking else run + 1
        longest = max(longest, run)
    both = sum(a and b for a, b in zip(left, right, strict=True))
    if not stereo:
        return TalkSpans((sum(anyone),), 0, longest)
    return TalkSpans((sum(left), sum(right)), both, longest)


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
