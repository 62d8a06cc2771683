"""Benchmark: a retention policy's dry run over 1,000,000 indexed recordings on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bulk_delete \\
        .venv/bin/python bench/retention_dry_run.py [--count 1000000] [--runs 7] [--fresh]

The database is created if missing and migrated. One credential gets `--count` index
rows (created over the last 365 days; statuses, tracks and sources mixed as a real
space's are), written with COPY in one statement, then VACUUM ANALYZE (what autovacuum
does on its own soon after a sync). A second run reuses them unless `--fresh`.

Printed, median of `--runs` each, with the baseline measured in the same run:
- baseline: a plain `SELECT count(*)` of the credential's index rows;
- the dry run (`deletions.dry_run`: the count of what the next run would delete, and its
  oldest 20 rows) of four policies: older than 90 days (three quarters of the rows), 90
  days of failed recordings, 30 days of inbound PSTN, and 400 days (nothing);
- the query plan of the broadest one's count;
- with `--freeze`, the time to freeze the broadest run's items (INSERT ... SELECT, rolled
  back), which a run does once a day on the worker.
Target: every dry run under 1 s.
"""

import argparse
import functools
import io
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bulk_delete"
LABEL = "bench retention"


T = TypeVar("T")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--fresh", action="store_true", help="rewrite the rows")
    parser.add_argument("--freeze", action="store_true", help="also time freezing a run")
    args = parser.parse_args()

    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        sys.exit("This benchmark is for PostgreSQL: set DATABASE_URL=postgres://...")
    if url.rstrip("/").rsplit("/", 1)[-1] == "test":
        sys.exit("Not the database named `test`: that one is CI's.")
    os.environ["DATABASE_STATEMENT_TIMEOUT_MS"] = "0"  # the COPY of a million rows
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    create_database(url)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    credential = bench_credential()
    load = os.getloadavg()
    print(f"load average before: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} ({os.cpu_count()} CPUs)")
    fill(credential, args.count, args.fresh)
    measure(credential, args)
    load = os.getloadavg()
    print(f"load average after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


def create_database(url: str) -> None:
    import psycopg

    name = url.rstrip("/").rsplit("/", 1)[-1]
    server = url.rstrip("/").rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{name}"')  # our own name, from the URL


def bench_credential():
    from django.contrib.auth.models import User

    from recordings_app.models import Credential

    user, _ = User.objects.get_or_create(username="bench-retention")
    credential = Credential.objects.filter(user=user, label=LABEL).first()
    if credential is None:
        credential = Credential(
            user=user, label=LABEL, space="bench", project_id=uuid.uuid4(), is_active=True
        )
        credential.set_token("bench-token-not-used")
        credential.save()
    return credential


STATUSES = [  # (status, family, weight): as the demo space seeds them
    ("completed", "done", 88),
    ("failed", "failed", 5),
    ("absent", "no_audio", 5),
    ("in-progress", "in_progress", 2),
]


def fill(credential, count: int, fresh: bool) -> None:
    from django.db import connection

    from recordings_app.models import IndexedRecording

    rows = IndexedRecording.objects.filter(credential=credential)
    have = rows.count()
    if have == count and not fresh:
        print(f"reusing {have:,} index rows")
        return
    started = time.perf_counter()
    rows._raw_delete(rows.db)
    rng = random.Random(15)
    now = datetime.now(UTC)
    statuses = [s for s, _, w in STATUSES for _ in range(w)]
    families = {s: f for s, f, _ in STATUSES}
    columns = (
        "credential_id, recording_id, created_at, created_epoch, updated_at, duration_seconds, "
        "price, price_unit, status, error_code, track, stereo, byte_size, source, leg_id, "
        "conference_id, family, cxml_source, call_sid, status_family, url, last_seen"
    )
    buffer = io.StringIO()
    for _ in range(count):
        created = now - timedelta(seconds=rng.randrange(365 * 86400))
        status = rng.choice(statuses)
        seconds = rng.randrange(1, 1800)
        relay = rng.random() < 0.85
        source = rng.choice(("pstn", "pstn", "pstn", "sip", "webrtc")) if relay else "cxml"
        track = rng.choice(("inbound", "inbound", "outbound", "both"))
        buffer.write(
            "\t".join(
                (
                    str(credential.pk),
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    created.isoformat(),
                    str(int(created.timestamp())),
                    created.isoformat(),
                    str(seconds),
                    f"{seconds * 0.0025 / 60:.6f}",
                    "USD",
                    status,
                    "",
                    track,
                    "t" if track == "both" else "f",
                    str(seconds * 16000) if relay else r"\N",
                    source,
                    str(uuid.uuid4()) if relay else "",
                    "",
                    "relay" if relay else "compat",
                    "" if relay else "RecordVerb",
                    "" if relay else str(uuid.uuid4()),
                    families[status],
                    "https://bench.signalwire.com/r.wav",
                    now.isoformat(),
                )
            )
            + "\n"
        )
    made = time.perf_counter() - started
    table = IndexedRecording._meta.db_table
    copy_started = time.perf_counter()
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        copy.write(buffer.getvalue())
    copied = time.perf_counter() - copy_started
    vacuum_started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")
    vacuumed = time.perf_counter() - vacuum_started
    print(
        f"wrote {count:,} index rows: {made:.1f} s to make, {copied:.1f} s COPY, "
        f"{vacuumed:.1f} s VACUUM ANALYZE"
    )


def median_ms(work: Callable[[], T], runs: int) -> tuple[float, T]:
    times, results = [], []
    for _ in range(runs):
        started = time.perf_counter()
        results.append(work())
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), results[-1]


def measure(credential, args) -> None:
    from django.db import connection, transaction

    from recordings_app import deletions
    from recordings_app.models import DeletionJob, IndexedRecording, RetentionPolicy

    table = IndexedRecording._meta.db_table

    def plain_count():
        with connection.cursor() as cursor:
            sql = f"SELECT count(*) FROM {table} WHERE credential_id = %s"  # noqa: S608
            cursor.execute(sql, [credential.pk])
            return cursor.fetchone()[0]

    plain_count()  # warm the cache, as a page would find it
    baseline, total = median_ms(plain_count, args.runs)
    print(f"baseline: SELECT count(*) of the credential's {total:,} rows: {baseline:.1f} ms")
    policies = [
        RetentionPolicy(credential=credential, days=90),
        RetentionPolicy(credential=credential, days=90, status_family="failed"),
        RetentionPolicy(credential=credential, days=30, track="inbound", source="pstn"),
        RetentionPolicy(credential=credential, days=400),
    ]
    worst = 0.0
    for policy in policies:
        rows = deletions.policy_rows(policy)
        deletions.dry_run(rows, policy.days)
        took, result = median_ms(functools.partial(deletions.dry_run, rows, policy.days), args.runs)
        worst = max(worst, took)
        words = deletions.describe_policy(
            policy.days, policy.status_family, policy.track, policy.source
        )
        print(
            f"dry run, {words}: {result.count:,} would go, {len(result.first)} rows shown: "
            f"{took:.1f} ms ({took / baseline:.2f}x the plain count)"
        )
    print(
        f"slowest dry run: {worst:.1f} ms (target < 1000 ms): "
        + ("met" if worst < 1000 else "NOT met")
    )
    broad = deletions.policy_rows(policies[0])
    sql, params = broad.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN SELECT count(*) FROM ({sql}) AS s", params)  # noqa: S608
        print("plan of the broadest count:")
        for (line,) in cursor.fetchall():
            print("   ", line)
    if args.freeze:
        started = time.perf_counter()
        try:
            with transaction.atomic():
                job = DeletionJob.objects.create(credential=credential, username="bench")
                frozen = deletions.freeze(job, broad)
                raise _RollBack()
        except _RollBack:
            pass
        print(
            f"freezing the broadest run's {frozen:,} items: "
            f"{time.perf_counter() - started:.1f} s (rolled back)"
        )


class _RollBack(Exception):
    pass


if __name__ == "__main__":
    main()
