"""Download all (ZIP): every recording of a filtered list in one streamed archive, with a
manifest that says what became of each; against the demo space, synced into the index."""

import asyncio
import base64
import csv
import hashlib
import io
import re
import tracemalloc
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Group, User
from django.db import OperationalError, connection, connections
from django.test import AsyncClient, Client

from demo_space import DEMO_API_TOKEN, DEMO_PROJECT_ID
from recordings_app import archive, audit, index
from recordings_app.models import AuditEvent, Credential
from tests.conftest import body, text

# A day before any seeded recording (the demo space's history is the last 90 days), so
# the filter finds exactly the recordings a test adds there.
WINDOW = "from=2020-03-09T00:00&to=2020-03-09T23:59"
ZIP_URL = "/recordings/download.zip?" + WINDOW


@pytest.fixture(autouse=True)
def patient_reads(settings):
    """No test here is about slowness: on a busy machine the demo space can take over the
    suite's 1 s read timeout to encode an MP3's first bytes, which would stop the archive."""
    settings.SIGNALWIRE_READ_TIMEOUT = 10.0


def add(demo_space, minute: int, **fields) -> dict:
    return demo_space.add_recording(
        DEMO_PROJECT_ID, created_at=f"2020-03-09T14:{minute:02d}:00Z", **fields
    )


def synced(alice) -> None:
    index.run_sync(Credential.objects.get(user=alice))


def archive_of(response) -> zipfile.ZipFile:
    assert response.status_code == 200, text(response)
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(body(response)))


def manifest_of(archive: zipfile.ZipFile) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))


@pytest.fixture
def three(demo_space, alice):
    """Three recordings with audio in the window (one stereo, one MP3), one outside it."""
    made = [
        add(demo_space, 5, duration_in_seconds=7),
        add(demo_space, 6, duration_in_seconds=3, stereo=True),
        add(demo_space, 7, duration_in_seconds=4, media_format="mp3"),
    ]
    demo_space.add_recording(DEMO_PROJECT_ID, created_at="2020-03-10T09:00:00Z")
    synced(alice)
    return made


def test_the_archive_holds_the_filtered_recordings_named_as_single_downloads(alice_client, three):
    archive = archive_of(alice_client.get(ZIP_URL))
    assert archive.testzip() is None
    rows = manifest_of(archive)
    *recordings, end = rows
    # Newest first, as the list sorts; the one outside the window is not there.
    assert [row["id"] for row in recordings] == [r["id"] for r in reversed(three)]
    assert end["id"] == "" and end["outcome"] == "archive complete", end["reason"]
    assert end["reason"] == "3 files in the archive, 0 without audio, 0 failed."
    assert sorted(archive.namelist()) == sorted(
        [row["file"] for row in recordings] + ["manifest.csv"]
    )
    for row in recordings:
        single = alice_client.get(f"/recordings/{row['id']}/audio/?download=1")
        name = re.search(r'filename="([^"]+)"', single["Content-Disposition"]).group(1)
        data = archive.read(row["file"])
        assert row["file"] == name
        assert data == body(single)
        assert row["sha256"] == hashlib.sha256(data).hexdigest()
        assert row["bytes"] == str(len(data)) and row["outcome"] == "included"
    assert recordings[0]["file"].endswith(".mp3")
    assert recordings[0]["file"].startswith("2020-03-09_1407_recording-")


def test_a_cxml_recording_is_in_the_archive_as_its_single_download_is(
    alice_client, alice, demo_space
):
    cxml = demo_space.add_compat_recording(
        DEMO_PROJECT_ID, date_created="Mon, 09 Mar 2020 10:30:00 +0000", duration=3
    )
    synced(alice)
    archive = archive_of(alice_client.get(ZIP_URL))
    (row, _end) = manifest_of(archive)
    assert (row["id"], row["family"], row["outcome"]) == (cxml["sid"], "compat", "included")
    single = alice_client.get(f"/recordings/{cxml['sid']}/audio/?download=1")
    assert f'filename="{row["file"]}"' in single["Content-Disposition"]
    assert archive.read(row["file"]) == body(single)


def test_the_manifest_has_the_csv_exports_columns_and_the_same_cells(alice_client, three):
    rows = manifest_of(archive_of(alice_client.get(ZIP_URL)))
    exported = list(
        csv.DictReader(
            io.StringIO(body(alice_client.get("/recordings/export.csv?" + WINDOW)).decode())
        )
    )
    header = list(rows[0])
    assert header == [*exported[0], "file", "bytes", "sha256", "outcome", "reason"]
    for row, csv_row in zip(rows, exported, strict=False):
        assert {k: row[k] for k in csv_row} == csv_row


def test_the_list_links_to_the_zip_of_its_own_filters_for_supervisors_only(
    alice_client, three, demo_space
):
    page = text(alice_client.get("/recordings/?" + WINDOW + "&status=done&size=25"))
    link = re.search(r'href="([^"]+)"[^>]*>Download all \(ZIP\)<', page).group(1)
    link = link.replace("&amp;", "&")
    assert link.startswith("/recordings/download.zip?")
    assert "status=done" in link and "from=2020-03-09T00%3A00" in link and "size" not in link
    archive = archive_of(alice_client.get(link))
    assert len(archive.namelist()) == 4
    # A Support agent on the same (shared) credentials sees the list, not the link:
    # the cached table varies by the permission.
    support = User.objects.create_user("sam")
    support.groups.add(Group.objects.get(name="Support"))
    sam = Client()
    sam.force_login(support)
    credential = Credential.objects.get(user__username="alice")
    credential.shared_with_users.add(support)
    own = text(sam.get("/recordings/?" + WINDOW + "&status=done&size=25"))
    assert three[0]["id"] in own and "Download all (ZIP)" not in own
    assert "Download CSV" in own


def test_without_the_permission_it_is_a_403_page(bob_client, alice_client, three):
    response = bob_client.get(ZIP_URL)
    assert response.status_code == 403
    assert "Not allowed" in text(response)
    assert "Download all (ZIP)" not in text(bob_client.get("/recordings/?" + WINDOW))
    assert not AuditEvent.objects.filter(action__startswith="download").exists()


def test_invalid_filters_are_a_400_before_anything_is_sent(alice_client, three):
    response = alice_client.get("/recordings/download.zip?from=yesterday")
    assert response.status_code == 400
    assert "These filters are not valid" in text(response)


def test_every_file_in_the_archive_is_audited_as_a_download(alice_client, alice, three):
    archive_of(alice_client.get(ZIP_URL))
    events = AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD)
    assert sorted(e.recording_id for e in events) == sorted(r["id"] for r in three)
    assert {(e.username, e.credential_label, e.detail) for e in events} == {
        ("alice", "Acme production", "in a ZIP of 3 recordings")
    }


def test_a_zip_asked_for_by_another_sites_page_is_audited_as_such(alice_client, three):
    archive_of(alice_client.get(ZIP_URL, headers={"Sec-Fetch-Site": "cross-site"}))
    events = AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD_CROSS_SITE)
    assert events.count() == 3
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).exists()


def test_recordings_without_audio_are_listed_with_the_reason(alice_client, alice, demo_space):
    kept = add(demo_space, 1, duration_in_seconds=5)
    failed = add(demo_space, 2, status="failed", error_code="30005", duration_in_seconds=0)
    absent = add(demo_space, 3, status="absent", duration_in_seconds=0)
    gone = add(demo_space, 4, duration_in_seconds=5)
    synced(alice)
    demo_space.delete_recording(DEMO_PROJECT_ID, gone["id"])  # its media answers 404 now
    archive = archive_of(alice_client.get(ZIP_URL))
    by_id = {row["id"]: row for row in manifest_of(archive)}
    assert by_id[kept["id"]]["outcome"] == "included"
    assert by_id[failed["id"]]["outcome"] == "no audio"
    assert by_id[failed["id"]]["reason"] == (
        "The recording failed with error code 30005 (status “failed”): "
        "SignalWire holds no audio for it."
    )
    assert by_id[absent["id"]]["outcome"] == "no audio"
    assert by_id[absent["id"]]["reason"] == "Nothing was recorded (status “absent”)."
    assert by_id[gone["id"]]["outcome"] == "failed"
    assert by_id[gone["id"]]["reason"].startswith("Recording not found. This recording does not")
    for row in (by_id[failed["id"]], by_id[absent["id"]], by_id[gone["id"]]):
        assert row["file"] == "" and row["sha256"] == ""
    assert archive.namelist() == [by_id[kept["id"]]["file"], "manifest.csv"]
    assert by_id[""]["reason"] == "1 file in the archive, 2 without audio, 1 failed."
    failures = AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD_FAILED)
    assert [(e.recording_id, e.detail.split(";")[0]) for e in failures] == [
        (gone["id"], "Recording not found")
    ]


def test_media_refused_upstream_is_listed_and_the_archive_goes_on(
    alice_client, alice, demo_space, three
):
    newest = three[-1]
    demo_space.add_fault(status=403, path_prefix=f"/media/{DEMO_PROJECT_ID}/{newest['id']}")
    archive = archive_of(alice_client.get(ZIP_URL))
    *rows, end = manifest_of(archive)
    assert [row["outcome"] for row in rows] == ["failed", "included", "included"]
    assert rows[0]["reason"].startswith("The API token lacks the Voice scope.")
    assert end["outcome"] == "archive complete", end["reason"]


def test_a_stream_cut_midway_leaves_a_valid_archive_whose_manifest_says_so(
    alice_client, demo_space, three
):
    middle = three[1]
    demo_space.add_fault(
        drop_after_bytes=30_000, path_prefix=f"/media/{DEMO_PROJECT_ID}/{middle['id']}"
    )
    archive = archive_of(alice_client.get(ZIP_URL))
    assert archive.testzip() is None  # every entry's CRC matches what it holds
    assert archive.comment == b"INCOMPLETE: see the last line of manifest.csv"
    *rows, end = manifest_of(archive)
    assert [row["outcome"] for row in rows] == ["included", "partial", "not attempted"]
    partial = rows[1]
    data = archive.read(partial["file"])
    size = middle["byte_size"]
    assert len(data) == int(partial["bytes"]) < size
    assert partial["sha256"] == hashlib.sha256(data).hexdigest()
    assert partial["reason"] == f"Cut short after {len(data):,} of {size:,} bytes."
    assert archive.getinfo(partial["file"]).comment.startswith(b"INCOMPLETE")
    assert end["outcome"] == "archive stopped"
    assert end["reason"].startswith(f"SignalWire stopped sending recording {middle['id']} after")
    assert end["reason"].endswith(
        "(1 file in the archive, 0 without audio, 0 failed, 1 not attempted.)"
    )
    assert len(archive.namelist()) == 3  # the whole file, the cut one, the manifest


def test_signalwire_failing_stops_the_archive_at_once_and_says_why(alice_client, demo_space, three):
    demo_space.add_fault(status=503, path_prefix="/media/")
    archive = archive_of(alice_client.get(ZIP_URL))
    *rows, end = manifest_of(archive)
    assert [row["outcome"] for row in rows] == ["failed", "not attempted", "not attempted"]
    assert archive.namelist() == ["manifest.csv"]
    assert end["outcome"] == "archive stopped"
    assert end["reason"].startswith("SignalWire had a problem (at recording")


def test_a_file_the_audit_trail_cannot_record_is_not_sent(alice_client, three, monkeypatch):
    """The database refusing an insert midway is mocked (audit.record raising): no
    server here can be made to fail between two rows of one request."""
    recorded = audit.record

    def second_fails(request, action, **fields):
        if fields["recording_id"] == three[1]["id"]:
            raise OperationalError("database or disk is full")
        return recorded(request, action, **fields)

    monkeypatch.setattr(audit, "record", second_fails)
    archive = archive_of(alice_client.get(ZIP_URL))
    *rows, end = manifest_of(archive)
    assert [row["outcome"] for row in rows] == ["included", "not attempted", "not attempted"]
    assert len(archive.namelist()) == 2  # the newest file and the manifest
    assert end["outcome"] == "archive stopped"
    assert end["reason"].startswith("The dashboard could not write the audit trail")
    downloads = AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD)
    assert [e.recording_id for e in downloads] == [three[2]["id"]]


def test_the_token_is_nowhere_in_the_archive(alice_client, demo_space, three):
    demo_space.protect_media(DEMO_PROJECT_ID)  # the credentials go with every media request
    demo_space.add_fault(status=401, path_prefix=f"/media/{DEMO_PROJECT_ID}/{three[0]['id']}")
    raw = body(alice_client.get(ZIP_URL))
    archive = zipfile.ZipFile(io.BytesIO(raw))
    unpacked = b"".join(archive.read(name) for name in archive.namelist())
    basic = base64.b64encode(f"{DEMO_PROJECT_ID}:{DEMO_API_TOKEN}".encode())
    for secret in (DEMO_API_TOKEN.encode(), basic):
        assert secret not in raw and secret not in unpacked
    assert manifest_of(archive)[-1]["outcome"] == "archive stopped"  # 401 stops it


def test_an_empty_selection_is_an_archive_with_just_the_manifest(alice_client, alice, demo_space):
    synced(alice)
    archive = archive_of(alice_client.get(ZIP_URL))
    assert archive.namelist() == ["manifest.csv"]
    (end,) = manifest_of(archive)
    assert end["outcome"] == "archive complete", end["reason"]


@pytest.mark.django_db(transaction=True)
def test_under_asgi_it_streams_from_the_event_loop_and_audits_each_file(
    alice, demo_space, monkeypatch
):
    made = [add(demo_space, 8, duration_in_seconds=6), add(demo_space, 9, duration_in_seconds=2)]
    synced(alice)
    # Whether the thread building the archive holds a database connection each time a
    # chunk goes out: it must not, though it writes an audit row per file.
    held = []
    building = archive.RecordingsArchive.chunks

    def watched(self):
        for chunk in building(self):
            held.append(any(c.connection is not None for c in connections.all()))
            yield chunk

    monkeypatch.setattr(archive.RecordingsArchive, "chunks", watched)

    async def download():
        client = AsyncClient()
        await client.aforce_login(alice)
        response = await client.get(ZIP_URL)
        data = b"".join([chunk async for chunk in response.streaming_content])
        await sync_to_async(connections.close_all)()
        return response, data

    with ThreadPoolExecutor(1) as thread:
        response, data = thread.submit(asyncio.run, download()).result()
    assert response.status_code == 200 and response.is_async
    assert held
    if not (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        # (Django never closes an in-memory SQLite database's connection: that would lose
        # the database. .ci/run's PostgreSQL pass checks this.)
        assert not any(held)
    zipped = zipfile.ZipFile(io.BytesIO(data))
    assert zipped.testzip() is None and len(zipped.namelist()) == 3
    downloads = AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD)
    assert sorted(e.recording_id for e in downloads) == sorted(r["id"] for r in made)


def test_a_large_archive_streams_in_flat_memory(alice_client, alice, demo_space):
    # About 130 MB of audio in four files; the archive is never held whole.
    for minute in range(4):
        add(demo_space, minute, duration_in_seconds=2_000)
    synced(alice)
    response = alice_client.get(ZIP_URL)
    tracemalloc.start()
    size = sum(len(chunk) for chunk in response.streaming_content)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert size > 4 * 2_000 * 16_000
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB while streaming {size / 1e6:.0f} MB"
