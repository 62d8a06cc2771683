"""The local index of recording metadata (never audio), and the sync that fills it.

A pass reads both API families' lists, `page_size=1000`, through the client only:
RELAY (`SignalWireClient.list_recordings`), then Compatibility
(`list_compat_recordings`). Each page is upserted in one transaction together with the
pass's progress (family, cursor, pages read), so a worker killed between pages resumes
at the next page. All state is in the database (`IndexSync`): any number of app
servers, workers and foreground commands may share it.

Two kinds of pass:
- full: every page of both lists. At the end of each list, that family's indexed
  recordings the pass did not see are marked vanished (deleted upstream). The first
  sync of a credential is full, and so is any `--full` run (the worker's scheduler asks
  for one a day, see tasks.py).
- incremental: reads each list back to a horizon, RECHECK_DAYS before the newest
  recording of that family the last pass saw, so it reads every new recording and
  re-reads the last few days, whose status and price can still change. Recordings in
  the span it re-read that it did not see are marked vanished too.
  - Compatibility is documented newest first and filters by date: the pass asks for
    `DateCreated>` the horizon and reads that to its end.
  - SignalWire: RELAY's order is not documented and it has no date filter. The pass
    stops at the first page reaching back past the horizon only while the pages it read
    show the list newest first (created_at never increasing within a page, nor from
    one page to the next) and it has met the newest recording the last pass saw (or a
    newer one). The first sign of another order turns the rest of the read into a full
    one (nothing is lost, and everything is reconciled) and is remembered
    (`relay_newest_first`): later passes read that space's RELAY list to the end
    straight away.

A family whose list is refused (401, 403 or 404 on its first page) is skipped for the
pass, in words on the state (`unavailable`), and the other family is still indexed;
the sync fails only when neither can be read, or on any other error.

A pass is held by a lease (a random token plus a heartbeat per page): a second
runner for the same credential backs off, and a pass whose heartbeat is older than
LEASE_TIMEOUT (its worker died) is taken over and resumed from its cursor. Until then
the page shows such a pass as stopped, with the button that starts it again.

Nothing upstream sends stops a pass: a number the database cannot hold (a duration of
10**12 s, a size over 2**63) is stored as unknown, and the row is shown as "—" there.
Any error that does stop one (other than a dying process) leaves the state FAILED, with
the cursor kept for the next run, never RUNNING with nobody running it.

Who called whom is joined after the lists are read (`join_numbers`): in bulk, never a
request per recording. For the time span of the recordings whose numbers are not known
yet, it reads voice logs (RELAY legs) and Compatibility calls in pages of 1,000 and
matches them by leg id and call sid; a recording whose leg is not in that window is
then looked up once by id (at most MAX_LOOKUPS a pass), and the answer, numbers or
"not found", is remembered. Numbers that cannot be read (401/403, 5xx, a malformed
answer) never fail the sync: the rows say why, and a later pass asks again.

A recording deleted in the dashboard is marked vanished at once (`forget_recording`),
and a pass that started before the delete does not bring it back from a page it had
already fetched.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import overload

from django.db import connection, transaction
from django.db.models import F, Max, Min, Q
from django.utils import timezone

from recordings_app import rollups
from recordings_app.errors import explain
from recordings_app.models import Credential, IndexedRecording, IndexSync
from recordings_app.signalwire import (
    FAMILIES,
    FAMILY_LABELS,
    CredentialsRejected,
    LegNotFound,
    Parties,
    Recording,
    RecordingPage,
    ScopeMissing,
    SignalWireClient,
    SignalWireError,
    number_digits,
    status_family,
)
from recordings_app.signalwire.merged import REFUSALS

logger = logging.getLogger(__name__)

PAGE_SIZE = 1000  # SignalWire's maximum: the fewest requests
RECHECK_DAYS = 3
# Work the worker holds with a heartbeat (a sync pass, a deletion job) is taken over when
# its runner showed no sign of life for this long.
LEASE_TIMEOUT = timedelta(minutes=2)
# A task queued for the worker (a sync, a deletion job, a talk-time analysis) that no
# worker picked up within this time is queued again: its worker was down or it was lost.
QUEUE_PATIENCE = timedelta(minutes=10)
PRICE_PLACES = Decimal("0.000001")
# The largest values the columns hold on every database (IntegerField, BigIntegerField).
MAX_DURATION = 2**31 - 1
MAX_BYTES = 2**63 - 1
UPDATED_FIELDS = [
    "created_at",
    "created_epoch",
    "updated_at",
    "duration_seconds",
    "price",
    "price_unit",
    "status",
    "status_family",
    "error_code",
    "track",
    "stereo",
    "byte_size",
    "source",
    "leg_id",
    "conference_id",
    "family",
    "cxml_source",
    "call_sid",
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
    """The dashboard deleted it upstream: drop it from the index now, not at the next
    sync. Marked vanished rather than deleted, with the time: a pass already under way
    may hold a page fetched before the delete, and `_upsert` leaves alone a row that
    vanished after its pass started."""
    rows = IndexedRecording.objects.filter(credential=credential, recording_id=recording_id)
    with transaction.atomic():
        days = rollups.days_of(rows.values_list("created_epoch", flat=True))
        rows.update(vanished_at=timezone.now())
        rollups.refresh(credential.pk, days)


@dataclass(frozen=True)
class Progress:
    pages_read: int
    recordings_seen: int
    seconds_left: float | None


def is_stopped(state: IndexSync, now: datetime | None = None) -> bool:
    """A pass marked running whose runner stopped showing signs of life: its worker
    died. The next runner takes it over; until then it is not running."""
    return state.state == IndexSync.State.RUNNING and is_stale(state, now or timezone.now())


def is_busy(state: IndexSync) -> bool:
    if is_stopped(state):
        return False
    return state.state in (IndexSync.State.QUEUED, IndexSync.State.RUNNING)


def sync_status(credential: Credential, reload=None) -> dict:
    """What recordings/_index_status.html shows: "indexed as of", a refresh button, or
    the progress of a running sync. `reload`: the page shows indexed data, so a finished
    sync reloads it. A pass whose worker died shows as stopped, with the button."""
    state = sync_state(credential)
    progress_now = progress(state)
    return {
        "sync": state,
        "busy": is_busy(state),
        "stopped": is_stopped(state),
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
    state, or None if another runner holds the pass. A family refused on its first page
    is skipped and named on the state; any other upstream failure, or both families
    refused, is recorded on the state (the cursor is kept, so the next run resumes) and
    raised."""
    token = _claim(credential, full)
    if token is None:
        return None
    state = IndexSync.objects.get(credential=credential)
    client = client or credential.fresh_client()

    def read(family: str, cursor: str | None, horizon: datetime | None) -> RecordingPage:
        if family == "compat":
            # The date filter goes on the first page; upstream's next links carry it on.
            after = horizon if cursor is None else None
            return client.list_compat_recordings(cursor, page_size=page_size, created_after=after)
        return client.list_recordings(cursor, page_size=page_size)

    # One page is fetched ahead while the current one is stored, so waiting on upstream
    # and writing to the database overlap. Only this function's own thread pool of one
    # (never a view's thread); the fetcher touches no database, and the cursor is still
    # committed page by page in order, so a kill loses at most the page fetched ahead.
    fetcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="index-fetch")
    refused: dict[str, SignalWireError] = {}
    try:
        while state.state == IndexSync.State.RUNNING:
            family = state.family
            ahead = fetcher.submit(read, family, state.cursor or None, state.horizon)
            while state.state == IndexSync.State.RUNNING and state.family == family:
                try:
                    page = ahead.result()
                except tuple(REFUSALS) as error:
                    if state.cursor:
                        raise  # refused halfway through a list: fail, and resume later
                    refused[family] = error
                    if set(state.unavailable) | {family} >= set(FAMILIES):
                        # Nothing can be read: the sync fails, and the next starts afresh.
                        IndexSync.objects.filter(pk=state.pk, lease=token).update(
                            family=FAMILIES[0], cursor=""
                        )
                        raise refused.get(FAMILIES[0], error) from None
                    state = _skip_family(state, token, family, error)
                    break
                verdict = _judge(state, page)
                if not verdict.last:
                    ahead = fetcher.submit(read, family, page.next_cursor, None)
                state = _store_page(credential, state, token, page, verdict)
                if on_page:
                    on_page(state)
        _join_after_pass(credential, client, state, page_size)
        return state
    except LeaseLost:
        return None
    except SignalWireError as error:
        explanation = explain(error)
        _fail(state, token, f"{explanation.title}. {explanation.message}")
        raise
    except Exception:
        # Not SignalWire's doing: a bug or the database. Failed, not left running; the
        # cursor stays, so the next run resumes. The details go to the log, not the page.
        logger.exception("The index sync of credential %s stopped.", credential.pk)
        _fail(state, token, "The sync stopped on an unexpected error. Try again.")
        raise
    finally:
        fetcher.shutdown(wait=True, cancel_futures=True)


def _fail(state: IndexSync, token: str, words: str) -> None:
    IndexSync.objects.filter(pk=state.pk, lease=token).update(
        state=IndexSync.State.FAILED, lease="", last_error=words
    )


@dataclass(frozen=True)
class _Verdict:
    """What a page means for the read of its family's list."""

    times: list[datetime]  # its indexable recordings' creation times, in list order
    in_order: bool  # RELAY: it continues a newest-first list (Compatibility: not asked)
    last: bool  # the family's read ends with it


def _judge(state: IndexSync, page: RecordingPage) -> _Verdict:
    times = [rec.created_at for rec in page.recordings if rec.id and rec.created_at]
    if state.family != "relay":
        # Compatibility: an incremental read asked for DateCreated> its horizon, so it
        # reads what it was given to the end; the order does not matter.
        return _Verdict(times, True, not page.next_cursor)
    in_order = newest_first(times, state.page_oldest)
    stops = in_order and state.horizon is not None and _reaches_back(state, times)
    return _Verdict(times, in_order, not page.next_cursor or stops)


def newest_first(times: list[datetime], before: datetime | None) -> bool:
    """The page continues a newest-first list: no recording newer than the one listed
    before it, and none newer than the oldest of the previous page (`before`). Equal
    times are in order."""
    if before is not None and times and max(times) > before:
        return False
    return all(earlier >= later for earlier, later in pairwise(times))


def _reaches_back(state: IndexSync, times: list[datetime]) -> bool:
    """An incremental RELAY read (whose pages so far were newest first) may end with
    this page: it reaches back past the horizon, and the read has met a recording at
    least as new as the newest the last pass saw. The second condition is what shows
    the first pages really held the newest recordings: a list whose pages are each in
    order but come oldest page first starts with old recordings only, so it is read on
    until the next page gives the order away."""
    horizon, through = state.horizon, state.relay_complete_through
    if not times or horizon is None or through is None:
        return False  # asked only with a horizon, which comes of a complete_through
    newest = max(times if state.pass_newest is None else [*times, state.pass_newest])
    return min(times) < horizon and newest >= through


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
    if not state.cursor and state.family == FAMILIES[0]:  # no pass half done: start one
        never = state.relay_complete_through is None and state.compat_complete_through is None
        state.full_pass = full or never
        IndexSync.objects.filter(pk=state.pk, lease=token).update(
            full_pass=state.full_pass,
            pass_started_at=now,
            pages_read=0,
            recordings_seen=0,
            expected_total=_expected(credential, state),
            unavailable={},
            **_start_family(state, FAMILIES[0]),
        )
    return token


def _horizon(state: IndexSync, family: str) -> datetime | None:
    """Where this pass's read of `family` may stop; None: read all of it."""
    through = getattr(state, f"{family}_complete_through")
    if state.full_pass or through is None:
        return None
    if family == "relay" and not state.relay_newest_first:
        return None  # SignalWire: this space's RELAY list was seen in another order
    return through - timedelta(days=RECHECK_DAYS)


def _expected(credential: Credential, state: IndexSync) -> int | None:
    """How many recordings the pass will likely read: what the index holds in the spans
    it re-reads. Unknown (None) before a first finished pass."""
    if state.indexed_as_of is None:
        return None
    total = 0
    for family in FAMILIES:
        known = indexed_recordings(credential).filter(family=family)
        horizon = _horizon(state, family)
        if horizon is not None:
            known = known.filter(created_at__gte=horizon)
        total += known.count()
    return total or None


def _start_family(state: IndexSync, family: str) -> dict:
    return {
        "family": family,
        "cursor": "",
        "pass_newest": None,
        "page_oldest": None,
        "horizon": _horizon(state, family),
    }


def _after(state: IndexSync, family: str) -> dict:
    """The changes that move the pass on from `family`'s list: to the next family's
    first page or, after the last family, to the end of the pass."""
    following = FAMILIES.index(family) + 1
    if following < len(FAMILIES):
        return _start_family(state, FAMILIES[following])
    end = {
        "state": IndexSync.State.IDLE,
        "lease": "",
        "family": FAMILIES[0],
        "cursor": "",
        "indexed_as_of": state.pass_started_at,
    }
    if state.full_pass:
        end["last_full_at"] = state.pass_started_at
    return end


def _store_page(
    credential: Credential, state: IndexSync, token: str, page: RecordingPage, verdict: _Verdict
) -> IndexSync:
    now = timezone.now()
    family = state.family
    recordings = [rec for rec in page.recordings if rec.id and rec.created_at]
    times = verdict.times
    newest = max([t for t in (state.pass_newest, *times) if t is not None], default=None)
    changes = {
        "cursor": "" if verdict.last else page.next_cursor,
        "pages_read": state.pages_read + 1,
        "recordings_seen": state.recordings_seen + len(recordings),
        "pass_newest": newest,
        "page_oldest": min(times, default=state.page_oldest),
        "heartbeat": now,
    }
    if not verdict.in_order:
        # SignalWire: this space's RELAY list is not newest first. The read goes on to
        # the end (nothing is lost, and all of it is reconciled), and later passes know.
        changes.update(relay_newest_first=False, horizon=None)
    since = None  # the family's recordings newer than this were all re-read (None: all)
    if verdict.last:
        if page.next_cursor:  # RELAY, newest first, stopped past its horizon
            since = min(times)
        elif family == "compat" and state.horizon is not None:
            # SignalWire: dates have whole seconds, and whether `DateCreated>` includes
            # the second it names is not documented: what is newer than it was re-read.
            since = state.horizon.replace(microsecond=0)
        through = f"{family}_complete_through"
        changes[through] = newest or getattr(state, through)
        changes.update(_after(state, family))
    with transaction.atomic():
        if not IndexSync.objects.filter(pk=state.pk, lease=token).update(**changes):
            raise LeaseLost()
        _upsert(credential, recordings, now, state.pass_started_at or now)
        if verdict.last:
            _mark_vanished(credential, family, state.pass_started_at, since, now)
    for name, value in changes.items():
        setattr(state, name, value)
    return state


def _skip_family(state: IndexSync, token: str, family: str, error: SignalWireError) -> IndexSync:
    """`family`'s list is refused: say so on the state and go on with the pass."""
    words = next(words for kind, words in REFUSALS.items() if isinstance(error, kind))
    changes = {
        "unavailable": {
            **state.unavailable,
            family: f"{FAMILY_LABELS[family]} recordings: {words}",
        },
        "heartbeat": timezone.now(),
        **_after(state, family),
    }
    if not IndexSync.objects.filter(pk=state.pk, lease=token).update(**changes):
        raise LeaseLost()
    for name, value in changes.items():
        setattr(state, name, value)
    return state


def _upsert(
    credential: Credential, recordings: list[Recording], now: datetime, pass_started: datetime
) -> None:
    """Insert or update a page of recordings in one executemany. A row the dashboard
    deleted after `pass_started` stays vanished: the page may predate the delete.

    Not bulk_create(update_conflicts=True): on SQLite Django splits it into batches of
    999 // 23 = 43 rows and prepares every value through its field, which made a page
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
    vanished = f"{table}.{ops.quote_name('vanished_at')}"
    sql = insert + (
        f"ON CONFLICT (credential_id, recording_id) DO UPDATE SET {updates} "
        f"WHERE {vanished} IS NULL OR {vanished} < %s"
    )
    when = ops.adapt_datetimefield_value
    seen = when(now)
    started = when(pass_started)
    rows = []
    for rec in recordings:
        assert rec.created_at is not None  # _store_page passes only recordings with one
        price = rec.price.quantize(PRICE_PLACES) if rec.price is not None else None
        rows.append(
            (
                credential.pk,
                rec.id,
                when(rec.created_at),
                int(rec.created_at.timestamp()),
                when(rec.updated_at),
                _fitting(rec.duration_seconds, MAX_DURATION),
                price,
                (rec.price_unit or "")[:8],
                (rec.status or "")[:32],
                status_family(rec.status, rec.error_code),
                (rec.error_code or "")[:64],
                (rec.track or "")[:32],
                rec.stereo,
                _fitting(rec.byte_size, MAX_BYTES),
                rec.source,
                rec.leg_id or "",
                rec.conference_id or "",
                rec.family,
                (rec.cxml_source or "")[:32],
                rec.call_sid or "",
                rec.url or "",
                seen,
                None,  # vanished_at: seen again, so not vanished
                started,  # for the WHERE of the update
            )
        )
    # One transaction: on SQLite each statement would otherwise commit (and sync the
    # WAL) on its own, a third of a millisecond apiece.
    # The days the page touches, and any day a row of it was on before (a recording whose
    # time changed upstream leaves the old day), summed again for the spend report.
    known = IndexedRecording.objects.filter(
        credential=credential, recording_id__in=[rec.id for rec in recordings]
    ).values_list("created_epoch", flat=True)
    with transaction.atomic():
        days = rollups.days_of([row[3] for row in rows]) | rollups.days_of(known)
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        rollups.refresh(credential.pk, days)


# ------------------------------------------------------------------ who called whom

# A leg's voice log (a call's start) is created before its recording starts, by as much
# as the recording waited into the call; the window reaches this far before the oldest
# recording. A leg outside it is looked up by id instead.
JOIN_BEFORE = timedelta(hours=1)
JOIN_AFTER = timedelta(minutes=5)  # clocks of two services
# Lookups by id in one pass, at most: a window that missed everything costs no more.
MAX_LOOKUPS = 200


@dataclass(frozen=True)
class _Join:
    """How one family's recordings find their parties: by which column, from which list,
    and by which lookup."""

    family: str
    column: str  # leg_id or call_sid

    def list_page(self, client, cursor, page_size, after, before):
        if self.family == "compat":
            return client.list_calls(cursor, page_size, started_after=after, started_before=before)
        return client.list_voice_logs(cursor, page_size, created_after=after, created_before=before)


JOINS = (_Join("relay", "leg_id"), _Join("compat", "call_sid"))


@dataclass
class JoinReport:
    """What a join did: for the benchmarks and the log."""

    list_requests: int = 0
    lookups: int = 0
    matched: int = 0


def _join_after_pass(credential, client, state: IndexSync, page_size: int) -> None:
    """A finished pass joins the numbers of what it stored; nothing about numbers may
    fail the sync, which has already succeeded."""
    if state.state != IndexSync.State.IDLE:
        return
    try:
        join_numbers(credential, client, retry=state.full_pass, page_size=page_size)
    except Exception:
        logger.exception("Joining numbers for credential %s stopped.", credential.pk)


def join_numbers(
    credential: Credential,
    client: SignalWireClient,
    *,
    retry: bool = False,
    page_size: int = PAGE_SIZE,
) -> JoinReport:
    """Give the credential's indexed recordings whose numbers are pending their parties.
    `retry`: also ask again for those that could not be read last time (refused, failed);
    a full pass does, once a day. "Not found" is remembered and never asked again."""
    report = JoinReport()
    rows = indexed_recordings(credential)
    if retry:
        rows.filter(numbers_state__in=("refused", "failed")).update(numbers_state="pending")
    for join in JOINS:
        family_rows = rows.filter(family=join.family)
        # A conference recording (or one without its leg or call) has no single pair.
        family_rows.filter(numbers_state="pending", **{join.column: ""}).update(
            numbers_state="none"
        )
        pending_rows = family_rows.filter(numbers_state="pending")
        pending = set(pending_rows.values_list(join.column, flat=True))
        if not pending:
            continue
        span = pending_rows.aggregate(oldest=Min("created_at"), newest=Max("created_at"))
        _join_window(credential, client, join, pending, span, page_size, report)
        _look_up(credential, client, join, pending, report)
    return report


def _join_window(credential, client, join, pending: set, span, page_size, report) -> None:
    """Read the list for the window of `pending`'s recordings, storing every match and
    taking it out of `pending`. A refusal marks the family's pending rows refused."""
    after, before = span["oldest"] - JOIN_BEFORE, span["newest"] + JOIN_AFTER
    cursor = None
    while pending:
        try:
            page = join.list_page(client, cursor, page_size, after, before)
        except (CredentialsRejected, ScopeMissing, LegNotFound) as error:
            # No voice logs (or calls) for these credentials (a 404 on the list: not on
            # this space): nothing to look up either. Asked again on the next full pass.
            state = "refused" if isinstance(error, LegNotFound) else Parties.after(error).state
            _set_state(credential, join, pending, state)
            pending.clear()
            return
        except SignalWireError:
            # 5xx, malformed, a timeout: the window cannot be read; the lookups by id may
            # still work, and what is left stays pending for the next pass.
            report.list_requests += 1
            return
        report.list_requests += 1
        found = [p for p in page.items if p.id in pending and p.known]
        _store_parties(credential, join, found)
        report.matched += len(found)
        pending.difference_update(p.id for p in found)
        cursor = page.next_cursor
        if cursor is None:
            return


def _look_up(credential, client, join, pending: set, report) -> None:
    """Ask for each leg (or call) the window did not hold, once; stop at the first answer
    that is not about the leg itself (refused, 5xx, ...) and leave the rest pending."""
    compat = join.family == "compat"
    for key in sorted(pending)[:MAX_LOOKUPS]:
        report.lookups += 1
        probe = Recording(
            id=None,
            family=join.family,
            call_sid=key if compat else None,
            leg_id=None if compat else key,
        )
        parties = client.get_parties(probe)
        if parties.known:
            _store_parties(credential, join, [replace(parties, id=key)])
            report.matched += 1
        elif parties.state == "not_found":
            _set_state(credential, join, {key}, "not_found")  # remembered: not asked again
        else:
            if parties.state == "refused":
                _set_state(credential, join, pending, "refused")
            else:
                _set_state(credential, join, {key}, "failed")
            return


def _set_state(credential, join, keys, state: str) -> None:
    keys = list(keys)
    for start in range(0, len(keys), 500):
        indexed_recordings(credential).filter(
            family=join.family,
            numbers_state="pending",
            **{f"{join.column}__in": keys[start : start + 500]},
        ).update(numbers_state=state)


def _store_parties(credential, join, found: list[Parties]) -> None:
    """Write the parties of each matched leg (or call) onto every pending row that has it,
    in one executemany."""
    if not found:
        return
    ops = connection.ops
    table = ops.quote_name(IndexedRecording._meta.db_table)
    quoted = ops.quote_name
    # Only our own table and column names go into the text; every value is a parameter.
    sql = (
        f"UPDATE {table} SET {quoted('from_address')} = %s, {quoted('to_address')} = %s, "  # noqa: S608
        f"{quoted('direction')} = %s, {quoted('from_rdigits')} = %s, "
        f"{quoted('to_rdigits')} = %s, {quoted('numbers_state')} = 'found' "
        f"WHERE {quoted('credential_id')} = %s AND {quoted('family')} = %s "
        f"AND {quoted(join.column)} = %s AND {quoted('numbers_state')} = 'pending'"
    )
    rows = [
        (
            (p.from_address or "")[:128],
            (p.to_address or "")[:128],
            (p.direction or "")[:16],
            number_digits(p.from_address)[::-1],
            number_digits(p.to_address)[::-1],
            credential.pk,
            join.family,
            p.id,
        )
        for p in found
    ]
    # One transaction: on SQLite each statement would otherwise commit (and sync the
    # WAL) on its own, a third of a millisecond apiece.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _fitting(count: int | None, largest: int) -> int | None:
    """A count the column can hold, else unknown (None): SignalWire once sent a duration
    of 10**12 s, which stopped every pass that met it."""
    return count if count is None or 0 <= count <= largest else None


def _mark_vanished(credential, family, pass_started_at, since, now) -> None:
    """`family`'s indexed recordings that the pass did not see, among those newer than
    `since` (all of them when None: the pass read the whole list), are gone upstream."""
    unseen = indexed_recordings(credential).filter(family=family, last_seen__lt=pass_started_at)
    if since is not None:
        unseen = unseen.filter(created_at__gt=since)
    days = set(unseen.values_list(F("created_epoch") / rollups.DAY, flat=True).distinct())
    unseen.update(vanished_at=now)
    rollups.refresh(credential.pk, days)


@overload
def exact(amount: Decimal) -> Decimal: ...
@overload
def exact(amount: None) -> None: ...
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
