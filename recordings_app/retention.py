"""Retention: what the dashboard keeps of its own records, and for how long.

- The audit trail: AUDIT_RETENTION_DAYS (0: for ever). Its table is append-only in the
  database (migration 0010): this module is the one place that names a horizon to the
  database's trigger, inside its own transaction, and the trigger still refuses any row
  younger than four weeks.
- Log-in attempts (django-axes' AccessAttempt, AccessLog, AccessFailureLog):
  LOGIN_ATTEMPT_RETENTION_DAYS (0: for ever). An attempt that old is long past its
  lockout (settings refuse a retention shorter than LOGIN_LOCKOUT_MINUTES).
- Finished task records (django-tasks-db's DBTaskResult, succeeded or failed):
  TASK_RESULT_RETENTION_DAYS (0: for ever). Queued and running ones are never touched.

`run()` deletes; `run(dry_run=True)` counts what it would delete. The worker's scheduler
calls `run()` once a day (tasks.py); `manage.py prune` runs it by hand.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from recordings_app.models import AuditEvent


@dataclass(frozen=True)
class Report:
    """How many rows were deleted (or, in a dry run, would be), by kind."""

    audit_events: int
    login_attempts: int
    task_results: int
    dry_run: bool = False

    def __str__(self) -> str:
        verb = "Would delete" if self.dry_run else "Deleted"
        return (
            f"{verb} {self.audit_events} audit events, {self.login_attempts} log-in "
            f"attempts and {self.task_results} finished task records."
        )


def horizon(days: int, now: datetime) -> datetime | None:
    """Rows older than this go; None: kept for ever (days = 0)."""
    return now - timedelta(days=days) if days else None


def run(now: datetime | None = None, *, dry_run: bool = False) -> Report:
    now = now or timezone.now()
    return Report(
        audit_events=prune_audit_events(horizon(settings.AUDIT_RETENTION_DAYS, now), dry_run),
        login_attempts=prune_login_attempts(
            horizon(settings.LOGIN_ATTEMPT_RETENTION_DAYS, now), dry_run
        ),
        task_results=prune_task_results(horizon(settings.TASK_RESULT_RETENTION_DAYS, now), dry_run),
        dry_run=dry_run,
    )


def prune_audit_events(before: datetime | None, dry_run: bool = False) -> int:
    if before is None:
        return 0
    # The base manager: AuditEvent.objects refuses every delete (models.AppendOnly), and
    # the database refuses this one too unless told the horizon below.
    expired = AuditEvent._base_manager.filter(at__lt=before)
    if dry_run:
        return expired.count()
    with transaction.atomic(), connection.cursor() as cursor:
        allow_audit_deletes_before(cursor, before)
        deleted, _ = expired.delete()
        allow_audit_deletes_before(cursor, None)
    return deleted


def allow_audit_deletes_before(cursor, before: datetime | None) -> None:
    """Tell the audit table's trigger (migration 0010) that this transaction deletes
    rows older than `before`; None takes it back. Both forms end with the transaction."""
    if connection.vendor == "postgresql":
        value: str | None = before.isoformat() if before else ""
        cursor.execute("SELECT set_config('recordings.audit_prune_before', %s, true)", [value])
    elif connection.vendor == "sqlite":
        value = connection.ops.adapt_datetimefield_value(before) if before else None
        cursor.execute(
            "UPDATE recordings_app_auditprune SET prune_before = %s WHERE id = 1", [value]
        )


def prune_login_attempts(before: datetime | None, dry_run: bool = False) -> int:
    if before is None:
        return 0
    total = 0
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        expired = model.objects.filter(attempt_time__lt=before)
        total += expired.count() if dry_run else count_rows_of(model, expired.delete())
    return total


def prune_task_results(before: datetime | None, dry_run: bool = False) -> int:
    if before is None:
        return 0
    expired = DBTaskResult.objects.finished().filter(finished_at__lt=before)
    return expired.count() if dry_run else count_rows_of(DBTaskResult, expired.delete())


def count_rows_of(model, deleted: tuple[int, dict[str, int]]) -> int:
    """The rows of `model` itself in a QuerySet.delete() answer, not those it cascaded
    to (an AccessAttempt takes its AccessAttemptExpiration with it)."""
    return deleted[1].get(model._meta.label, 0)
