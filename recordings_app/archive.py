"""The bulk download: one ZIP of the audio of every recording a filter finds, and a
`manifest.csv` saying what became of each, streamed as it is built.

What is in it:
- each recording's audio, named as a single download names it (filenames.py), stored
  as it came (not deflated: WAV, MP3 and MP4 audio barely shrinks, see bench/README.md,
  and deflating would cost CPU on every byte);
- `manifest.csv`, last: the recordings CSV's columns for every recording the filter
  found, in the list's order, then `file` (its name in the archive), `bytes`, `sha256`
  (of the bytes in the archive), `outcome` and `reason`. Outcomes: `included`; `no audio`
  (failed, nothing recorded, empty: nothing is fetched); `failed` (SignalWire would not
  give the file: 404, refused, ...; the archive goes on); `partial` (the stream broke off
  midway); `not attempted` (after the archive stopped). Its last line always sums up:
  `archive complete`, or `archive stopped` with why.

When SignalWire itself fails (unreachable, too slow, 5xx, rate limiting, credentials
rejected) or a file's stream breaks off midway, the archive stops there: the files
before it are kept, the rest are listed as not attempted, and the ZIP is still whole.
A file cut midway cannot be taken back (its first bytes are already sent), so it stays
in the archive, its data descriptor matching the bytes it holds, marked `partial` in the
manifest (with what it holds and what was promised) and in its ZIP entry's comment; the
archive's comment says it is incomplete.

Memory stays flat whatever the size: the stdlib `zipfile` writes to a sink that cannot
seek, so each entry is followed by a data descriptor (ZIP64 where a file may pass 4 GB,
and for offsets past 4 GB), and what it wrote is handed on after each chunk of audio (up
to 1 MiB). The recordings are read from the index in batches by primary key (the keys,
8 bytes each, are taken when the download starts, so the set cannot change under it),
and the manifest is spooled: in memory up to MANIFEST_IN_MEMORY, then in a temporary
file (never the archive itself).

Under ASGI the archive is built in the request's own thread while it is sent from the
event loop (streaming.py). The database is needed only briefly (a batch of rows, an
audit row per file), and each time the connection is given back at once: a download
that lasts an hour does not hold one for an hour.
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import tzinfo
from typing import IO

from django.db import DatabaseError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from recordings_app import audit, exports, filenames, streaming
from recordings_app.errors import explain
from recordings_app.models import Credential, IndexedRecording
from recordings_app.signalwire import (
    NOT_ANSWERING,
    CredentialsRejected,
    RateLimited,
    Recording,
    SignalWireError,
    SpaceNotFound,
    UpstreamFailed,
)
from recordings_app.signalwire.media import MEDIA_CHUNK

MANIFEST_NAME = "manifest.csv"
MANIFEST_IN_MEMORY = 1024 * 1024
BATCH = 200  # index rows read at a time
# Failures of SignalWire as a whole, not of one recording: every next file would fail
# the same way (each after its retries), so the archive stops. Not ScopeMissing: a 403
# for one file's media is that file's refusal, and the archive goes on.
STOPS_THE_ARCHIVE = (*NOT_ANSWERING, CredentialsRejected, SpaceNotFound, RateLimited)
# zipfile's own test for when an entry needs ZIP64 (sizes over 4 GB; it allows 5% for
# compression, which stored entries do not need but do no harm).
ZIP64_OVER = zipfile.ZIP64_LIMIT / 1.05


class Outcome:
    INCLUDED = "included"
    NO_AUDIO = "no audio"
    FAILED = "failed"
    PARTIAL = "partial"
    NOT_ATTEMPTED = "not attempted"
    COMPLETE = "archive complete"
    STOPPED = "archive stopped"


@dataclass
class _Tally:
    included: int = 0
    without_audio: int = 0
    failed: int = 0
    not_attempted: int = 0
    stopped: str = ""  # why the archive stopped, once it has


class _Sink:
    """Where zipfile writes. It has no tell() or seek(), so zipfile writes data
    descriptors; the archive hands on what was written after each step."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        # zipfile hands on the audio chunk it was given: kept as it is, not copied.
        self._parts.append(data if isinstance(data, bytes) else bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        """What was written since the last call: a chunk of audio passes as it is."""
        parts, self._parts = self._parts, []
        return parts[0] if len(parts) == 1 else b"".join(parts)


def selected_keys(rows: QuerySet[IndexedRecording]) -> array:
    """The primary keys of the recordings to put in the archive, in the list's order:
    taken once, when the download starts."""
    return array("q", rows.values_list("key", flat=True).iterator(chunk_size=5000))


class RecordingsArchive:
    """One bulk download. `chunks()` is the ZIP, built as it is read."""

    def __init__(
        self,
        request: HttpRequest,
        credential: Credential,
        keys: array,
        zone: tzinfo,
    ) -> None:
        self._request = request
        self._credential = credential
        self._client = credential.client()
        self._keys = keys
        self._zone = zone
        self._sink = _Sink()
        self._tally = _Tally()
        if audit.is_same_site(request):
            self._action, self._detail = audit.Action.DOWNLOAD, ""
        else:
            self._action = audit.Action.DOWNLOAD_CROSS_SITE
            self._detail = f"Sec-Fetch-Site: {request.headers['Sec-Fetch-Site']}; "
        self._detail += f"in a ZIP of {len(keys)} recording{'s' if len(keys) != 1 else ''}"

    def chunks(self) -> Iterator[bytes]:
        archive = zipfile.ZipFile(self._sink, "w", zipfile.ZIP_STORED, allowZip64=True)
        with tempfile.SpooledTemporaryFile(max_size=MANIFEST_IN_MEMORY) as manifest:
            manifest.write(exports.csv_line(exports.MANIFEST_COLUMNS).encode())
            for row in self._rows():
                if self._tally.stopped:
                    self._tally.not_attempted += 1
                    self._note(manifest, row, Outcome.NOT_ATTEMPTED, reason="The archive stopped.")
                else:
                    yield from self._add(archive, manifest, row)
            self._note_the_end(manifest)
            if self._tally.stopped:
                archive.comment = b"INCOMPLETE: see the last line of manifest.csv"
            yield from self._add_manifest(archive, manifest)
        archive.close()
        yield from self._written()

    def _written(self) -> Iterator[bytes]:
        """What zipfile wrote since the last time, if anything: never an empty chunk, which
        a WSGI server may take for the end of the answer."""
        if data := self._sink.take():
            yield data

    # ---------------------------------------------------------------- the rows

    def _rows(self) -> Iterator[IndexedRecording]:
        """The selected rows in order, a batch at a time, the connection given back after
        each. A database that fails stops the archive; the rows not yet read are counted."""
        for start in range(0, len(self._keys), BATCH):
            batch = self._keys[start : start + BATCH]
            try:
                found = IndexedRecording.objects.in_bulk(batch.tolist())
            except DatabaseError:
                earlier = f"{self._tally.stopped} " if self._tally.stopped else ""
                self._tally.stopped = earlier + (
                    "The dashboard's database stopped answering, so the rest of the "
                    f"recordings ({len(self._keys) - start}) could not even be listed."
                )
                return
            finally:
                streaming.without_the_database(self._request)
            for key in batch:
                if key in found:  # gone since (its credential removed): nothing to list
                    yield found[key]

    # ------------------------------------------------------------ one recording

    def _add(
        self, archive: zipfile.ZipFile, manifest: IO[bytes], row: IndexedRecording
    ) -> Iterator[bytes]:
        recording = row.as_recording()
        if not recording.has_audio:
            self._tally.without_audio += 1
            self._note(manifest, row, Outcome.NO_AUDIO, reason=why_no_audio(recording))
            return
        try:
            media = self._client.open_media(recording)
        except SignalWireError as error:
            self._failed(manifest, row, error)
            return
        try:
            if media.status != 200:  # no Range was asked for; anything else is not the file
                self._failed(manifest, row, UpstreamFailed(media.status))
                return
            if not self._audit(row, self._action):
                self._tally.not_attempted += 1
                self._note(manifest, row, Outcome.NOT_ATTEMPTED, reason=self._tally.stopped)
                return
            content_type = media.headers.get("Content-Type", "")
            name = filenames.download_name(row.recording_id, recording, content_type, self._zone)
            entry = zipfile.ZipInfo(name, date_time=self._zip_time(recording))
            entry.compress_type = zipfile.ZIP_STORED
            entry.external_attr = 0o644 << 16
            length = media.headers.get("Content-Length", "")
            promised = int(length) if length.isascii() and length.isdigit() else None
            digest, written = hashlib.sha256(), 0
            member = archive.open(entry, "w", force_zip64=promised is None or promised > ZIP64_OVER)
            for chunk in media.chunks(MEDIA_CHUNK):
                digest.update(chunk)
                member.write(chunk)
                written += len(chunk)
                yield from self._written()
            if media.ended_early:
                of = f" of {promised:,}" if promised is not None else ""
                entry.comment = f"INCOMPLETE: {written:,}{of} bytes".encode()
                self._tally.stopped = (
                    f"SignalWire stopped sending recording {row.recording_id} after "
                    f"{written:,}{of} bytes; its file in the archive ({name}) is cut short, "
                    "and the recordings after it were not attempted. Download them again "
                    "(narrow the filters to them)."
                )
                outcome, reason = Outcome.PARTIAL, f"Cut short after {written:,}{of} bytes."
            else:
                self._tally.included += 1
                outcome, reason = Outcome.INCLUDED, ""
            member.close()
            yield from self._written()
            self._note(manifest, row, outcome, name, written, digest.hexdigest(), reason)
        finally:
            media.close()

    def _failed(self, manifest: IO[bytes], row: IndexedRecording, error: SignalWireError) -> None:
        """SignalWire would not give this file: listed with why, audited as a failed
        download; when SignalWire as a whole is failing, the archive stops here."""
        explanation = explain(error)
        reason = f"{explanation.title}. {explanation.message}"
        self._tally.failed += 1
        self._note(manifest, row, Outcome.FAILED, reason=reason)
        if isinstance(error, STOPS_THE_ARCHIVE):
            self._tally.stopped = (
                f"{explanation.title} (at recording {row.recording_id}): {explanation.message} "
                "The recordings after it were not attempted."
            )
        self._audit(row, audit.Action.DOWNLOAD_FAILED, explanation.title)

    def _audit(self, row: IndexedRecording, action: str, detail: str = "") -> bool:
        """An audit row for this file, written before its first byte goes out; False (and
        the archive stops) when the database cannot take it, since a download must not go
        unrecorded."""
        try:
            audit.record(
                self._request,
                action,
                recording_id=row.recording_id,
                credential=self._credential,
                detail=f"{detail}; {self._detail}" if detail else self._detail,
            )
        except DatabaseError:
            self._tally.stopped = self._tally.stopped or (
                "The dashboard could not write the audit trail, so it stopped adding "
                "recordings (every download is recorded). Try again later."
            )
            return False
        finally:
            streaming.without_the_database(self._request)
        return True

    def _zip_time(self, recording: Recording) -> tuple[int, int, int, int, int, int]:
        """The entry's date: when the recording was made, in the user's zone (ZIP dates
        have none), so unpacked files carry it."""
        moment = recording.created_at or timezone.now()
        local = timezone.localtime(moment, self._zone)
        if local.year < 1980:  # the earliest a ZIP date can say
            return (1980, 1, 1, 0, 0, 0)
        return (local.year, local.month, local.day, local.hour, local.minute, local.second)

    # ------------------------------------------------------------ the manifest

    def _note(
        self,
        manifest: IO[bytes],
        row: IndexedRecording,
        outcome: str,
        name: str = "",
        size: int | None = None,
        sha256: str = "",
        reason: str = "",
    ) -> None:
        cells = [*exports.recording_cells(row), name, size, sha256, outcome, reason]
        manifest.write(exports.csv_line(cells).encode())

    def _note_the_end(self, manifest: IO[bytes]) -> None:
        tally = self._tally
        counts = (
            f"{tally.included} file{'s' if tally.included != 1 else ''} in the archive, "
            f"{tally.without_audio} without audio, {tally.failed} failed"
        )
        if tally.stopped:
            outcome = Outcome.STOPPED
            reason = f"{tally.stopped} ({counts}, {tally.not_attempted} not attempted.)"
        else:
            outcome, reason = Outcome.COMPLETE, counts + "."
        blank = [""] * len(exports.RECORDING_COLUMNS)
        manifest.write(exports.csv_line([*blank, "", "", "", outcome, reason]).encode())

    def _add_manifest(self, archive: zipfile.ZipFile, manifest: IO[bytes]) -> Iterator[bytes]:
        manifest.seek(0)
        entry = zipfile.ZipInfo(
            MANIFEST_NAME, date_time=timezone.localtime(timezone.now(), self._zone).timetuple()[:6]
        )
        entry.compress_type = zipfile.ZIP_DEFLATED  # text: it shrinks several times
        entry.external_attr = 0o644 << 16
        with archive.open(entry, "w", force_zip64=True) as member:
            while chunk := manifest.read(MEDIA_CHUNK):
                member.write(chunk)
                yield from self._written()
        yield from self._written()


def why_no_audio(recording: Recording) -> str:
    """Why a recording has nothing to download, as the index last saw it (the rule of
    Recording.has_audio)."""
    status = f"status “{recording.status}”" if recording.status else "no status"
    if recording.status_family == "failed":
        code = f" with error code {recording.error_code}" if recording.error_code else ""
        return f"The recording failed{code} ({status}): SignalWire holds no audio for it."
    if recording.status_family == "no_audio":
        return f"Nothing was recorded ({status})."
    if recording.status == "deleted":
        return "The recording was deleted."
    if not recording.url:
        return f"SignalWire gave no audio file for this recording ({status})."
    return "The recording is empty (0 seconds)."
