"""Retention deletes what is older than each setting's horizon and nothing younger; a
dry run only counts; the worker's scheduler queues it at most once a day."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from recordings_app import retention, tasks
from recordings_app.models import AuditEvent

pytestmark = [pytest.mark.no_upstream, pytest.mark.django_db]
HOUR = timedelta(hours=1)


@pytest.fixture
def days(settings):
    settings.AUDIT_RETENTION_DAYS = 365
    settings.LOGIN_ATTEMPT_RETENTION_DAYS = 30
    settings.TASK_RESULT_RETENTION_DAYS = 7


def audit_event(age: timedelta) -> AuditEvent:
    return AuditEvent.objects.create(
        username="alice", action=AuditEvent.Action.VIEW, at=timezone.now() - age
    )


def login_attempt(model, age: timedelta):
    attempt = model.objects.create(
        user_agent=f"test {age}",
        ip_address="192.0.2.1",
        username="alice",
        http_accept="*/*",
        path_info="/accounts/login/",
        **(
            {"get_data": "", "post_data": "", "failures_since_start": 1}
            if model is AccessAttempt
            else {}
        ),
    )
    # attempt_time is auto_now_add: set afterwards.
    model.objects.filter(pk=attempt.pk).update(attempt_time=timezone.now() - age)
    return attempt


def task_result(status: str, age: timedelta) -> DBTaskResult:
    tasks.prune.enqueue()
    result = DBTaskResult.objects.latest("enqueued_at")
    finished = timezone.now() - age if status in ("SUCCESSFUL", "FAILED") else None
    DBTaskResult.objects.filter(pk=result.pk).update(
        status=status, finished_at=finished, enqueued_at=timezone.now() - age
    )
    return result


def test_audit_events_older_than_the_horizon_go_and_younger_ones_stay(days):
    expired = audit_event(timedelta(days=365) + HOUR)
    kept = audit_event(timedelta(days=365) - HOUR)
    fresh = audit_event(timedelta(minutes=1))
    report = retention.run()
    assert report.audit_events == 1
    assert set(AuditEvent.objects.values_list("pk", flat=True)) == {kept.pk, fresh.pk}
    assert not AuditEvent.objects.filter(pk=expired.pk).exists()


def test_the_shortest_audit_retention_deletes_nothing_younger_than_30_days(settings, days):
    settings.AUDIT_RETENTION_DAYS = 30
    audit_event(timedelta(days=30) + HOUR)
    kept = audit_event(timedelta(days=30) - HOUR)
    assert retention.run().audit_events == 1
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [kept.pk]


def test_zero_keeps_everything_for_ever(settings):
    settings.AUDIT_RETENTION_DAYS = 0
    settings.LOGIN_ATTEMPT_RETENTION_DAYS = 0
    settings.TASK_RESULT_RETENTION_DAYS = 0
    audit_event(timedelta(days=5000))
    login_attempt(AccessLog, timedelta(days=5000))
    task_result("SUCCESSFUL", timedelta(days=5000))
    assert retention.run() == retention.Report(0, 0, 0)
    assert (
        AuditEvent.objects.count(),
        AccessLog.objects.count(),
        DBTaskResult.objects.count(),
    ) == (
        1,
        1,
        1,
    )


def test_login_attempts_of_every_kind_go_after_their_retention(days):
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        login_attempt(model, timedelta(days=30) + HOUR)
        login_attempt(model, timedelta(days=30) - HOUR)
    assert retention.run().login_attempts == 3
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        assert model.objects.count() == 1


def test_only_finished_task_records_go(days):
    old = timedelta(days=7) + HOUR
    task_result("SUCCESSFUL", old)
    task_result("FAILED", old)
    waiting = task_result("READY", old)
    running = task_result("RUNNING", old)
    recent = task_result("SUCCESSFUL", timedelta(days=7) - HOUR)
    assert retention.run().task_results == 2
    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {
        waiting.pk,
        running.pk,
        recent.pk,
    }


def test_a_dry_run_counts_and_changes_nothing(days, capsys):
    audit_event(timedelta(days=400))
    login_attempt(AccessLog, timedelta(days=40))
    task_result("SUCCESSFUL", timedelta(days=8))
    call_command("prune", "--dry-run")
    assert capsys.readouterr().out.strip() == (
        "Would delete 1 audit events, 1 log-in attempts and 1 finished task records."
    )
    assert (
        AuditEvent.objects.count(),
        AccessLog.objects.count(),
        DBTaskResult.objects.count(),
    ) == (
        1,
        1,
        1,
    )
    call_command("prune")
    assert capsys.readouterr().out.strip() == (
        "Deleted 1 audit events, 1 log-in attempts and 1 finished task records."
    )
    assert (
        AuditEvent.objects.count(),
        AccessLog.objects.count(),
        DBTaskResult.objects.count(),
    ) == (
        0,
        0,
        0,
    )


def test_the_scheduler_queues_the_prune_at_most_once_a_day():
    assert tasks.request_due_prune() is True
    assert tasks.request_due_prune() is False
    assert tasks.request_due_prune(timezone.now() + timedelta(hours=23)) is False
    assert DBTaskResult.objects.filter(task_path=tasks.prune.module_path).count() == 1
    assert tasks.request_due_prune(timezone.now() + timedelta(days=1, minutes=1)) is True
    assert DBTaskResult.objects.filter(task_path=tasks.prune.module_path).count() == 2


def test_the_prune_task_runs_retention(days):
    audit_event(timedelta(days=400))
    assert (
        tasks.prune.call()
        == "Deleted 1 audit events, 0 log-in attempts and 0 finished task records."
    )
    assert AuditEvent.objects.count() == 0
