"""Benchmark: one filter of the list over 5,000,000 recordings of one account, on PostgreSQL.

    .venv/bin/python bench/search_scale.py [--rows 5000000] [--keep]
        [--database postgres://postgres@127.0.0.1:5432/bench_search]

Makes (or, with --keep, reuses) a PostgreSQL database whose index holds --rows
recordings of ONE account over the last year (bench/costs_year.py's fill: the worst
case, since every query is scoped by account), ANALYZEs, and for each single filter
times what the list page runs for its first page: the 50 newest matches (the rows
shown) and the totals per currency with the count (the line under the table and the
pager: `search.filtered_totals`, from the running totals where the filters allow), and
beside them what counting the matching rows costs (the pager's COUNT and the totals
from the rows, as before the running totals). Median of --runs. The baseline in the
same run: the first page with no filter but a date range of one day, what the list asks
most often. Target (issue 16): the first page of any single filter under 50 ms.
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
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/bench_search")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database, reuse a kept one")
    args = parser.parse_args()
    with own_database(args.database, keep=args.keep) as kept:
        run(args, kept)


def median_ms(work, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run(args, kept: bool) -> None:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.utils import timezone

    from bench.costs_year import fill
    from recordings_app import index, search
    from recordings_app.models import Credential

    if kept:
        credential = Credential.objects.get(user__username="bench")
    else:
        credential = account(User.objects.create_user("bench"), 1)
        started = time.perf_counter()
        fill(connection, [credential.pk], args.rows, timezone.now())
        print(f"{args.rows:,} rows of one account in {time.perf_counter() - started:.1f} s")

    day = timezone.localdate() - timedelta(days=3)
    an_id = (
        index.indexed_recordings(credential)
        .order_by("key")
        .values_list("recording_id", flat=True)[1000]
    )
    filters = {
        "one day (baseline)": {"from": f"{day}T00:00", "to": f"{day}T23:59"},
        "status failed (3%)": {"status": "failed"},
        "status done (90%)": {"status": "done"},
        "track inbound (14%)": {"track": "inbound"},
        "source cXML (25%)": {"source": "cxml"},
        "mono (14%)": {"stereo": "no"},
        "duration 9 min or more": {"min_duration": "540"},
        "price 0.95 or more": {"min_price": "0.95"},
        "id prefix": {"q": an_id[:8]},
        "longest silence 60 s (talk time)": {"min_silence": "60"},
    }
    print(
        f"{'filter':<34} {'matches':>10} {'page':>9} {'totals':>9} {'list':>9}   "
        f"{'rows counted (before)':>21}"
    )
    for label, query in filters.items():
        form = search.RecordingFilters(query, region="US")
        data = form.checked()
        rows = search.filtered(credential, data)
        matches = rows.count()
        page = median_ms(lambda rows=rows: list(rows[:50]), args.runs)
        totals = median_ms(
            lambda rows=rows, data=data: search.filtered_totals(credential, data, rows),
            args.runs,
        )
        counted = median_ms(lambda rows=rows: (rows.count(), search.totals(rows)), args.runs)
        if search.filtered_totals(credential, data, rows) != search.totals(rows):
            raise SystemExit(f"{label}: the running totals and the rows disagree")
        print(
            f"{label:<34} {matches:>10,} {page:>7.1f}ms {totals:>7.1f}ms "
            f"{page + totals:>7.1f}ms   {counted:>19.1f}ms"
        )


if __name__ == "__main__":
    main()
