"""Deleting many recordings: the bulk delete of a filtered list, and retention policies.

Both make a `DeletionJob`: the exact recordings to delete, frozen as one
`DeletionItem` per recording when the job is made (INSERT ... SELECT from the index,
so a million rows cost one statement). A job never deletes a recording that is not one
of its items: recordings that arrive later are left alone.

A bulk delete is made in two steps. The preview (`summarize`) reads the index for the
list's filters and names the newest index row it saw (`through`, the highest key: keys
only grow, so a recording indexed later has a higher one). The confirmation (the user
types the count) freezes the rows matching the same filters up to that key, and only if
there are exactly as many as the preview showed; otherwise the preview is shown again.

`run` works through the items, one DELETE each, through the one client
(`SignalWireClient.delete_recording(id, family)`), holding a lease with a heartbeat as
the index sync does: a second runner backs off, and the items of a worker that stopped
are still pending, so whoever runs the job next (the scheduler re-queues a job whose
heartbeat is older than index.LEASE_TIMEOUT, see tasks.py) goes on with them. An item is
marked done in the same transaction as the job's counters, after its DELETE answered.

What each answer means for an item:
- 204: deleted; the index forgets it, the cache drops it, an audit row (`delete`)
  tagged with the job or the policy.
- 404: already gone (deleted elsewhere, or by an earlier attempt whose answer was lost);
  the index forgets it; audited as a failed delete saying so.
- 429: SignalWire is rate limiting: the whole job waits `Retry-After` (or a minute) and
  the item is tried again; it fails only after RATE_LIMIT_TRIES such answers.
- 5xx, a timeout, no connection, an unreadable answer: tried again after a backoff
  (RETRY_BASE_SECONDS, doubling, at most RETRY_MAX_SECONDS), failed after TRANSIENT_TRIES.
- 401, 403, no such space, a forbidden address: nothing else will work either, so every
  item still pending fails with that reason and the job ends.
- 422 or anything else: that item fails with SignalWire's words.
A wait longer than INLINE_WAIT_SECONDS ends the run (state WAITING, `resume_at`): the
worker is not held, and the scheduler queues the job again when it is due.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum, Value
from django.utils import timezone

from recordings_app import audit, credential_cache, index
from recordings_app.errors import explain
from recordings_app.models import (
    AuditEvent,
    Credential,
    DeletionItem,
    DeletionJob,
    IndexedRecording,
    RetentionPolicy,
)
from recordings_app.signalwire import (
    CREDENTIALS_REFUSED,
    NOT_ANSWERING,
    SOURCE_LABELS,
    STATUS_FAMILIES,
    ForbiddenAddress,
    MalformedResponse,
    RateLimited,
    RecordingNotFound,
    SignalWireClient,
    SignalWireError,
)

logger = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 2.0
RETRY_MAX_SECONDS = 300.0
TRANSIENT_TRIES = 6
RATE_LIMIT_TRIES = 20
INLINE_WAIT_SECONDS = 20.0
DEFAULT_RETRY_AFTER = 60
BATCH = 50
# The items (one row per recording) of a finished job are kept this long for its report;
# the job's counts stay, and the audit trail keeps every deletion.
ITEMS_KEPT = timedelta(days=30)
DRY_RUN_ROWS = 20
# Answers after which no other item can succeed either.
HOPELESS = (*CREDENTIALS_REFUSED, ForbiddenAddress)
TRANSIENT = (*NOT_ANSWERING, MalformedResponse)


# ------------------------------------------------------------------ the preview


@dataclass(frozen=True)
class Summary:
    """What a set of indexed recordings amounts to, for the preview."""

    count: int
    through: int  # the highest index key among them (0: none)
    bytes_known: int  # total size of those whose size the index has
    without_size: int  # how many have no size in the index
    seconds: int  # total duration (what is shown where sizes are missing)
    cost_by_currency: dict[str, Decimal | None]
    oldest: datetime | None
    newest: datetime | None

    @property
    def sized(self) -> int:
        return self.count - self.without_size


def summarize(rows: QuerySet[IndexedRecording]) -> Summary:
    """Count, size, duration, cost per currency (never added across currencies), oldest
    and newest of `rows`, in two grouped queries."""
    rows = rows.order_by()
    overall = rows.aggregate(
        count=Count("key"),
        through=Max("key"),
        sized=Count("byte_size"),
        size=Sum("byte_size"),
        seconds=Sum("duration_seconds"),
        oldest=Min("created_at"),
        newest=Max("created_at"),
    )
    costs: dict[str, Decimal | None] = {}
    for group in (
        rows.exclude(price_unit="")
        .filter(price__isnull=False)
        .values("price_unit")
        .annotate(total=Sum("price"))
        .order_by("price_unit")
    ):
        costs[group["price_unit"]] = index.exact(group["total"])
    return Summary(
        count=overall["count"],
        through=overall["through"] or 0,
        bytes_known=overall["size"] or 0,
        without_size=overall["count"] - overall["sized"],
        seconds=overall["seconds"] or 0,
        cost_by_currency=costs,
        oldest=overall["oldest"],
        newest=overall["newest"],
    )


# ------------------------------------------------------------------ making a job


def freeze(job: DeletionJob, rows: QuerySet[IndexedRecording]) -> int:
    """Store one pending item per recording of `rows` for `job`, in one INSERT ...
    SELECT; sets and returns the job's total. Call inside the job's transaction."""
    selected = (
        rows.order_by()
        .annotate(
            item_job=Value(job.pk),
            item_state=Value(DeletionItem.State.PENDING),
            item_attempts=Value(0),
            item_detail=Value(""),
        )
        .values_list(
            "recording_id", "family", "item_job", "item_state", "item_attempts", "item_detail"
        )
    )
    select_sql, params = selected.query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(DeletionItem._meta.db_table)
    names = ", ".join(
        quote(c) for c in ("recording_id", "family", "job_id", "state", "attempts", "detail")
    )
    with connection.cursor() as cursor:
        # Only our own table and column names go into the text; values are parameters.
        cursor.execute(f"INSERT INTO {table} ({names}) {select_sql}", params)  # noqa: S608
    total = DeletionItem.objects.filter(job=job).count()
    DeletionJob.objects.filter(pk=job.pk).update(total=total)
    job.total = total
    return total


def matching_through(rows: QuerySet[IndexedRecording], through: int):
    """`rows` as the preview saw them: nothing indexed after it."""
    return rows.filter(key__lte=through)


# ------------------------------------------------------------------ retention


def policy_rows(policy: RetentionPolicy, now: datetime | None = None):
    """The credential's indexed recordings that the policy's next run would delete."""
    return retention_rows(
        policy.credential,
        policy.days,
        status_family=policy.status_family,
        track=policy.track,
        source=policy.source,
        now=now,
    )


def retention_rows(
    credential: Credential,
    days: int,
    *,
    status_family: str = "",
    track: str = "",
    source: str = "",
    now: datetime | None = None,
):
    days = max(days, RetentionPolicy.MIN_DAYS)  # the floor holds whatever the row says
    cutoff = (now or timezone.now()) - timedelta(days=days)
    rows = index.indexed_recordings(credential).filter(created_at__lt=cutoff)
    if status_family:
        rows = rows.filter(status_family=status_family)
    if track:
        rows = rows.filter(track=track)
    if source:
        rows = rows.filter(source=source)
    return rows


@dataclass(frozen=True)
class DryRun:
    count: int
    first: list[IndexedRecording]
    cutoff: datetime


def dry_run(rows, days: int, now: datetime | None = None) -> DryRun:
    """How many the run would delete, and the oldest DRY_RUN_ROWS of them."""
    now = now or timezone.now()
    first = list(rows.order_by("created_at", "recording_id")[:DRY_RUN_ROWS])
    count = rows.count() if len(first) == DRY_RUN_ROWS else len(first)
    return DryRun(count, first, now - timedelta(days=max(days, RetentionPolicy.MIN_DAYS)))


def describe_policy(days: int, status_family: str = "", track: str = "", source: str = "") -> str:
    words = f"older than {days} day{'' if days == 1 else 's'}"
    if status_family:
        words += f" · status {STATUS_FAMILIES.get(status_family, status_family)}"
    if track:
        words += f" · track {track}"
    if source:
        words += f" · source {SOURCE_LABELS.get(source, source)}"
    return words


def start_retention_run(policy: RetentionPolicy, now: datetime) -> DeletionJob | None:
    """A job for the policy's run, with the recordings due frozen now; None when another
    scheduler started this run first (the policy's `last_run_at` is the guard)."""
    with transaction.atomic():
        flipped = RetentionPolicy.objects.filter(
            pk=policy.pk, last_run_at=policy.last_run_at, paused=False
        ).update(last_run_at=now)
        if not flipped:
            return None
        job = DeletionJob.objects.create(
            credential=policy.credential,
            kind=DeletionJob.Kind.RETENTION,
            policy=policy,
            username=f"retention policy {policy.pk}",
            description=describe_policy(
                policy.days, policy.status_family, policy.track, policy.source
            ),
            queued_at=now,
        )
        freeze(job, policy_rows(policy, now))
        if not job.total:
            DeletionJob.objects.filter(pk=job.pk).update(
                state=DeletionJob.State.DONE, finished_at=now
            )
            job.state = DeletionJob.State.DONE
    return job


# ------------------------------------------------------------------ running a job


class Stopped(Exception):
    """Raised by an `on_item` hook to stop the run as a dying worker would (tests)."""


def tag(job: DeletionJob) -> str:
    if job.kind == DeletionJob.Kind.RETENTION:
        return f"Retention policy #{job.policy_id} ({job.description}), job #{job.pk}"
    return f"Bulk delete job #{job.pk}"


def _claim(job_id: int, now: datetime) -> str | None:
    token = secrets.token_hex(16)
    stale = Q(heartbeat__lt=now - index.LEASE_TIMEOUT) | Q(heartbeat=None)
    free = Q(state__in=(DeletionJob.State.QUEUED, DeletionJob.State.WAITING)) | (
        Q(state=DeletionJob.State.RUNNING) & stale
    )
    claimed = DeletionJob.objects.filter(free, pk=job_id).update(
        state=DeletionJob.State.RUNNING, lease=token, heartbeat=now, resume_at=None
    )
    if not claimed:
        return None
    DeletionJob.objects.filter(pk=job_id, started_at=None).update(started_at=now)
    return token


def run(
    job_id: int,
    *,
    client: SignalWireClient | None = None,
    on_item: Callable[[DeletionItem], None] | None = None,
) -> DeletionJob | None:
    """Run (or go on with) a job in this process; None when another runner holds it or
    it is finished. Returns the job as it stands when this run ends."""
    token = _claim(job_id, timezone.now())
    if token is None:
        return None
    job = DeletionJob.objects.select_related("credential").get(pk=job_id)
    client = client or job.credential.fresh_client()
    try:
        return _work(job, token, client, on_item)
    except LeaseLost:
        return None


def _work(
    job: DeletionJob,
    token: str,
    client: SignalWireClient,
    on_item: Callable[[DeletionItem], None] | None,
) -> DeletionJob:
    while True:
        now = timezone.now()
        pending = DeletionItem.objects.filter(job=job, state=DeletionItem.State.PENDING)
        due = list(pending.filter(Q(retry_at=None) | Q(retry_at__lte=now)).order_by("pk")[:BATCH])
        if not due:
            later = pending.aggregate(at=Min("retry_at"))["at"]
            if later is None:
                return _finish(job, token)
            wait = (later - now).total_seconds()
            if wait > INLINE_WAIT_SECONDS:
                return _release(job, token, later)
            _sleep(job, token, wait)
            continue
        for item in due:
            outcome = _delete_one(job, client, item)
            _beat(job, token)
            if outcome == "hopeless":
                return _finish(job, token)
            if on_item is not None:
                on_item(item)
            if outcome == "rate_limited":
                break  # the rest of the batch waits too


def _delete_one(job: DeletionJob, client: SignalWireClient, item: DeletionItem) -> str:
    try:
        client.delete_recording(item.recording_id, item.family)
    except RecordingNotFound:
        detail = "Already gone: SignalWire answered 404"
        if item.attempts:
            detail += " (an earlier attempt that got no answer may have deleted it)"
        _settle(job, item, DeletionItem.State.GONE, detail)
        return "gone"
    except RateLimited as error:
        return _rate_limited(job, item, error)
    except TRANSIENT as error:
        return _transient(job, item, error)
    except HOPELESS as error:
        reason = _reason(error)
        _settle(job, item, DeletionItem.State.FAILED, reason)
        _fail_pending(job, reason)
        return "hopeless"
    except SignalWireError as error:
        _settle(job, item, DeletionItem.State.FAILED, _reason(error))
        return "failed"
    _settle(job, item, DeletionItem.State.DELETED, "")
    return "deleted"


def _reason(error: SignalWireError) -> str:
    explanation = explain(error)
    return f"{explanation.title}. {explanation.message}"[:200]


def _rate_limited(job: DeletionJob, item: DeletionItem, error: RateLimited) -> str:
    seconds = error.retry_after or DEFAULT_RETRY_AFTER
    if item.attempts + 1 >= RATE_LIMIT_TRIES:
        _settle(job, item, DeletionItem.State.FAILED, _reason(error) + " (gave up retrying)")
        return "failed"
    _retry_later(item, seconds, f"Rate limited by SignalWire; tried again after {seconds} s")
    return "rate_limited"


def _transient(job: DeletionJob, item: DeletionItem, error: SignalWireError) -> str:
    if item.attempts + 1 >= TRANSIENT_TRIES:
        reason = f"{_reason(error)} ({item.attempts + 1} attempts)"
        _settle(job, item, DeletionItem.State.FAILED, reason[:200])
        return "failed"
    seconds = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2**item.attempts)
    _retry_later(item, seconds, explain(error).title)
    return "retry"


def _retry_later(item: DeletionItem, seconds: float, detail: str) -> None:
    item.attempts += 1
    item.retry_at = timezone.now() + timedelta(seconds=seconds)
    item.detail = detail[:200]
    item.save(update_fields=["attempts", "retry_at", "detail"])


COUNTERS: dict[str, str] = {
    DeletionItem.State.DELETED: "deleted",
    DeletionItem.State.GONE: "gone",
    DeletionItem.State.FAILED: "failed",
}


def _settle(job: DeletionJob, item: DeletionItem, state: str, detail: str) -> None:
    """The item's outcome, its counter, the index and cache, and the audit row, at once."""
    now = timezone.now()
    with transaction.atomic():
        changed = DeletionItem.objects.filter(pk=item.pk, state=DeletionItem.State.PENDING).update(
            state=state, detail=detail[:200], done_at=now, attempts=F("attempts") + 1
        )
        if not changed:
            return
        counter = COUNTERS[state]
        DeletionJob.objects.filter(pk=job.pk).update(**{counter: F(counter) + 1})
        if state != DeletionItem.State.FAILED:
            index.forget_recording(job.credential, item.recording_id)
        if state == DeletionItem.State.DELETED:
            action, words = AuditEvent.Action.DELETE, tag(job)
        else:
            action, words = AuditEvent.Action.DELETE_FAILED, f"{detail} · {tag(job)}"
        audit.record_for(
            job.user,
            job.username,
            action,
            recording_id=item.recording_id,
            credential=job.credential,
            detail=words,
            remote_addr=job.remote_addr,
            user_agent=job.user_agent,
        )
    if state != DeletionItem.State.FAILED:
        credential_cache.forget_recording(job.credential, item.recording_id)
    item.state = state


def _fail_pending(job: DeletionJob, reason: str) -> None:
    """Every item still pending fails with `reason` (credentials refused: none can work).
    Audited as one failed attempt each, so the trail says what was not deleted."""
    pending = DeletionItem.objects.filter(job=job, state=DeletionItem.State.PENDING)
    while batch := list(pending.order_by("pk")[:1000]):
        for item in batch:
            _settle(job, item, DeletionItem.State.FAILED, reason)


def _beat(job: DeletionJob, token: str) -> None:
    if not DeletionJob.objects.filter(pk=job.pk, lease=token).update(heartbeat=timezone.now()):
        raise LeaseLost()


class LeaseLost(Exception):
    """Another runner took the job over (ours looked dead)."""


def _sleep(job: DeletionJob, token: str, seconds: float) -> None:
    """Wait for a retry in this run, keeping the lease alive."""
    end = time.monotonic() + max(0.0, seconds)
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(left, 5.0))
        _beat(job, token)


def _release(job: DeletionJob, token: str, resume_at: datetime) -> DeletionJob:
    DeletionJob.objects.filter(pk=job.pk, lease=token).update(
        state=DeletionJob.State.WAITING, lease="", resume_at=resume_at
    )
    job.refresh_from_db()
    return job


def _finish(job: DeletionJob, token: str) -> DeletionJob:
    DeletionJob.objects.filter(pk=job.pk, lease=token).update(
        state=DeletionJob.State.DONE, lease="", finished_at=timezone.now(), resume_at=None
    )
    job.refresh_from_db()
    logger.info(
        "Deletion job %s finished: %s deleted, %s already gone, %s failed.",
        job.pk,
        job.deleted,
        job.gone,
        job.failed,
    )
    return job


def is_due(job: DeletionJob, now: datetime) -> bool:
    """The job needs a worker and none can be expected to be on it: queued long ago (the
    task was lost), running with a dead runner, or waiting past its `resume_at`; and not
    queued again since then (within index.QUEUE_PATIENCE)."""
    if job.state == DeletionJob.State.QUEUED:
        return job.queued_at is None or job.queued_at <= now - index.QUEUE_PATIENCE
    if job.state == DeletionJob.State.RUNNING:
        if job.heartbeat is not None and job.heartbeat >= now - index.LEASE_TIMEOUT:
            return False
        since = job.heartbeat
    elif job.state == DeletionJob.State.WAITING:
        if job.resume_at is not None and job.resume_at > now:
            return False
        since = job.resume_at
    else:
        return False
    queued = job.queued_at
    if queued is None or (since is not None and queued < since):
        return True
    return queued <= now - index.QUEUE_PATIENCE


def unfinished() -> QuerySet[DeletionJob]:
    return DeletionJob.objects.exclude(state=DeletionJob.State.DONE)


def prune_items(now: datetime | None = None) -> int:
    """Drop the items of jobs finished more than ITEMS_KEPT ago; how many went."""
    before = (now or timezone.now()) - ITEMS_KEPT
    old = DeletionItem.objects.filter(
        job__state=DeletionJob.State.DONE, job__finished_at__lt=before
    )
    deleted, _ = old.delete()
    return deleted


def report(job: DeletionJob, limit: int = 500) -> dict:
    """The end report: items that were already gone and that failed, with why."""
    items = DeletionItem.objects.filter(job=job).order_by("pk")
    return {
        "gone_items": list(items.filter(state=DeletionItem.State.GONE)[:limit]),
        "failed_items": list(items.filter(state=DeletionItem.State.FAILED)[:limit]),
        "retrying": list(items.filter(state=DeletionItem.State.PENDING, attempts__gt=0)[:limit]),
        "limit": limit,
        "items_pruned": job.finished_at is not None
        and job.finished_at < timezone.now() - ITEMS_KEPT,
    }
