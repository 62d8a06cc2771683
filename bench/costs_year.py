"""Benchmark: the spend report over a year of a call centre's recordings on PostgreSQL.

    .venv/bin/python bench/costs_year.py [--rows 5000000] [--credentials 50]
        [--database postgres://postgres@127.0.0.1:5432/bench_costs]

Makes (or empties) the database named by --database, migrates it, and fills the index
with --rows recordings spread evenly over --credentials credentials and the year before
the run (server-side, INSERT ... SELECT over generate_series, as a call centre's account
looks: one currency each, every tenth account in EUR, 3% without a price yet, most
recordings done with some failed, without audio or in progress, most in stereo with
both tracks, a quarter from Compatibility, 3% vanished), sums its running totals,
ANALYZEs, then times
`/costs/` for one credential through Django's test client (the whole page as its user
sees it, in Europe/Berlin) for a day, a quarter and a year: median and slowest of
--runs, with the same page over an empty period as the baseline of the run. Each
period's figures are compared with the report computed by scanning the rows
themselves (`reports.report_from_rows`): they must be identical. Target: each page
under 100 ms. The database is dropped at the end (kept with --keep).
"""

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.postgres import account, own_database  # noqa: E402 - after the path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--credentials", type=int, default=50)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/bench_costs")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument(
        "--keep", action="store_true", help="keep the database, and reuse one kept before"
    )
    args = parser.parse_args()
    with own_database(args.database, keep=args.keep) as kept:
        run(args, kept)


def run(args, kept: bool) -> None:
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from recordings_app import reports
    from recordings_app.models import Credential

    now = timezone.now()
    if kept:
        user = User.objects.get(username="bench")
        credentials = list(Credential.objects.filter(user=user).order_by("pk"))
    else:
        user = User.objects.create_user("bench")
        user.groups.add(Group.objects.get(name="Supervisor"))  # view_costs
        credentials = [
            account(user, number, active=number == 0) for number in range(args.credentials)
        ]
        started = time.perf_counter()
        fill(connection, [c.pk for c in credentials], args.rows, now)
        print(
            f"{args.rows:,} rows over {args.credentials} credentials, with their running "
            f"totals, in {time.perf_counter() - started:.1f} s"
        )
    client = Client()
    client.force_login(user)
    client.cookies["tz"] = "Europe/Berlin"
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Berlin")
    today = now.astimezone(zone).date()
    periods = {
        "empty day (baseline)": (today + timedelta(days=30), today + timedelta(days=30)),
        "a day": (today - timedelta(days=3), today - timedelta(days=3)),
        "a quarter": (today - timedelta(days=91), today),
        "a year": (today - timedelta(days=365), today),
    }
    for label, (first, last) in periods.items():
        url = f"/costs/?from={first:%Y-%m-%d}&to={last:%Y-%m-%d}"
        timings = []
        for _ in range(args.runs):
            begun = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - begun) * 1000)
            assert response.status_code == 200, response.status_code
        period = reports.Period("custom", first, last)
        fast = reports.report(credentials[0], period, zone)
        begun = time.perf_counter()
        slow = reports.report_from_rows(credentials[0], period, zone)
        scan_ms = (time.perf_counter() - begun) * 1000
        same = comparable(fast) == comparable(slow)
        print(
            f"{label}: {fast['totals'].count:,} recordings; page median "
            f"{statistics.median(timings):.1f} ms, slowest {max(timings):.1f} ms "
            f"(target < 100 ms); report from the rows themselves {scan_ms:.1f} ms; "
            f"identical: {same}"
        )
        if not same:
            raise SystemExit(f"{label}: the daily figures and the rows disagree")


def comparable(report: dict):
    """What the page shows, as plain values."""
    totals, previous = report["totals"], report["previous"]
    return (
        totals.count,
        totals.seconds,
        totals.currencies(),
        previous.count,
        previous.seconds,
        previous.currencies(),
        report["changes"],
        [
            (b["title"], [(label, f.count, f.seconds, f.currencies()) for label, f in b["rows"]])
            for b in report["breakdowns"]
        ],
        (report["failed_charged"].count, report["failed_charged"].currencies()),
        report["days"],
        [(r.id, r.price) for r in report["top"]],
    )


def fill(connection, credential_ids: list[int], count: int, now) -> None:
    """Evenly over the credentials and the last 365 days, one INSERT per credential; then
    their running totals, as the sync keeps them, and ANALYZE."""
    each = count // len(credential_ids)
    end = int(now.timestamp())
    step = 365 * 86400 / each
    with connection.cursor() as cursor:
        for credential_id in credential_ids:
            cursor.execute(
                """
                INSERT INTO recordings_app_indexedrecording (
                    credential_id, recording_id, created_at, created_epoch, updated_at,
                    duration_seconds, price, price_unit, status, status_family, error_code,
                    track, stereo, byte_size, source, leg_id, conference_id, family,
                    cxml_source, call_sid, url, last_seen, vanished_at, from_address,
                    to_address, direction, numbers_state, from_rdigits, to_rdigits)
                SELECT %(credential)s, md5(%(credential)s || ':' || n)::uuid::text,
                    to_timestamp(epoch), epoch, to_timestamp(epoch + 60),
                    CASE WHEN n %% 97 = 0 THEN NULL ELSE 5 + (n * 7919) %% 600 END,
                    CASE WHEN n %% 31 = 0 THEN NULL
                         ELSE round(((n * 31) %% 400) * 0.0025, 6) END,
                    CASE WHEN n %% 31 = 0 THEN '' ELSE %(currency)s END,
                    status, family_of_status,
                    CASE WHEN family_of_status = 'failed' THEN '13' ELSE '' END,
                    CASE WHEN n %% 7 = 0 THEN 'inbound' ELSE 'both' END,
                    n %% 7 <> 0,
                    1000 + n,
                    CASE WHEN n %% 4 = 0 THEN 'cxml' WHEN n %% 9 = 0 THEN 'sip' ELSE 'pstn' END,
                    '', '',
                    CASE WHEN n %% 4 = 0 THEN 'compat' ELSE 'relay' END, '', '', '',
                    now(), CASE WHEN n %% 33 = 0 THEN now() ELSE NULL END,
                    '', '', '', 'pending', '', ''
                FROM (
                    SELECT n, (%(end)s - floor(n * %(step)s))::bigint AS epoch,
                        CASE WHEN n %% 37 = 0 THEN 'failed' WHEN n %% 41 = 0 THEN 'no_input'
                             WHEN n %% 53 = 0 THEN 'in-progress' ELSE 'completed' END AS status,
                        CASE WHEN n %% 37 = 0 THEN 'failed' WHEN n %% 41 = 0 THEN 'no_audio'
                             WHEN n %% 53 = 0 THEN 'in_progress' ELSE 'done' END
                             AS family_of_status
                    FROM generate_series(0::bigint, %(each)s - 1) AS n
                ) AS made
                """,
                {
                    "credential": credential_id,
                    "end": end,
                    "step": step,
                    "each": each,
                    # One currency per account, as SignalWire bills it; every tenth in EUR.
                    "currency": "EUR" if credential_id % 10 == 0 else "USD",
                },
            )
    from recordings_app import rollups
    from recordings_app.models import Credential

    for credential in Credential.objects.filter(pk__in=credential_ids):
        rollups.rebuild(credential)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


if __name__ == "__main__":
    main()
