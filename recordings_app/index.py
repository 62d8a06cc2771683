"""The local index of recording metadata (never audio), and the sync that fills it.

A sync walks SignalWire's list newest first, `page_size=1000`, through
`SignalWireClient.list_recordings` only, and upserts each page in one transaction
together with its progress (cursor, pages read), so a worker killed between pages
resumes at the next page. All state is in the database (`IndexSync`): any number of
app servers, workers and foreground commands may share it.

Two kinds of pass:
- full: every page. At the end, indexed recordings it did not see are marked vanished
  (deleted upstream). The first sync of a credential is full, and so is any
  `--full` run.
- incremental: stops at the first page reaching back past a horizon: RECHECK_DAYS
  before the newest recording the last finished pass saw. So it reads every new
  recording, then re-reads the last few days, whose status and price can still
  change (an in-progress recording completes, a price is settled). The rule is per
  page: the page that crosses the horizon is the last one read. Recordings in the
  span it re-read that it did not see are marked vanished too.

A pass is held by a lease (a random token plus a heartbeat per page): a second
runner for the same credential backs off, and a pass whose heartbeat is older than
LEASE_TIMEOUT (its worker died) is taken over and resumed from its cursor.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from recordings_app.errors import explain
from recordings_app.models import Credential, IndexedRecording, IndexSync
from recordings_app.signalwire import Recording, SignalWireClient, SignalWireError

PAGE_SIZE = 1000  # SignalWire's maximum: the fewest requests
RECHECK_DAYS = 3
LEASE_TIMEOUT = timedelta(minutes=2)
PRICE_PLACES = Decimal("0.000001")
UPDATED_FIELDS = [
    "created_at",
    "created_epoch",
    "updated_at",
    "duration_seconds",
    "price",
    "price_unit",
    "status",
    "error_code",
    "track",
    "stereo",
    "byte_size",
    "source",
    "leg_id",
    "conference_id",
    "url",
    "last_seen",
    "vanished_at",
]


class LeaseLost(Exception):
    """Another runner took this pass over (ours looked dead): stop without writing."""


def indexed_recordings(credential: Credential):
    """The credential's indexed recordings that still exist upstream as far as we know."""
    return IndexedRecording.objects.filter(credential=credential, vanished_at=None)


def sync_state(credential: Credential) -> IndexSync:
    state, _ = IndexSync.objects.get_or_create(credential=credential)
    return state


def forget_recording(credential: Credential, recording_id: str) -> None:
    """The dashboard deleted it upstream: drop it from the index now, not at the next sync."""
    IndexedRecording.objects.filter(credential=credential, recording_id=recording_id).delete()


@dataclass(frozen=True)
class Progress:
    pages_read: int
    recordings_seen: int
    seconds_left: float | None


def is_busy(state: IndexSync) -> bool:
    return state.state in (IndexSync.State.QUEUED, IndexSync.State.RUNNING)


def sync_status(credential: Credential, reload=None) -> dict:
    """What recordings/_index_status.html shows: "indexed as of", a refresh button, or
    the progress of a running sync. `reload`: the page shows indexed data, so a finished
    sync reloads it."""
    state = sync_state(credential)
    progress_now = progress(state)
    return {
        "sync": state,
        "busy": is_busy(state),
        "progress": progress_now,
        "time_left": describe_seconds(progress_now.seconds_left),
        "reload": "1" if reload else "",
    }


def progress(state: IndexSync, now: datetime | None = None) -> Progress:
    """How far the pass is; time left only where a total can be expected (a re-sync:
    the index's own count) and the pass has a measurable rate."""
    now = now or timezone.now()
    seconds_left = None
    if state.expected_total and state.recordings_seen and state.pass_started_at:
        elapsed = (now - state.pass_started_at).total_seconds()
        remaining = max(0, state.expected_total - state.recordings_seen)
        seconds_left = elapsed / state.recordings_seen * remaining
    return Progress(state.pages_read, state.recordings_seen, seconds_left)


def run_sync(
    credential: Credential,
    *,
    full: bool = False,
    page_size: int = PAGE_SIZE,
    client: SignalWireClient | None = None,
    on_page: Callable[[IndexSync], None] | None = None,
) -> IndexSync | None:
    """Run (or resume) a pass for one credential in this process. Returns the final
    state, or None if another runner holds the pass. Upstream failures are recorded on
    the state (the cursor is kept, so the next run resumes) and raised."""
    token = _claim(credential, full)
    if token is None:
        return None
    state = IndexSync.objects.get(credential=credential)
    client = client or credential.fresh_client()
    # One page is fetched ahead while the current one is stored, so waiting on upstream
    # and writing to the database overlap. Only this function's own thread pool of one
    # (never a view's thread); the fetcher touches no database, and the cursor is still
    # committed page by page in order, so a kill loses at most the page fetched ahead.
    fetcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="index-fetch")
    try:
        ahead = fetcher.submit(client.list_recordings, state.cursor or None, page_size=page_size)
        while True:
            page = ahead.result()
            if not _is_last(state, page):
                ahead = fetcher.submit(
                    client.list_recordings, page.next_cursor, page_size=page_size
                )
            state = _store_page(credential, state, token, page)
            if on_page:
                on_page(state)
            if not state.cursor:
                return state
    except LeaseLost:
        return None
    except SignalWireError as error:
        explanation = explain(error)
        IndexSync.objects.filter(pk=state.pk, lease=token).update(
            state=IndexSync.State.FAILED,
            lease="",
            last_error=f"{explanation.title}. {explanation.message}",
        )
        raise
    finally:
        fetcher.shutdown(wait=True, cancel_futures=True)


def _is_last(state: IndexSync, page) -> bool:
    """The pass ends with this page: upstream has no next one, or an incremental pass
    has reached back past its horizon."""
    if not page.next_cursor:
        return True
    times = [rec.created_at for rec in page.recordings if rec.id and rec.created_at]
    return state.horizon is not None and bool(times) and min(times) < state.horizon


def is_stale(state: IndexSync, now: datetime) -> bool:
    """The runner holding the pass showed no sign of life for LEASE_TIMEOUT."""
    return state.heartbeat is None or state.heartbeat < now - LEASE_TIMEOUT


def _claim(credential: Credential, full: bool) -> str | None:
    """Take the credential's pass (starting a new one unless one is half done)."""
    state = sync_state(credential)
    now = timezone.now()
    token = secrets.token_hex(16)
    free = ~Q(state=IndexSync.State.RUNNING) | Q(heartbeat__lt=now - LEASE_TIMEOUT)
    claimed = (
        IndexSync.objects.filter(free, pk=state.pk)
        .filter(lease=state.lease)  # nobody claimed it since we read it
        .update(state=IndexSync.State.RUNNING, lease=token, heartbeat=now, last_error="")
    )
    if not claimed:
        return None
    if not state.cursor:  # no pass half done: start one
        full = full or state.complete_through is None
        horizon = None if full else state.complete_through - timedelta(days=RECHECK_DAYS)
        known = indexed_recordings(credential)
        if horizon is not None:
            known = known.filter(created_at__gte=horizon)
        expected = known.count() if state.complete_through else None
        IndexSync.objects.filter(pk=state.pk, lease=token).update(
            full_pass=full,
            pass_started_at=now,
            pass_newest=None,
            horizon=horizon,
            pages_read=0,
            recordings_seen=0,
            expected_total=expected or None,
        )
    return token


def _store_page(credential: Credential, state: IndexSync, token: str, page) -> IndexSync:
    now = timezone.now()
    recordings = [rec for rec in page.recordings if rec.id and rec.created_at]
    times = [rec.created_at for rec in recordings]
    oldest = min(times, default=None)
    newest = state.pass_newest or max(times, default=None)
    done = _is_last(state, page)
    crossed = done and bool(page.next_cursor)  # ended at the horizon, not at the end
    changes = {
        "cursor": "" if done else page.next_cursor,
        "pages_read": state.pages_read + 1,
        "recordings_seen": state.recordings_seen + len(recordings),
        "pass_newest": newest,
        "heartbeat": now,
    }
    if done:
        changes.update(
            state=IndexSync.State.IDLE,
            lease="",
            complete_through=newest or state.complete_through,
            indexed_as_of=state.pass_started_at,
        )
    with transaction.atomic():
        if not IndexSync.objects.filter(pk=state.pk, lease=token).update(**changes):
            raise LeaseLost()
        _upsert(credential, recordings, now)
        if done:
            _mark_vanished(credential, state, oldest if crossed else None, now)
    for name, value in changes.items():
        setattr(state, name, value)
    return state


def _upsert(credential: Credential, recordings: list[Recording], now: datetime) -> None:
    """Insert or update a page of recordings in one executemany.

    Not bulk_create(update_conflicts=True): on SQLite Django splits it into batches of
    999 // 19 = 52 rows and prepares every value through its field, which made a page
    of 1,000 cost ten times its wait on upstream. INSERT ... ON CONFLICT DO UPDATE is
    the same statement bulk_create writes, understood by SQLite and Postgres alike."""
    if not recordings:
        return
    ops = connection.ops
    table = ops.quote_name(IndexedRecording._meta.db_table)
    columns = ["credential_id", "recording_id", *UPDATED_FIELDS]
    placeholders = ", ".join(["%s"] * len(columns))
    updates = ", ".join(
        f"{ops.quote_name(c)} = EXCLUDED.{ops.quote_name(c)}" for c in UPDATED_FIELDS
    )
    # Only our own table and column names go into the text; every value is a parameter.
    names = ", ".join(map(ops.quote_name, columns))
    insert = f"INSERT INTO {table} ({names}) VALUES ({placeholders}) "  # noqa: S608
    sql = insert + f"ON CONFLICT (credential_id, recording_id) DO UPDATE SET {updates}"
    when = ops.adapt_datetimefield_value
    seen = when(now)
    rows = []
    for rec in recordings:
        price = rec.price.quantize(PRICE_PLACES) if rec.price is not None else None
        rows.append(
            (
                credential.pk,
                rec.id,
                when(rec.created_at),
                int(rec.created_at.timestamp()),
                when(rec.updated_at),
                rec.duration_seconds,
                price,
                (rec.price_unit or "")[:8],
                (rec.status or "")[:32],
                (rec.error_code or "")[:64],
                (rec.track or "")[:32],
                rec.stereo,
                rec.byte_size,
                rec.source,
                rec.leg_id or "",
                rec.conference_id or "",
                rec.url or "",
                seen,
                None,  # vanished_at: seen again, so not vanished
            )
        )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _mark_vanished(credential, state, oldest, now) -> None:
    """Recordings in the span this pass covered that it did not see are gone upstream.
    A pass covers everything newer than the oldest recording of its last page (the list
    is newest first, so nothing indexed is newer than its first page); a pass that
    reached the last page covers everything."""
    unseen = indexed_recordings(credential).filter(last_seen__lt=state.pass_started_at)
    if oldest is not None:
        unseen = unseen.filter(created_at__gt=oldest)
    unseen.update(vanished_at=now)


def exact(amount: Decimal | None) -> Decimal | None:
    """A sum of prices from the database, as the exact decimal it is.

    Postgres sums NUMERIC exactly; SQLite keeps decimals as floating point and Django
    hands its sums back unrounded (4.739999999999999). Every stored price has at most
    six places, so rounding a sum to six places gives the exact total back (the float
    error of summing even millions of prices is far below a millionth)."""
    return None if amount is None else amount.quantize(PRICE_PLACES)


def describe_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"
