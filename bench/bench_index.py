"""Benchmark: a full index sync of 100,000 recordings, and the /costs/ page over them.

    .venv/bin/python bench/bench_index.py [--count 100000] [--space-port 0] [--latency-ms 0]

The demo space runs in a child process (its 100,000 seeded recordings would otherwise
sit in this process's memory and swamp the figure we want); the sync runs here,
against a fresh SQLite file in a temporary directory. Printed, each with the baseline
it is measured against in the same run:

- list requests the full sync made (target: at most 101 for 100,000 recordings);
- peak memory of this process (ru_maxrss, i.e. peak RSS) with its RSS before the sync,
  and the Python heap's peak during a second full pass (tracemalloc; target < 150 MB);
- the sync's wall time against the time spent waiting on upstream inside it (every
  HTTP exchange, timed around the one transport function; target: at most 2x);
- the /costs/ page for the last 30 days: median render time of several runs through
  Django's test client (target < 200 ms on SQLite), against the same page for a period
  with no recordings (what rendering costs without the data).
"""

import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--space-port", type=int, default=0, help="demo space port (any)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="demo space latency")
    parser.add_argument("--runs", type=int, default=9, help="renders of /costs/ to time")
    parser.add_argument("--json", help="also write the figures to this file (bench/run.py does)")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="bench-index-")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

    import django

    django.setup()
    # Quiet: the per-request JSON log line, and whitenoise's note on a missing STATIC_ROOT.
    logging.getLogger("dashboard.requests").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="No directory at")
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False  # no query log: measure what production runs
    call_command("migrate", verbosity=0)

    space, base_url, seed_seconds = start_space(args)
    try:
        settings.SIGNALWIRE_BASE_URL = base_url
        print(f"demo space: {args.count:,} recordings, seeded in {seed_seconds:.1f} s")
        figures = run(args)
        figures["seed_seconds"] = round(seed_seconds, 1)
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    finally:
        space.terminate()
        space.wait(timeout=10)


def start_space(args):
    started = time.perf_counter()
    space = subprocess.Popen(  # noqa: S603 - our own module, no shell
        [
            sys.executable,
            "-m",
            "demo_space",
            "--port",
            str(args.space_port),
            "--count",
            str(args.count),
            "--latency-ms",
            str(args.latency_ms),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = space.stdout.readline()
    if not line.startswith("Demo SignalWire space at "):
        space.kill()
        raise SystemExit(f"the demo space did not start: {line!r}")
    return space, line.rsplit(" ", 1)[1].strip(), time.perf_counter() - started


def run(args) -> dict:
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from demo_space import DEMO_API_TOKEN, DEMO_PROJECT_ID
    from recordings_app import index, signalwire
    from recordings_app.models import Credential

    user = User.objects.create_user("bench")
    user.groups.add(Group.objects.get(name="Supervisor"))
    credential = Credential(user=user, label="bench", space="demo", project_id=DEMO_PROJECT_ID)
    credential.set_token(DEMO_API_TOKEN)
    credential.is_active = True
    credential.save()

    # Time every HTTP exchange with upstream, around the one transport function.
    upstream = {"requests": 0, "seconds": 0.0}
    send = signalwire._send

    def timed_send(method, url, **kwargs):
        started = time.perf_counter()
        try:
            return send(method, url, **kwargs)
        finally:
            upstream["seconds"] += time.perf_counter() - started
            if method == "GET" and signalwire.LIST_PATH + "?" in url:
                upstream["requests"] += 1

    signalwire._send = timed_send

    print(f"load average (1, 5, 15 min): {os.getloadavg()}, on {os.cpu_count()} CPUs")
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    state = index.run_sync(credential, full=True)
    assert state is not None  # nothing else runs a pass here
    total = time.perf_counter() - started
    rss_peak = peak_rss_mb()
    indexed = index.indexed_recordings(credential).count()
    first_pass = dict(upstream)  # the second pass below counts on
    print(
        f"full sync: {indexed:,} recordings indexed, {state.pages_read} pages, "
        f"{upstream['requests']} list requests (target <= {args.count // 1000 + 1})"
    )
    print(
        f"  time: {total:.2f} s in all, {upstream['seconds']:.2f} s waiting on upstream "
        f"-> {total / upstream['seconds']:.2f}x (target <= 2x)"
    )
    print(
        f"  peak RSS of this process (ru_maxrss): {rss_peak:.0f} MB, "
        f"{rss_before:.0f} MB before the sync (target < 150 MB)"
    )

    tracemalloc.start()
    index.run_sync(credential, full=True)
    _, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  Python heap peak during a second full pass (tracemalloc): {heap_peak / 2**20:.1f} MB")

    client = Client()
    client.force_login(user)
    window = time_page(client, "/costs/?period=30d", args.runs)
    empty = time_page(client, "/costs/?from=2001-01-01&to=2001-01-30", args.runs)
    from django.utils import timezone

    rows = index.indexed_recordings(credential).filter(
        created_at__gte=timezone.now() - timedelta(days=30)
    )
    print(
        f"/costs/ last 30 days ({rows.count():,} of {indexed:,} recordings), median of "
        f"{args.runs} runs: {window[0] * 1000:.0f} ms wall, {window[1] * 1000:.0f} ms CPU "
        f"(target < 200 ms); the same page for an empty period: {empty[0] * 1000:.0f} ms "
        f"wall, {empty[1] * 1000:.0f} ms CPU"
    )
    print(f"load average (1, 5, 15 min): {os.getloadavg()}, on {os.cpu_count()} CPUs")
    return {
        "recordings": indexed,
        "list_requests": first_pass["requests"],
        "sync_seconds": round(total, 2),
        "upstream_wait_seconds": round(first_pass["seconds"], 2),
        "sync_to_wait_ratio": round(total / first_pass["seconds"], 2),
        "peak_rss_mb": round(rss_peak, 1),
        "rss_before_sync_mb": round(rss_before, 1),
        "heap_peak_mb": round(heap_peak / 2**20, 1),
        "costs_30d_rows": rows.count(),
        "costs_30d_wall_ms": round(window[0] * 1000, 1),
        "costs_30d_cpu_ms": round(window[1] * 1000, 1),
        "costs_empty_wall_ms": round(empty[0] * 1000, 1),
    }


def time_page(client, url: str, runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time of this process (the latter is what a
    machine shared with other work cannot inflate)."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        assert response.status_code == 200, response.status_code
    return statistics.median(walls), statistics.median(cpus)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


if __name__ == "__main__":
    main()
