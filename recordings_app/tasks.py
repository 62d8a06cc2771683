"""Work for the task queue (Django's Tasks API), and the scheduler that fills it.

`manage.py worker` runs both: django-tasks-db's worker loop, and a thread that every
`schedule_interval()` seconds asks for a sync of each credential whose index is older
than SYNC_EVERY_MINUTES, full where the last full pass is older than FULL_EVERY. So the
index stays fresh with nothing running but the app servers and the workers: no cron.

Any number of workers may run the scheduler. A sync is queued only by the request that
flips the credential's state to QUEUED, and the scheduler flips only the state it saw
when it judged the sync due, so two schedulers (or a scheduler and a Refresh button)
asking at once queue one sync; the sync's lease (index.py) keeps a second runner off a
credential in any case.

The scheduler also queues `prune` (recordings_app.retention) once a day: its own task
records are the record of when it last ran, and the check and the enqueue happen under
one lock (an IMMEDIATE transaction on SQLite, an advisory lock on PostgreSQL), so
several workers queue it once.

After each sync that finished, `analyse_talk_time` is queued for the credential: talk
time (recordings_app/talk_time.py) of up to talk_time.PER_PASS recordings new to the
index, newest first. Opening a recording's page queues its own analysis
(`request_talk_time`) when it has none yet.
Deletion jobs (recordings_app/deletions.py) run as `run_deletion_job`. Each round the
scheduler queues again any job that needs a worker and has none (its task was lost, its
worker stopped, or a wait for SignalWire's Retry-After is over), flipping the job's
`queued_at` so two schedulers queue it once; and starts each retention policy's daily
run (`request_due_retention`), the policy's `last_run_at` being the guard.
"""

import logging
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from recordings_app import deletions, index, retention, talk_time
from recordings_app.models import (
    Credential,
    DeletionJob,
    IndexedRecording,
    IndexSync,
    RetentionPolicy,
)

logger = logging.getLogger(__name__)

# Incremental passes re-read only the last few days; deletions older than that are
# found by a full pass, asked for this often.
FULL_EVERY = timedelta(days=1)
SCHEDULE_SECONDS = 30.0
PRUNE_EVERY = timedelta(days=1)
# Any fixed number, the same in every worker: the PostgreSQL advisory lock of the check.
PRUNE_LOCK = 0x5052554E45
RETENTION_EVERY = timedelta(days=1)


@task()
def sync_credential(credential_id: int, full: bool = False) -> None:
    """Sync one credential's index; a credential deleted meanwhile is nothing to do."""
    credential = Credential.objects.filter(pk=credential_id).first()
    if credential is None:
        return
    state = index.run_sync(credential, full=full)
    if state is not None and state.state == IndexSync.State.IDLE:
        # A task of its own, so the sync's state is final before any media is fetched.
        analyse_talk_time.enqueue(credential.pk)


@task()
def analyse_talk_time(credential_id: int, recording_id: str = "") -> int:
    """Talk time of one recording (opened in the dashboard), or of a bounded batch of
    those new to the index (after a sync); returns how many were analysed."""
    credential = Credential.objects.filter(pk=credential_id).first()
    if credential is None:
        return 0
    if recording_id:
        talk_time.analyse_recording(credential, recording_id)
        return 1
    return talk_time.analyse_new(credential)


def request_talk_time(credential: Credential, row: IndexedRecording | None) -> bool:
    """The recording's page was opened: queue its analysis unless it has one, is queued,
    or has no audio. True if this call queued it."""
    if row is None or not talk_time.needs_queueing(row):
        return False
    if not talk_time.claim(credential, row.recording_id, row.talk_state):
        return False
    analyse_talk_time.enqueue(credential.pk, row.recording_id)
    row.refresh_from_db()
    return True


def is_pending(state: IndexSync, now: datetime) -> bool:
    """A sync is queued (and a worker can still be expected to pick it up) or running
    (and its runner shows signs of life): asking for another would be a second one."""
    if state.state == IndexSync.State.RUNNING:
        return not index.is_stale(state, now)
    if state.state == IndexSync.State.QUEUED:
        return state.queued_at is not None and state.queued_at > now - index.QUEUE_PATIENCE
    return False


def request_sync(credential: Credential, full: bool = False) -> IndexSync:
    """Queue a sync on the task queue unless one is already queued or running."""
    state = index.sync_state(credential)
    queue_sync(credential, state, full)
    state.refresh_from_db()
    return state


def queue_sync(credential: Credential, state: IndexSync, full: bool) -> bool:
    """Queue a sync unless one is pending, judged by `state` as the caller read it;
    True if this call queued it. Only the call that flips that very state to QUEUED
    enqueues: two app servers (or schedulers) asking at once queue one task, and a
    caller whose reading is out of date (the sync it saw as due has run since) none."""
    if is_pending(state, timezone.now()):
        return False
    flipped = IndexSync.objects.filter(
        pk=state.pk, state=state.state, queued_at=state.queued_at
    ).update(state=IndexSync.State.QUEUED, queued_at=timezone.now())
    if flipped:
        sync_credential.enqueue(credential.pk, full)
    return bool(flipped)


# ------------------------------------------------------------------ the scheduler


def sync_every() -> timedelta:
    return timedelta(minutes=settings.SYNC_EVERY_MINUTES)


def schedule_interval() -> float:
    """Seconds between two rounds of the scheduler: SCHEDULE_SECONDS, or a quarter of
    SYNC_EVERY_MINUTES when that is shorter (tests and demos use seconds)."""
    return min(SCHEDULE_SECONDS, sync_every().total_seconds() / 4)


def request_due_syncs(now: datetime | None = None) -> list[tuple[Credential, bool]]:
    """One round of the scheduler: a sync for every credential whose index is older than
    SYNC_EVERY_MINUTES, full where the last full pass is older than FULL_EVERY. Left
    alone: a credential with a sync queued or running, or asked for within the period
    (a sync that keeps failing is retried once a period, not every round). Returns the
    (credential, full) asked for."""
    now = now or timezone.now()
    # Asked for a round early, so a pass starts before the index is older than the
    # period rather than up to a round after.
    due = now - sync_every() + timedelta(seconds=schedule_interval())
    states = {state.credential_id: state for state in IndexSync.objects.all()}
    asked = []
    for credential in Credential.objects.order_by("pk"):
        state = states.get(credential.pk) or index.sync_state(credential)
        if is_pending(state, now) or (state.queued_at is not None and state.queued_at > due):
            continue
        full = state.last_full_at is None or state.last_full_at <= now - FULL_EVERY
        old = state.indexed_as_of is None or state.indexed_as_of <= due
        if (full or old) and queue_sync(credential, state, full):
            asked.append((credential, full))
            kind = "full" if full else "incremental"
            logger.info("Queued a %s sync of credential %s.", kind, credential.pk)
    return asked


@task()
def prune() -> str:
    """Retention: delete what is kept no longer (see recordings_app.retention)."""
    report = retention.run()
    logger.info("%s", report)
    items = deletions.prune_items()
    if items:
        logger.info("Dropped %s items of finished deletion jobs.", items)
    return str(report)


def request_due_prune(now: datetime | None = None) -> bool:
    """Queue `prune` unless one was queued within PRUNE_EVERY; True if this call did."""
    now = now or timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PRUNE_LOCK])
        recent = DBTaskResult.objects.filter(
            task_path=prune.module_path, enqueued_at__gt=now - PRUNE_EVERY
        )
        if recent.exists():
            return False
        prune.enqueue()
    logger.info("Queued the daily prune.")
    return True


@task()
def run_deletion_job(job_id: int) -> str:
    """Work through a deletion job (or go on with it); see recordings_app.deletions."""
    job = deletions.run(job_id)
    return "" if job is None else f"{job.state}: {job.processed} of {job.total}"


def queue_job(job: DeletionJob) -> None:
    """Queue the job's task once the transaction that made the job commits."""
    DeletionJob.objects.filter(pk=job.pk).update(queued_at=timezone.now())
    transaction.on_commit(lambda: run_deletion_job.enqueue(job.pk))


def request_due_deletions(now: datetime | None = None) -> list[int]:
    """Queue again every unfinished job that needs a worker and has none; returns their
    ids. Only the call that flips a job's `queued_at` from what it read enqueues."""
    now = now or timezone.now()
    asked = []
    for job in deletions.unfinished().order_by("pk"):
        if not deletions.is_due(job, now):
            continue
        flipped = DeletionJob.objects.filter(
            pk=job.pk, state=job.state, queued_at=job.queued_at
        ).update(queued_at=now)
        if flipped:
            run_deletion_job.enqueue(job.pk)
            asked.append(job.pk)
            logger.info("Queued deletion job %s again (%s).", job.pk, job.state)
    return asked


def request_due_retention(now: datetime | None = None) -> list[DeletionJob]:
    """Start the daily run of every policy not paused whose last run is a day old (or
    that never ran), unless a run of it is still unfinished."""
    now = now or timezone.now()
    started = []
    busy = deletions.unfinished().filter(policy__isnull=False).values("policy")
    due = (
        RetentionPolicy.objects.filter(paused=False)
        .filter(Q(last_run_at=None) | Q(last_run_at__lte=now - RETENTION_EVERY))
        .exclude(pk__in=busy)
        .select_related("credential")
        .order_by("pk")
    )
    for policy in due:
        job = deletions.start_retention_run(policy, now)
        if job is None:
            continue
        started.append(job)
        if job.state != DeletionJob.State.DONE:
            run_deletion_job.enqueue(job.pk)
        logger.info("Retention policy %s: job %s for %s recordings.", policy.pk, job.pk, job.total)
    return started


def run_scheduler(stop: threading.Event) -> None:
    """Rounds of `request_due_syncs`, `request_due_prune`, `request_due_deletions` and
    `request_due_retention` until `stop` is set (`manage.py worker` runs this on a thread
    of its own). A failed round is logged and the next one tried; a failed step does not
    hold up the others."""
    steps = (
        (request_due_syncs, "sync"),
        (request_due_prune, "prune"),
        (request_due_deletions, "deletion"),
        (request_due_retention, "retention"),
    )
    while not stop.is_set():
        for step, what in steps:
            close_old_connections()
            try:
                step()
            except Exception:
                logger.exception("A round of the %s scheduler failed; the next one follows.", what)
            finally:
                close_old_connections()
        stop.wait(schedule_interval())
