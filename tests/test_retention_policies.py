"""Retention policies per credential: "delete recordings older than N days", optionally of
one status family, track or source; a dry run; a change only after a confirmation that
shows its dry run; a floor of one day; a pause switch; a daily run on the scheduler that
deletes from the demo space through the bulk-delete job, audited per recording and tagged
with the policy. (tests/test_retention.py is the audit trail's own retention.)"""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from demo_space import DEMO_PROJECT_ID
from recordings_app import deletions, index, tasks
from recordings_app.models import AuditEvent, Credential, DeletionJob, RetentionPolicy
from tests.conftest import text


@pytest.fixture
def credential(alice) -> Credential:
    return Credential.objects.get(user=alice)


@pytest.fixture
def synced(credential):
    index.run_sync(credential, full=True)
    return credential


def policies_url(credential) -> str:
    return f"/credentials/{credential.pk}/retention/"


def propose(client, credential, **fields):
    data = {"days": "60", "status_family": "", "track": "", "source": "", **fields}
    return client.post(policies_url(credential) + "propose/", data)


def confirm(client, credential, proposal_page):
    token = re.search(r'name="token" value="([^"]+)"', text(proposal_page)).group(1)
    return client.post(policies_url(credential) + "confirm/", {"token": token})


def old_failed(demo_space, days=60) -> set[str]:
    """The demo project's RELAY recordings with a failed status, older than `days`."""
    cutoff = timezone.now() - timedelta(days=days)
    return {
        r["id"]
        for r in demo_space.recordings(DEMO_PROJECT_ID)
        if r["status"] == "failed" and r["created_at"] < cutoff.strftime("%Y-%m-%dT%H:%M:%SZ")
    }


def test_a_policy_takes_effect_only_once_its_dry_run_is_confirmed(alice_client, synced, demo_space):
    page = propose(alice_client, synced, status_family="failed")
    assert page.status_code == 200
    expected = index.indexed_recordings(synced).filter(
        status_family="failed", created_at__lt=timezone.now() - timedelta(days=60)
    )
    count = expected.count()
    assert count > 20  # the seeded space has enough of them to show only the first rows
    assert f"<strong data-dry-run-count>{count}</strong>" in text(page)
    assert "The oldest 20" in text(page)
    oldest = expected.order_by("created_at", "recording_id").first()
    assert oldest.recording_id in text(page)
    assert RetentionPolicy.objects.count() == 0  # nothing yet

    response = confirm(alice_client, synced, page)
    assert response.status_code == 302
    policy = RetentionPolicy.objects.get()
    assert (policy.days, policy.status_family, policy.paused) == (60, "failed", False)
    change = AuditEvent.objects.get(action=AuditEvent.Action.RETENTION_CHANGE)
    assert change.username == "alice" and "older than 60 days · status Failed" in change.detail
    listing = text(alice_client.get(policies_url(synced)))
    assert "older than 60 days · status Failed" in listing and "active" in listing


def test_a_change_waits_for_its_confirmation(alice_client, synced):
    confirm(alice_client, synced, propose(alice_client, synced))
    policy = RetentionPolicy.objects.get()
    page = propose(alice_client, synced, days="10", policy=str(policy.pk))
    assert f"Policy #{policy.pk} now deletes recordings older than 60 days" in text(page)
    policy.refresh_from_db()
    assert policy.days == 60  # not yet
    confirm(alice_client, synced, page)
    policy.refresh_from_db()
    assert policy.days == 10
    assert (
        "(was: older than 60 days)"
        in AuditEvent.objects.filter(action=AuditEvent.Action.RETENTION_CHANGE).first().detail
    )


def test_an_altered_confirmation_changes_nothing(alice_client, synced):
    page = propose(alice_client, synced, days="30")
    token = re.search(r'name="token" value="([^"]+)"', text(page)).group(1)
    forged = token.replace(token.split(":")[0], token.split(":")[0][:-2] + "xx")
    response = alice_client.post(policies_url(synced) + "confirm/", {"token": forged}, follow=True)
    assert "That confirmation expired or was altered. Nothing changed." in text(response)
    assert RetentionPolicy.objects.count() == 0


@pytest.mark.parametrize("days", ["0", "-3"])
def test_the_floor_is_one_day(alice_client, synced, days):
    page = propose(alice_client, synced, days=days)
    assert page.status_code == 400
    assert "At least 1 day: a policy never deletes a recording younger than a day." in text(page)
    assert RetentionPolicy.objects.count() == 0


def test_the_floor_holds_even_for_a_row_that_says_less(synced):
    # The database refuses a policy under a day; and were one there, its rows would
    # still stop at a day.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        RetentionPolicy.objects.create(credential=synced, days=0)
    fresh = index.indexed_recordings(synced).filter(
        created_at__gte=timezone.now() - timedelta(days=1)
    )
    assert fresh.exists()
    rows = deletions.retention_rows(synced, 0)
    assert not rows.filter(pk__in=fresh.values("pk")).exists()


def test_the_daily_run_deletes_what_the_dry_run_showed_and_audits_each(
    alice_client, synced, demo_space
):
    confirm(alice_client, synced, propose(alice_client, synced, status_family="failed"))
    policy = RetentionPolicy.objects.get()
    dry = text(alice_client.get(policies_url(synced) + f"{policy.pk}/dry-run/"))
    shown = int(re.search(r"<strong data-dry-run-count>(\d+)</strong>", dry).group(1))
    doomed = set(
        deletions.policy_rows(policy).values_list("recording_id", flat=True)
    )  # both families
    assert len(doomed) == shown and old_failed(demo_space) <= doomed
    others_before = {r["id"] for r in demo_space.recordings(DEMO_PROJECT_ID)} - doomed

    [job] = tasks.request_due_retention()
    assert job.kind == "retention" and job.total == shown
    assert DBTaskResult.objects.filter(task_path=tasks.run_deletion_job.module_path).count() == 1
    deletions.run(job.pk)  # the worker

    job.refresh_from_db()
    assert (job.state, job.deleted, job.failed) == ("done", shown, 0)
    upstream = {r["id"] for r in demo_space.recordings(DEMO_PROJECT_ID)} | {
        r["sid"] for r in demo_space.compat_recordings(DEMO_PROJECT_ID)
    }
    assert not upstream & doomed
    assert others_before <= upstream  # nothing else went
    rows = AuditEvent.objects.filter(action=AuditEvent.Action.DELETE)
    assert {row.recording_id for row in rows} == doomed
    tag = f"Retention policy #{policy.pk} (older than 60 days · status Failed), job #{job.pk}"
    assert {row.detail for row in rows} == {tag}
    assert {row.username for row in rows} == {f"retention policy {policy.pk}"}
    # Once a day: not again today, again tomorrow.
    assert tasks.request_due_retention() == []
    assert tasks.request_due_retention(timezone.now() + timedelta(days=1, minutes=1))


def test_recordings_newer_than_the_run_are_left_alone(alice_client, synced, demo_space):
    confirm(alice_client, synced, propose(alice_client, synced, days="1"))
    fresh = demo_space.add_recording(DEMO_PROJECT_ID)
    index.run_sync(synced)
    [job] = tasks.request_due_retention()
    deletions.run(job.pk)
    assert fresh["id"] in {r["id"] for r in demo_space.recordings(DEMO_PROJECT_ID)}
    assert not job.items.filter(recording_id=fresh["id"]).exists()


def test_a_paused_policy_does_not_run_and_resuming_asks_first(alice_client, synced, demo_space):
    confirm(alice_client, synced, propose(alice_client, synced, status_family="failed"))
    policy = RetentionPolicy.objects.get()
    alice_client.post(policies_url(synced) + f"{policy.pk}/pause/")
    policy.refresh_from_db()
    assert policy.paused
    assert "paused" in text(alice_client.get(policies_url(synced)))
    assert tasks.request_due_retention() == []
    assert DeletionJob.objects.count() == 0

    page = propose(alice_client, synced, status_family="failed", policy=str(policy.pk))
    assert "Confirm the policy" in text(page) and "data-dry-run-count" in text(page)
    policy.refresh_from_db()
    assert policy.paused  # still, until confirmed
    confirm(alice_client, synced, page)
    policy.refresh_from_db()
    assert not policy.paused
    assert len(tasks.request_due_retention()) == 1


def test_a_run_that_is_unfinished_is_not_started_twice(alice_client, synced):
    confirm(alice_client, synced, propose(alice_client, synced, status_family="failed"))
    [job] = tasks.request_due_retention()
    tomorrow = timezone.now() + timedelta(days=1, minutes=1)
    assert tasks.request_due_retention(tomorrow) == []  # yesterday's run still going
    deletions.run(job.pk)
    assert len(tasks.request_due_retention(tomorrow)) == 1


def test_who_may_set_retention(alice_client, synced, bob_client, bob):
    url = policies_url(synced)
    assert alice_client.get(url).status_code == 200  # a Supervisor using the credential
    assert bob_client.get(url).status_code == 403  # no permission
    assert propose(bob_client, synced).status_code == 403
    assert "Retention" not in text(bob_client.get("/credentials/"))
    # An Admin may set retention, but only for credentials they can use.
    bob.groups.add(Group.objects.get(name="Admin"))
    admin = Client()
    admin.force_login(User.objects.get(pk=bob.pk))
    assert admin.get(url).status_code == 404
    synced.shared_with_users.add(bob)
    assert admin.get(url).status_code == 200
    # The credentials page links to them for those who may.
    assert f'href="{url}"' in text(alice_client.get("/credentials/"))
    assert f'href="{url}"' in text(admin.get("/credentials/"))  # under "Shared with you"
    # A retention run's page is for those who may set retention.
    confirm(alice_client, synced, propose(alice_client, synced, status_family="failed"))
    [job] = tasks.request_due_retention()
    assert alice_client.get(f"/deletions/{job.pk}/").status_code == 200
    synced.shared_with_users.remove(bob)
    assert admin.get(f"/deletions/{job.pk}/").status_code == 404  # no longer theirs to see
