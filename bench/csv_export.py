"""Benchmark: the list's CSV export of 1,000,000 indexed recordings on PostgreSQL.

    .venv/bin/python bench/csv_export.py [--rows 1000000]
        [--database postgres://postgres@127.0.0.1:5432/bench_csv]

Makes (or empties) the database named by --database, migrates it, fills one
credential's index with --rows recordings (bench/costs_year.py's fill), then streams
`/recordings/export.csv` (no filter: every row, newest first) through Django's test
client as its user and counts rows per second and the process's resident memory while
it streams (sampled every 50 ms). The baseline, in the same run: reading the same
columns of the same rows from the database alone, in the export's chunks. Target:
50,000 rows/s or more, memory flat. The database is dropped at the end.
"""

import argparse
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.postgres import account, own_database  # noqa: E402 - after the path


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Peak(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.peak = rss_mb()
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(0.05):
            self.peak = max(self.peak, rss_mb())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/bench_csv")
    args = parser.parse_args()
    with own_database(args.database):
        run(args)


def run(args) -> None:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from bench.costs_year import fill
    from recordings_app import exports, index

    user = User.objects.create_user("bench")
    credential = account(user, 1)
    started = time.perf_counter()
    fill(connection, [credential.pk], args.rows, timezone.now())
    print(f"{args.rows:,} rows in {time.perf_counter() - started:.1f} s")
    live = index.indexed_recordings(credential).count()

    # Baseline: the same columns of the same rows, read in the export's chunks.
    rows = index.indexed_recordings(credential).order_by("-created_at")
    idle = rss_mb()
    begun = time.perf_counter()
    read = sum(1 for _ in exports.recording_rows(rows))
    read_s = time.perf_counter() - begun

    client = Client()
    client.force_login(user)
    peak = Peak()
    peak.start()
    begun = time.perf_counter()
    response = client.get("/recordings/export.csv")
    lines = size = 0
    for chunk in response.streaming_content:  # type: ignore[attr-defined]  # streamed
        lines += chunk.count(b"\n")
        size += len(chunk)
    export_s = time.perf_counter() - begun
    peak.done.set()
    peak.join()
    assert lines - 1 == live == read, (lines, live, read)
    print(f"database read alone: {read:,} rows in {read_s:.2f} s = {read / read_s:,.0f} rows/s")
    print(
        f"CSV export: {lines - 1:,} rows, {size / 2**20:.0f} MB in {export_s:.2f} s = "
        f"{(lines - 1) / export_s:,.0f} rows/s (target >= 50,000), "
        f"{export_s / read_s:.2f}x the read alone; resident memory {idle:.0f} MB before, "
        f"peak {peak.peak:.0f} MB while streaming"
    )


if __name__ == "__main__":
    main()
