"""Bulk delete by filter: a preview (count, size, cost per currency, oldest, newest), a
typed confirmation, then a job that deletes exactly the recordings shown from the demo
space, audits each one, retries what SignalWire asks it to, survives a stopped worker
and reports what was deleted, already gone and failed."""

import os
import re
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from demo_space import DEMO_PROJECT_ID, DemoSpace
from recordings_app import deletions, index, tasks
from recordings_app.models import AuditEvent, Credential, DeletionItem, DeletionJob
from recordings_app.templatetags.recordings import duration, money
from tests.conftest import text
from tests.dashboard_processes import ROOT, migrate_with_demo_user, run_python

LONG = 7000  # seconds: longer than any seeded recording, so a filter finds only ours
QUERY = "min_duration=6999"
URL = f"/recordings/delete-matching/?{QUERY}"


@pytest.fixture
def credential(alice) -> Credential:
    return Credential.objects.get(user=alice)


@pytest.fixture
def long_ones(demo_space, credential):
    """Four long RELAY recordings and two long Compatibility ones, indexed by a real sync."""
    relay = [
        demo_space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=LONG + i) for i in range(4)
    ]
    compat = [
        demo_space.add_compat_recording(DEMO_PROJECT_ID, duration=LONG + 10 + i) for i in range(2)
    ]
    index.run_sync(credential, full=True)
    return {
        "relay": [r["id"] for r in relay],
        "compat": [r["sid"] for r in compat],
        "rows": relay + compat,
    }


def upstream_ids(demo_space) -> set[str]:
    return {r["id"] for r in demo_space.recordings(DEMO_PROJECT_ID)} | {
        r["sid"] for r in demo_space.compat_recordings(DEMO_PROJECT_ID)
    }


def deletes(demo_space) -> list[str]:
    return [path for method, path, _ in demo_space.request_log if method == "DELETE"]


def confirm(client, count, url=URL):
    """The preview, then its form posted with `count` typed in."""
    preview = text(client.get(url))
    token = re.search(r'name="preview" value="([^"]+)"', preview).group(1)
    return client.post(url, {"preview": token, "count": str(count)})


def job_of(response) -> DeletionJob:
    assert response.status_code == 302, response.content.decode()[:500]
    return DeletionJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def test_the_preview_says_what_would_go(alice_client, long_ones):
    page = text(alice_client.get(URL))
    facts = dict(re.findall(r"<dt>([^<]+)</dt><dd>(.*?)</dd>", page))
    assert facts["Recordings"] == "<strong data-count>6</strong>"
    # Size: RELAY's recordings have one in the index; the Compatibility API gives none,
    # which the page says, counting their duration instead.
    relay_bytes = sum(r["byte_size"] for r in long_ones["rows"][:4])
    assert facts["Total size"] == (
        f"{filesizeformat(relay_bytes)}, of the 4 whose size the index has; 2 more have no "
        "size in the index (their duration counts in the total below)"
    )
    seconds = sum(r["duration_in_seconds"] for r in long_ones["rows"][:4]) + sum(
        r["duration"] for r in long_ones["rows"][4:]
    )
    assert facts["Total duration"] == duration(seconds)
    # Cost per currency: RELAY prices plus the Compatibility costs (negative upstream).
    total = sum(Decimal(str(r["price"])) for r in long_ones["rows"][:4]) + sum(
        -Decimal(r["price"]) for r in long_ones["rows"][4:]
    )
    assert facts["Total cost"] == f'<span class="cost">{money(total, "USD")}</span>'
    assert 'datetime="' + long_ones["rows"][0]["created_at"] + '"' in facts["Oldest"]
    newest = parsedate_to_datetime(long_ones["rows"][-1]["date_created"])
    assert f'datetime="{newest:%Y-%m-%dT%H:%M:%SZ}"' in facts["Newest"]
    assert "type the number of recordings: 6" in page


def test_typing_the_count_deletes_exactly_those_from_the_space(
    alice_client, demo_space, long_ones, django_capture_on_commit_callbacks
):
    before = upstream_ids(demo_space)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_of(confirm(alice_client, 6))
    assert job.total == 6 and job.state == DeletionJob.State.QUEUED
    queued = DBTaskResult.objects.get(task_path=tasks.run_deletion_job.module_path)
    assert queued.args_kwargs["args"] == [job.pk]

    deletions.run(job.pk)  # what the worker does with the queued task

    ours = set(long_ones["relay"]) | set(long_ones["compat"])
    assert upstream_ids(demo_space) == before - ours  # gone upstream, nothing else touched
    assert len(deletes(demo_space)) == 6
    job.refresh_from_db()
    assert (job.state, job.deleted, job.gone, job.failed) == ("done", 6, 0, 0)
    # The index forgot them: the filtered list is empty at once.
    assert "No recordings match these filters" in text(alice_client.get(f"/recordings/?{QUERY}"))
    # One audit row per recording, the existing delete action, tagged with the job.
    rows = AuditEvent.objects.filter(action=AuditEvent.Action.DELETE)
    assert {row.recording_id for row in rows} == ours
    assert {row.detail for row in rows} == {f"Bulk delete job #{job.pk}"}
    assert {row.username for row in rows} == {"alice"}
    assert all(row.credential_label == "Acme production" for row in rows)
    report = text(alice_client.get(f"/deletions/{job.pk}/"))
    assert "Finished" in report and "6 deleted, 0 already gone, 0 failed, of 6" in report


def test_the_list_links_to_the_preview_only_for_those_who_may_delete(
    alice_client, bob_client, long_ones
):
    assert "Delete all matching…" in text(alice_client.get(f"/recordings/?{QUERY}"))
    assert "Delete all matching…" not in text(alice_client.get("/recordings/"))  # not filtered
    assert "Delete all matching…" not in text(bob_client.get(f"/recordings/?{QUERY}"))


def test_without_the_permission_nothing_is_previewed_or_deleted(
    bob_client, alice_client, long_ones
):
    assert bob_client.get(URL).status_code == 403
    response = bob_client.post(URL, {"count": "6"})
    assert response.status_code == 403
    assert DeletionJob.objects.count() == 0
    denied = AuditEvent.objects.get(action=AuditEvent.Action.DELETE_DENIED)
    assert denied.username == "bob" and "Bulk delete" in denied.detail
    # Nor does anyone else see alice's job.
    job = job_of(confirm(alice_client, 6))
    assert bob_client.get(f"/deletions/{job.pk}/").status_code == 404


def test_a_wrong_count_deletes_nothing(alice_client, demo_space, long_ones):
    response = confirm(alice_client, 5)
    assert response.status_code == 400
    assert "Type 6 (the number of recordings) to confirm." in text(response)
    assert DeletionJob.objects.count() == 0 and deletes(demo_space) == []


def test_an_altered_preview_or_another_list_deletes_nothing(alice_client, demo_space, long_ones):
    preview = text(alice_client.get(URL))
    token = re.search(r'name="preview" value="([^"]+)"', preview).group(1)
    altered = alice_client.post(URL, {"preview": token[:-3] + "abc", "count": "6"})
    assert altered.status_code == 400 and "expired or was altered" in text(altered)
    other = alice_client.post(
        "/recordings/delete-matching/?min_duration=100", {"preview": token, "count": "6"}
    )
    assert other.status_code == 400 and "This preview is of another list." in text(other)
    assert DeletionJob.objects.count() == 0 and deletes(demo_space) == []


def test_the_unfiltered_list_cannot_be_bulk_deleted(alice_client, long_ones):
    response = alice_client.get("/recordings/delete-matching/")
    assert response.status_code == 400 and "Filter the list first" in text(response)


def test_recordings_arriving_after_the_preview_are_left_alone(
    alice_client, demo_space, credential, long_ones
):
    preview = text(alice_client.get(URL))
    token = re.search(r'name="preview" value="([^"]+)"', preview).group(1)
    late = demo_space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=LONG + 99)
    index.run_sync(credential)  # the new one is indexed and matches the filter now
    assert index.indexed_recordings(credential).filter(recording_id=late["id"]).exists()

    job = job_of(alice_client.post(URL, {"preview": token, "count": "6"}))
    deletions.run(job.pk)

    assert late["id"] in upstream_ids(demo_space)
    assert job.items.count() == 6
    assert not job.items.filter(recording_id=late["id"]).exists()


def test_a_set_that_changed_since_the_preview_is_shown_again(
    alice_client, demo_space, credential, long_ones
):
    preview = text(alice_client.get(URL))
    token = re.search(r'name="preview" value="([^"]+)"', preview).group(1)
    index.forget_recording(credential, long_ones["relay"][0])  # deleted meanwhile

    response = alice_client.post(URL, {"preview": token, "count": "6"})
    assert response.status_code == 400
    assert "changed since the preview" in text(response)
    assert "type the number of recordings: 5" in text(response)
    assert DeletionJob.objects.count() == 0 and deletes(demo_space) == []


def test_a_rate_limit_waits_for_retry_after_and_deletes_all(alice_client, demo_space, long_ones):
    job = job_of(confirm(alice_client, 6))
    demo_space.add_fault(status=429, headers={"Retry-After": "1"}, method="DELETE", times=2)

    deletions.run(job.pk)

    job.refresh_from_db()
    assert (job.deleted, job.failed) == (6, 0)
    assert len(deletes(demo_space)) == 8  # two refused, then each recording once
    assert not upstream_ids(demo_space) & set(long_ones["relay"] + long_ones["compat"])


def test_a_server_error_is_retried_not_failed(alice_client, demo_space, long_ones, monkeypatch):
    monkeypatch.setattr(deletions, "RETRY_BASE_SECONDS", 0.2)
    job = job_of(confirm(alice_client, 6))
    demo_space.add_fault(status=500, method="DELETE", times=1)
    demo_space.add_fault(status=503, method="DELETE", times=1)

    deletions.run(job.pk)

    job.refresh_from_db()
    assert (job.deleted, job.gone, job.failed) == (6, 0, 0)
    assert len(deletes(demo_space)) == 8


def test_a_long_rate_limit_frees_the_worker_and_the_scheduler_comes_back(
    alice_client, demo_space, long_ones
):
    job = job_of(confirm(alice_client, 6))
    demo_space.add_fault(status=429, headers={"Retry-After": "120"}, method="DELETE", times=1)

    deletions.run(job.pk)

    job.refresh_from_db()
    assert job.state == DeletionJob.State.WAITING and job.resume_at is not None
    page = text(alice_client.get(f"/deletions/{job.pk}/"))
    assert "SignalWire asked us to slow down" in page and "Rate limited by SignalWire" in page
    assert tasks.request_due_deletions() == []  # not yet
    later = timezone.now() + timedelta(seconds=121)
    assert tasks.request_due_deletions(later) == [job.pk]
    DeletionItem.objects.filter(job=job).update(retry_at=None)  # as if the two minutes passed
    deletions.run(job.pk)
    job.refresh_from_db()
    assert (job.state, job.deleted) == ("done", 6)


def test_already_gone_and_failed_are_reported_with_why(alice_client, demo_space, long_ones):
    job = job_of(confirm(alice_client, 6))
    gone = long_ones["relay"][0]
    demo_space.delete_recording(DEMO_PROJECT_ID, gone)  # someone else deleted it meanwhile
    refused = long_ones["compat"][1]
    demo_space.add_fault(
        status=422,
        body={"errors": [{"code": "x", "message": "Recording is locked", "detail": "locked"}]},
        method="DELETE",
        path_prefix=f"/api/laml/2010-04-01/Accounts/{DEMO_PROJECT_ID}/Recordings/{refused}",
    )

    deletions.run(job.pk)

    job.refresh_from_db()
    assert (job.deleted, job.gone, job.failed) == (4, 1, 1)
    report = text(alice_client.get(f"/deletions/{job.pk}/"))
    assert "4 deleted, 1 already gone, 1 failed, of 6" in report
    assert gone in report and "Already gone: SignalWire answered 404" in report
    assert refused in report and "SignalWire refused the request" in report
    assert refused in upstream_ids(demo_space)
    failed = AuditEvent.objects.filter(action=AuditEvent.Action.DELETE_FAILED)
    assert {row.recording_id for row in failed} == {gone, refused}
    assert all(f"Bulk delete job #{job.pk}" in row.detail for row in failed)


def test_rejected_credentials_fail_the_rest_at_once(alice_client, demo_space, long_ones):
    job = job_of(confirm(alice_client, 6))
    demo_space.add_fault(status=401, method="DELETE")

    deletions.run(job.pk)

    job.refresh_from_db()
    assert (job.state, job.deleted, job.failed) == ("done", 0, 6)
    assert len(deletes(demo_space)) == 1  # no point asking five more times
    assert "SignalWire rejected the credentials" in text(alice_client.get(f"/deletions/{job.pk}/"))


def test_a_stopped_worker_is_resumed_where_it_stopped(alice_client, demo_space, long_ones):
    job = job_of(confirm(alice_client, 6))
    done = []

    def die_after_two(item):
        done.append(item.recording_id)
        if len(done) == 2:
            raise deletions.Stopped()  # the worker process dies here

    with pytest.raises(deletions.Stopped):
        deletions.run(job.pk, on_item=die_after_two)

    job.refresh_from_db()
    assert (job.state, job.deleted) == ("running", 2)
    page = text(alice_client.get(f"/deletions/{job.pk}/"))
    assert "2 of 6 done" in page and "<progress" in page
    assert deletions.run(job.pk) is None  # its lease looks alive: nobody else takes it yet
    assert tasks.request_due_deletions() == []

    later = timezone.now() + index.LEASE_TIMEOUT + timedelta(seconds=1)
    assert tasks.request_due_deletions(later) == [job.pk]  # the scheduler queues it again
    assert tasks.request_due_deletions(later) == []  # once
    DeletionJob.objects.filter(pk=job.pk).update(heartbeat=timezone.now() - timedelta(minutes=3))
    deletions.run(job.pk)

    job.refresh_from_db()
    assert (job.state, job.deleted, job.gone) == ("done", 6, 0)
    assert len(deletes(demo_space)) == 6  # none deleted twice
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DELETE).count() == 6


def test_the_progress_part_polls_until_done(alice_client, long_ones):
    job = job_of(confirm(alice_client, 6))
    fragment = alice_client.get(f"/deletions/{job.pk}/", headers={"HX-Request": "true"})
    assert 'hx-trigger="every 2s"' in text(fragment) and "<html" not in text(fragment)
    assert "0 of 6 done" in text(fragment)
    deletions.run(job.pk)
    finished = alice_client.get(f"/deletions/{job.pk}/", headers={"HX-Request": "true"})
    assert "hx-trigger" not in text(finished) and finished["HX-Refresh"] == "true"


def test_the_daily_prune_drops_old_items_and_keeps_the_counts(alice_client, long_ones):
    job = job_of(confirm(alice_client, 6))
    deletions.run(job.pk)
    DeletionJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=29))
    tasks.prune.call()
    assert job.items.count() == 6  # a month is not over
    DeletionJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=31))
    tasks.prune.call()
    assert job.items.count() == 0
    report = text(alice_client.get(f"/deletions/{job.pk}/"))
    assert "6 deleted, 0 already gone, 0 failed, of 6" in report
    assert "no longer kept here (after 30 days)" in report
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DELETE).count() == 6


# ------------------------------------------------------------------- a real worker


def job_row(database: Path, job_id: int) -> tuple[str, int, int, int]:
    with sqlite3.connect(database, timeout=20) as conn:
        return conn.execute(
            "SELECT state, deleted, gone, failed FROM recordings_app_deletionjob WHERE id = ?",
            [job_id],
        ).fetchone()


def wait_for(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"after {seconds} s: {what}"
        time.sleep(0.1)


def start_worker(env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--no-reload", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.no_upstream
def test_a_killed_worker_is_replaced_and_the_job_finishes(tmp_path):
    """`manage.py worker` processes: the first is killed (SIGKILL) midway through a job;
    once its lease has run out, the scheduler of a second worker queues the job again and
    it finishes, every recording deleted once, none of the others touched."""
    database = tmp_path / "worker.sqlite3"
    with DemoSpace(count=40) as space:
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")},
            "DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{database}",
            "SIGNALWIRE_BASE_URL": space.base_url,
            "SYNC_EVERY_MINUTES": "0.05",  # a scheduler round every 0.75 s
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        }
        migrate_with_demo_user(env)
        ours = {
            space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=LONG + i)["id"]
            for i in range(6)
        }
        others = {r["id"] for r in space.recordings(DEMO_PROJECT_ID)} - ours
        job_id = int(
            run_python(
                "import django; django.setup()\n"
                "from recordings_app import deletions, index\n"
                "from recordings_app.models import Credential, DeletionJob\n"
                "c = Credential.objects.get(user__username='demo')\n"
                "index.run_sync(c, full=True)\n"
                "job = DeletionJob.objects.create(credential=c, username='demo')\n"
                f"rows = index.indexed_recordings(c).filter(duration_seconds__gte={LONG})\n"
                "deletions.freeze(job, rows)\n"
                "from recordings_app import tasks\n"
                "tasks.run_deletion_job.enqueue(job.pk)\n"
                "print(job.pk)\n",
                env,
            )
        )
        space.add_fault(delay=0.5, method="DELETE")  # each DELETE takes half a second
        with (tmp_path / "workers.log").open("w") as log:
            first = start_worker(env, log)
            try:
                wait_for(lambda: job_row(database, job_id)[1] >= 2, "two deletions")
            finally:
                first.kill()
                first.wait(timeout=30)
            state, deleted, _, _ = job_row(database, job_id)
            assert state == "running" and 2 <= deleted < 6
            # Two minutes later (the lease): its heartbeat is that old.
            with sqlite3.connect(database, timeout=20) as conn:
                old = (timezone.now() - timedelta(minutes=3)).strftime("%Y-%m-%d %H:%M:%S")
                conn.execute(
                    "UPDATE recordings_app_deletionjob SET heartbeat = ? WHERE id = ?",
                    [old, job_id],
                )
            second = start_worker(env, log)
            try:
                wait_for(lambda: job_row(database, job_id)[0] == "done", "the job to finish")
            finally:
                second.terminate()
                second.wait(timeout=30)
        upstream = {r["id"] for r in space.recordings(DEMO_PROJECT_ID)}
        deletes = [path for method, path, _ in space.request_log if method == "DELETE"]
    state, deleted, gone, failed = job_row(database, job_id)
    # A DELETE in flight when the worker died may have gone through: the next attempt
    # finds it gone (404) and says so; nothing is asked for a third time.
    assert (deleted + gone, failed) == (6, 0) and gone <= 1
    assert len(deletes) == 6 + gone
    assert not upstream & ours and others <= upstream
    output = (tmp_path / "workers.log").read_text()
    assert "Traceback" not in output, output
