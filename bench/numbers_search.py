"""Benchmark: a number search over 1,000,000 indexed recordings on PostgreSQL.

    .venv/bin/python bench/numbers_search.py [--rows 1000000]
        [--database postgres://postgres@127.0.0.1:5432/bench_numbers]

Makes (or empties) the database named by --database, migrates it, fills the index with
--rows recordings of one credential by COPY (numbers from a pool of 200,000 callers in
several countries, one regular caller on 0.01% of them), ANALYZEs, and times what the
list page runs for a search: the page of 50 newest matches, the count and the totals.
Printed: the median and the slowest of 15 runs for a whole number, a number as a US
agent types it, and its last four digits, with the plan's top node (an index scan, not
a sequential one). Target: under 50 ms each. The database is dropped at the end.
"""

import argparse
import io
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.postgres import account, own_database  # noqa: E402 - after the path

REGULAR = "+14155550100"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/bench_numbers")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with own_database(args.database):
        run(args)


def run(args) -> None:
    from django.contrib.auth.models import User
    from django.db import connection

    from recordings_app import search

    credential = account(User.objects.create_user("bench"))

    started = time.perf_counter()
    fill(connection, credential.pk, args.rows)
    print(f"{args.rows:,} rows copied and analyzed in {time.perf_counter() - started:.1f} s")

    for label, typed in (
        ("whole number", "+1 415 555 0100"),
        ("as typed in the US", "(415) 555-0100"),
        ("last four digits", "0100"),
    ):
        filters = search.RecordingFilters({"q": typed}, region="US")
        data = filters.checked()
        timings, matches = [], 0
        for _ in range(args.runs):
            begun = time.perf_counter()
            rows = search.filtered(credential, data)
            page = search.page_of(rows, 50, "1")
            shown = list(page.object_list)
            matches = page.paginator.count
            search.totals(rows)
            timings.append((time.perf_counter() - begun) * 1000)
        rows = search.filtered(credential, data)
        plan = rows[:50].explain()
        scan = "Seq Scan" if "Seq Scan" in plan else "index scans"
        print(
            f"{label} ({typed!r}): {matches:,} matches, {len(shown)} on the page; "
            f"median {statistics.median(timings):.1f} ms, slowest {max(timings):.1f} ms "
            f"(target < 50 ms); plan: {scan}"
        )


def uuid4() -> str:
    import uuid

    return str(uuid.UUID(int=random.getrandbits(128), version=4))


def fill(connection, credential_id: int, count: int) -> None:
    rng = random.Random(7)
    patterns = ("+1415555", "+1212555", "+1310555", "+4420794", "+4930901", "+6125550")
    pool = [rng.choice(patterns) + f"{rng.randint(0, 9999):04d}" for _ in range(200_000)]
    ours = ("+14155550199", "+12125550142", "+442079460999")
    columns = (
        "credential_id, recording_id, created_at, created_epoch, updated_at, duration_seconds, "
        "price, price_unit, status, status_family, error_code, track, stereo, byte_size, source, "
        "leg_id, conference_id, family, cxml_source, call_sid, url, last_seen, from_address, "
        "to_address, direction, numbers_state, from_rdigits, to_rdigits"
    )
    with connection.cursor() as cursor:
        raw = cursor.cursor
        batch = 100_000
        for start in range(0, count, batch):
            buffer = io.StringIO()
            for n in range(start, min(count, start + batch)):
                epoch = 1_700_000_000 + n * 7
                when = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(epoch))
                customer = REGULAR if rng.random() < 0.0001 else rng.choice(pool)
                inbound = rng.random() < 0.6
                src, dst = (customer, rng.choice(ours)) if inbound else (rng.choice(ours), customer)
                buffer.write(
                    "\t".join(
                        (
                            str(credential_id),
                            uuid4(),
                            when,
                            str(epoch),
                            when,
                            "60",
                            "0.0025",
                            "USD",
                            "completed",
                            "done",
                            "",
                            "both",
                            "f",
                            "960044",
                            "pstn",
                            uuid4(),
                            "",
                            "relay",
                            "",
                            "",
                            "",
                            when,
                            src,
                            dst,
                            "inbound" if inbound else "outbound",
                            "found",
                            src[1:][::-1],
                            dst[1:][::-1],
                        )
                    )
                    + "\n"
                )
            buffer.seek(0)
            with raw.copy(f"COPY recordings_app_indexedrecording ({columns}) FROM STDIN") as copy:
                copy.write(buffer.read())
        cursor.execute("ANALYZE recordings_app_indexedrecording")


if __name__ == "__main__":
    main()
