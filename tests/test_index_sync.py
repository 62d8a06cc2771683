from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from demo_space import DEMO_PROJECT_ID, OTHER_PROJECT_ID
from recordings_app import index, tasks
from recordings_app.models import Credential, IndexedRecording, IndexSync

LIST = "/api/relay/rest/recordings"
# The demo project's seeded recordings: 2,000 in RELAY's list, 300 in Compatibility's.
RELAY_COUNT, COMPAT_COUNT = 2000, 300


def credential_of(user) -> Credential:
    return Credential.objects.get(user=user)


def list_requests(space):
    return [path for method, path, _ in space.request_log if path.startswith(LIST + "?")]


def test_a_first_sync_indexes_every_recording_with_its_fields(alice, demo_space):
    credential = credential_of(alice)
    state = index.run_sync(credential)

    upstream = demo_space.recordings(DEMO_PROJECT_ID)
    rows = index.indexed_recordings(credential)
    assert rows.filter(family="relay").count() == len(upstream) == RELAY_COUNT
    assert rows.count() == RELAY_COUNT + COMPAT_COUNT
    assert state.full_pass and state.pages_read == 3 and state.cursor == ""  # RELAY 2, compat 1
    assert list_requests(demo_space)[0] == f"{LIST}?page_size=1000"
    failed = next(r for r in upstream if r["status"] == "failed" and r["price"])
    row = rows.get(recording_id=failed["id"])
    assert row.price == Decimal(str(failed["price"])) and row.price_unit == failed["price_unit"]
    assert row.status == "failed" and row.error_code == failed["error_code"]
    assert row.status_family == "failed" and row.family == "relay"
    assert row.duration_seconds == failed["duration_in_seconds"]
    assert row.created_at.isoformat().replace("+00:00", "Z") == failed["created_at"]
    assert state.indexed_as_of is not None and state.state == IndexSync.State.IDLE


def test_an_incremental_sync_reads_only_the_newest_page_and_adds_new_recordings(alice, demo_space):
    credential = credential_of(alice)
    index.run_sync(credential)
    demo_space.clear_request_log()
    added = demo_space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=61)

    state = index.run_sync(credential)

    assert not state.full_pass
    assert list_requests(demo_space) == [f"{LIST}?page_size=1000"]
    assert index.indexed_recordings(credential).filter(recording_id=added["id"]).exists()
    assert index.indexed_recordings(credential).count() == RELAY_COUNT + COMPAT_COUNT + 1


def test_an_incremental_sync_picks_up_a_changed_status_and_price(alice, demo_space):
    credential = credential_of(alice)
    recording = demo_space.add_recording(DEMO_PROJECT_ID, status="in-progress", price=0.0)
    index.run_sync(credential)
    demo_space.delete_recording(DEMO_PROJECT_ID, recording["id"])
    demo_space.add_recording(
        DEMO_PROJECT_ID,
        id=recording["id"],
        created_at=recording["created_at"],
        status="completed",
        price=0.0125,
    )

    index.run_sync(credential)

    row = IndexedRecording.objects.get(credential=credential, recording_id=recording["id"])
    assert (row.status, row.price) == ("completed", Decimal("0.0125"))


def test_recordings_that_vanished_upstream_are_marked_by_the_pass_that_covers_them(
    alice, demo_space
):
    credential = credential_of(alice)
    index.run_sync(credential)
    upstream = demo_space.recordings(DEMO_PROJECT_ID)
    # Not the newest: without it an incremental pass cannot tell that the list's first
    # page holds the newest recordings, and reads on to the end (test_sync_order.py).
    recent, old = upstream[1]["id"], upstream[-1]["id"]
    demo_space.delete_recording(DEMO_PROJECT_ID, recent)
    demo_space.delete_recording(DEMO_PROJECT_ID, old)

    index.run_sync(credential)  # incremental: re-reads recent days only
    live = index.indexed_recordings(credential)
    assert not live.filter(recording_id=recent).exists()
    assert live.filter(recording_id=old).exists()

    index.run_sync(credential, full=True)
    assert not live.filter(recording_id=old).exists()
    assert live.filter(family="relay").count() == RELAY_COUNT - 2
    assert live.filter(family="compat").count() == COMPAT_COUNT  # the other family untouched
    assert IndexedRecording.objects.get(recording_id=old).vanished_at is not None


def test_a_sync_that_fails_midway_resumes_at_the_page_it_stopped_on(alice, demo_space):
    credential = credential_of(alice)
    demo_space.add_fault(status=401, path_prefix=f"{LIST}?page_size=500&page_token", times=1)
    with pytest.raises(index.SignalWireError):
        index.run_sync(credential, page_size=500)
    state = index.sync_state(credential)
    assert state.state == IndexSync.State.FAILED and state.pages_read == 1
    assert "rejected the credentials" in state.last_error
    assert index.indexed_recordings(credential).count() == 500

    state = index.run_sync(credential, page_size=500)

    requests = list_requests(demo_space)
    assert len(requests) == 5  # page 1, page 2 refused, then pages 2, 3, 4
    assert requests[2] == requests[1]  # the resumed run asked for page 2, not page 1
    assert state.pages_read == 5  # 4 of RELAY's, then 1 of Compatibility's
    assert index.indexed_recordings(credential).count() == RELAY_COUNT + COMPAT_COUNT


class WorkerKilled(BaseException):
    """Stands in for a worker process dying: nothing after it runs (a BaseException,
    as SystemExit is, so the sync's own error handling does not see it either)."""


def test_a_pass_whose_worker_died_is_taken_over_and_resumed(alice, demo_space):
    credential = credential_of(alice)

    def die_after_two_pages(state):
        if state.pages_read == 2:
            raise WorkerKilled()

    with pytest.raises(WorkerKilled):
        index.run_sync(credential, page_size=500, on_page=die_after_two_pages)
    assert index.sync_state(credential).state == IndexSync.State.RUNNING
    assert index.run_sync(credential, page_size=500) is None  # its lease still looks alive

    IndexSync.objects.filter(credential=credential).update(
        heartbeat=timezone.now() - index.LEASE_TIMEOUT - timedelta(seconds=1)
    )
    demo_space.clear_request_log()
    state = index.run_sync(credential, page_size=500)

    assert len(list_requests(demo_space)) == 2  # RELAY's pages 3 and 4 only
    assert state.pages_read == 5 and state.full_pass  # and Compatibility's one page
    assert index.indexed_recordings(credential).count() == RELAY_COUNT + COMPAT_COUNT


def test_two_users_indexes_never_mix(alice, bob, demo_space):
    index.run_sync(credential_of(alice))
    index.run_sync(credential_of(bob))
    bob_ids = {r["id"] for r in demo_space.recordings(OTHER_PROJECT_ID)} | {
        r["sid"] for r in demo_space.compat_recordings(OTHER_PROJECT_ID)
    }
    bobs = index.indexed_recordings(credential_of(bob))
    assert set(bobs.values_list("recording_id", flat=True)) == bob_ids
    assert not index.indexed_recordings(credential_of(alice)).filter(recording_id__in=bob_ids)


def test_the_sync_command_runs_in_the_foreground_and_prints_progress(alice, bob, capsys):
    call_command("sync_recordings", user="alice")
    out = capsys.readouterr().out
    assert "alice / Acme production: page 2, 2000 recordings" in out
    assert "done (full), 3 pages, 2300 recordings read." in out
    assert not IndexedRecording.objects.filter(credential=credential_of(bob)).exists()


def test_adding_a_credential_queues_a_first_sync_that_the_worker_runs(
    transactional_db, carol, client
):
    # Transactional: the worker closes connections that sit in a transaction, as a
    # test's would, between tasks.
    from django_tasks_db.models import DBTaskResult

    client.force_login(carol)
    client.post(
        "/credentials/add/",
        {
            "label": "Acme",
            "space": "demo",
            "project_id": DEMO_PROJECT_ID,
            "api_token": __import__("demo_space").DEMO_API_TOKEN,
        },
    )
    credential = credential_of(carol)
    assert index.sync_state(credential).state == IndexSync.State.QUEUED
    assert DBTaskResult.objects.count() == 1
    assert not IndexedRecording.objects.exists()  # nothing ran in the request

    call_command("db_worker", batch=True, interval=0, startup_delay=False)

    assert index.indexed_recordings(credential).count() == RELAY_COUNT + COMPAT_COUNT
    assert index.sync_state(credential).state == IndexSync.State.IDLE


def test_asking_twice_queues_one_sync(alice):
    from django_tasks_db.models import DBTaskResult

    credential = credential_of(alice)
    tasks.request_sync(credential)
    tasks.request_sync(credential)
    assert DBTaskResult.objects.count() == 1


def test_deleting_a_recording_in_the_dashboard_drops_it_from_the_index(alice_client, alice):
    credential = credential_of(alice)
    index.run_sync(credential)
    recording_id = index.indexed_recordings(credential).first().recording_id
    alice_client.post(f"/recordings/{recording_id}/delete/")
    assert not index.indexed_recordings(credential).filter(recording_id=recording_id).exists()
    # Kept, marked vanished: a pass under way must not bring it back (test_red_team.py).
    assert IndexedRecording.objects.get(recording_id=recording_id).vanished_at is not None


def test_the_sync_command_says_so_when_a_user_has_no_credentials(carol):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No credentials stored for user 'carol'"):
        call_command("sync_recordings", user="carol")


def test_the_sync_command_fails_loudly_when_upstream_refuses(alice, demo_space, capsys):
    from django.core.management.base import CommandError

    demo_space.refuse_relay(DEMO_PROJECT_ID, 401)
    demo_space.refuse_compat(DEMO_PROJECT_ID, 401)
    with pytest.raises(CommandError, match="1 credential"):
        call_command("sync_recordings")
    assert "SignalWire rejected the credentials" in capsys.readouterr().err


def test_the_sync_command_says_which_family_it_could_not_read(alice, demo_space, capsys):
    demo_space.refuse_compat(DEMO_PROJECT_ID, 403)
    call_command("sync_recordings")
    out = capsys.readouterr().out
    assert "done (full), 2 pages, 2000 recordings read." in out
    assert "not indexed: Compatibility (cXML) recordings: SignalWire answered 403" in out
