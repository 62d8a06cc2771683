"""The worker's scheduler keeps every credential's index fresh without cron: a sync where
the index is older than SYNC_EVERY_MINUTES, a full one once a day, never a second one
for a credential whose sync is queued or running, however many workers ask."""

import os
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from demo_space import DEMO_PROJECT_ID, DemoSpace
from recordings_app import index, tasks
from recordings_app.models import Credential, IndexSync
from tests.dashboard_processes import ROOT, migrate_with_demo_user

pytestmark = pytest.mark.no_upstream


@pytest.fixture
def state(alice, settings):
    """alice's sync state: indexed a minute ago, fully an hour ago, idle."""
    settings.SYNC_EVERY_MINUTES = 10
    now = timezone.now()
    sync = index.sync_state(Credential.objects.get(user=alice))
    IndexSync.objects.filter(pk=sync.pk).update(
        indexed_as_of=now - timedelta(minutes=1),
        last_full_at=now - timedelta(hours=1),
        queued_at=now - timedelta(minutes=1),
    )
    return sync


def set_state(sync, **changes):
    IndexSync.objects.filter(pk=sync.pk).update(**changes)


def queued() -> list[list]:
    """The (credential id, full) of every sync on the task queue."""
    return [task.args_kwargs["args"] for task in DBTaskResult.objects.order_by("enqueued_at")]


def test_a_fresh_index_is_left_alone(state):
    assert tasks.request_due_syncs() == []
    assert queued() == []


def test_an_index_older_than_the_period_gets_a_sync(state):
    now = timezone.now()
    set_state(
        state, indexed_as_of=now - timedelta(minutes=11), queued_at=now - timedelta(minutes=11)
    )

    asked = tasks.request_due_syncs()

    assert [(credential.pk, full) for credential, full in asked] == [(state.credential_id, False)]
    assert queued() == [[state.credential_id, False]]
    assert index.sync_state(state.credential).state == IndexSync.State.QUEUED


def test_a_credential_never_synced_gets_a_full_sync(carol):
    credential = Credential(user=carol, label="New", space="demo", project_id=DEMO_PROJECT_ID)
    credential.set_token("token")
    credential.save()

    tasks.request_due_syncs()

    assert queued() == [[credential.pk, True]]


def test_once_a_day_the_sync_is_a_full_one(state):
    now = timezone.now()
    set_state(
        state,
        last_full_at=now - tasks.FULL_EVERY - timedelta(minutes=1),
        queued_at=now - timedelta(minutes=11),  # the index itself is fresh
    )
    tasks.request_due_syncs()
    assert queued() == [[state.credential_id, True]]


@pytest.mark.parametrize(
    "busy",
    [
        {"state": IndexSync.State.QUEUED},
        {"state": IndexSync.State.RUNNING, "heartbeat": "now"},
    ],
    ids=["queued", "running"],
)
def test_a_credential_whose_sync_is_queued_or_running_gets_no_other(state, busy, settings):
    settings.SYNC_EVERY_MINUTES = 1
    now = timezone.now()
    changes = {key: now if value == "now" else value for key, value in busy.items()}
    set_state(
        state,
        indexed_as_of=now - timedelta(hours=2),
        last_full_at=now - timedelta(days=2),
        queued_at=now - timedelta(minutes=5),  # long ago for the period, not for a worker
        **changes,
    )
    assert tasks.request_due_syncs() == []
    assert queued() == []


def test_a_sync_whose_worker_died_is_asked_for_again(state):
    now = timezone.now()
    set_state(
        state,
        state=IndexSync.State.RUNNING,
        heartbeat=now - index.LEASE_TIMEOUT - timedelta(seconds=1),
        indexed_as_of=now - timedelta(minutes=11),
        queued_at=now - timedelta(minutes=11),
    )
    tasks.request_due_syncs()
    assert queued() == [[state.credential_id, False]]


def test_a_failing_sync_is_retried_once_a_period_not_every_round(state):
    now = timezone.now()
    set_state(
        state,
        state=IndexSync.State.FAILED,
        indexed_as_of=now - timedelta(hours=1),
        queued_at=now - timedelta(minutes=2),
    )
    assert tasks.request_due_syncs() == []
    assert tasks.request_due_syncs(now=now + timedelta(minutes=9)) != []


def test_schedulers_of_several_workers_queue_one_sync(state):
    now = timezone.now()
    set_state(
        state, indexed_as_of=now - timedelta(minutes=11), queued_at=now - timedelta(minutes=11)
    )
    # Two schedulers read the state at the same moment; each then asks.
    first = IndexSync.objects.get(pk=state.pk)
    second = IndexSync.objects.get(pk=state.pk)
    credential = state.credential

    assert tasks.queue_sync(credential, first, False)
    assert not tasks.queue_sync(credential, second, False)
    assert tasks.request_due_syncs() == []  # and a third, a moment later
    assert len(queued()) == 1


def test_a_scheduler_whose_reading_is_out_of_date_queues_nothing(state):
    now = timezone.now()
    set_state(
        state, indexed_as_of=now - timedelta(minutes=11), queued_at=now - timedelta(minutes=11)
    )
    stale = IndexSync.objects.get(pk=state.pk)
    # Meanwhile another worker queued a sync, and it ran: the state is idle again.
    assert tasks.queue_sync(state.credential, IndexSync.objects.get(pk=state.pk), False)
    set_state(state, state=IndexSync.State.IDLE, indexed_as_of=timezone.now())

    assert not tasks.queue_sync(state.credential, stale, False)
    assert len(queued()) == 1


def test_the_round_scales_down_with_a_short_period(settings):
    settings.SYNC_EVERY_MINUTES = 10
    assert tasks.schedule_interval() == 30
    settings.SYNC_EVERY_MINUTES = 0.05
    assert tasks.schedule_interval() == pytest.approx(0.75)


# ------------------------------------------------------------------- end to end


def indexed_ids(database: Path) -> set[str]:
    with sqlite3.connect(database, timeout=20) as conn:
        rows = conn.execute(
            "SELECT recording_id FROM recordings_app_indexedrecording WHERE vanished_at IS NULL"
        ).fetchall()
    return {row[0] for row in rows}


def wait_for(condition, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"after {seconds} s: {what}"
        time.sleep(0.2)


def sync_task_times(database: Path) -> list[tuple[str, str]]:
    """(started, finished) of every sync task the workers ran, in order."""
    with sqlite3.connect(database, timeout=20) as conn:
        return conn.execute(
            "SELECT started_at, finished_at FROM django_tasks_database_dbtaskresult "
            "WHERE task_path LIKE '%sync_credential' AND started_at IS NOT NULL "
            "ORDER BY started_at"
        ).fetchall()


def test_the_worker_keeps_the_index_fresh_with_no_button_pressed(tmp_path):
    database = tmp_path / "worker.sqlite3"
    with DemoSpace(count=40) as space:
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")},
            "DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{database}",
            "SIGNALWIRE_BASE_URL": space.base_url,
            "SYNC_EVERY_MINUTES": "0.05",  # every 3 s
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        }
        migrate_with_demo_user(env)
        log = (tmp_path / "workers.log").open("w")
        # Two workers, each with its scheduler, as two machines would run them.
        workers = [
            subprocess.Popen(
                [sys.executable, "manage.py", "worker", "--no-reload", "--interval", "0.2"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            for _ in range(2)
        ]
        try:
            upstream = {r["id"] for r in space.recordings(DEMO_PROJECT_ID)}
            upstream |= {r["sid"] for r in space.compat_recordings(DEMO_PROJECT_ID)}
            wait_for(lambda: indexed_ids(database) == upstream, "the first sync")

            added = space.add_recording(DEMO_PROJECT_ID)["id"]
            added_cxml = space.add_compat_recording(DEMO_PROJECT_ID)["sid"]

            wait_for(
                lambda: {added, added_cxml} <= indexed_ids(database),
                "the new recordings in the index",
            )
            assert all(worker.poll() is None for worker in workers)
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=30)
            log.close()
    output = (tmp_path / "workers.log").read_text()
    assert "Traceback" not in output, output
    # However many schedulers asked, the credential's syncs ran one after another.
    times = sync_task_times(database)
    assert len(times) >= 2
    for (_, finished), (started, _) in zip(times, times[1:], strict=False):
        assert finished <= started, times
