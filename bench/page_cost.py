"""What a page costs the server, in-process, and where that time goes.

    .venv/bin/python bench/page_cost.py [--requests 300] [--profile 25]

Runs Django in this process (DEBUG=0, a fresh SQLite database, the local-memory cache)
against a demo space on loopback, as the demo user, and times through Django's test
client (the whole middleware stack and the view, no socket):
- `/healthz/live`: the floor, a request that does nothing (answered by a middleware);
- a cached list page and a cached recording page: SignalWire's answers come from the
  cache (0 upstream calls, checked), so what is left is the dashboard's own work.
Then profiles the list page with cProfile and prints where the time goes, grouped by
what spends it (session, user, credential, template, ...), and the top functions.
Issue #16's target: a cached list page and a recording page under 5 ms (median).
"""

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402

from demo_space import DEMO_PROJECT_ID, DemoSpace  # noqa: E402

# Where a profiled function's time is counted, by the file it lives in (first match).
GROUPS = [
    ("template rendering", ("django/template/", "template_partials", "templatetags")),
    ("sessions", ("django/contrib/sessions/",)),
    ("auth (user)", ("django/contrib/auth/",)),
    ("database (ORM, sqlite)", ("django/db/", "sqlite3")),
    ("cache", ("django/core/cache/", "redis_cache")),
    ("credential (decrypt, client)", ("cryptography/", "recordings_app/crypto", "models.py")),
    ("CSP", ("csp/",)),
    ("axes", ("axes/",)),
    ("messages", ("django/contrib/messages/",)),
    ("logging", ("logging/", "json_logging", "request_log")),
    ("url resolving", ("django/urls/",)),
    ("our code", ("recordings_app/",)),
    ("django (other)", ("django/",)),
]


def timed(client, path: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return times


def grouped(stats: pstats.Stats) -> dict[str, float]:
    """Own time (tottime) of every function, summed by GROUPS."""
    totals: dict[str, float] = {}
    # typeshed declares no Stats.stats, the {function: (calls, ..., tottime, ...)} that
    # pstats itself reads; get_stats_profile() would key functions by bare name.
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        group = next(
            (name for name, parts in GROUPS if any(part in filename for part in parts)), "other"
        )
        totals[group] = totals.get(group, 0) + tottime
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", type=int, default=25, help="top functions to print")
    parser.add_argument("--queries", action="store_true", help="print each page's SQL")
    args = parser.parse_args()
    space = DemoSpace(host="127.0.0.1", port=0).start()
    workdir = tempfile.mkdtemp()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="dashboard.settings",
        DEBUG="0",
        SECRET_KEY="page-cost-" + Fernet.generate_key().decode(),
        CREDENTIALS_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=f"sqlite:///{workdir}/db.sqlite3",
        SIGNALWIRE_BASE_URL=space.base_url,
        SIGNALWIRE_ALLOW_PRIVATE_ADDRESSES="1",
        SIGNALWIRE_CACHE_SECONDS="3600",
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from recordings_app.management.commands.demo import create_demo_user

    call_command("migrate", verbosity=0)
    client = Client()
    client.force_login(create_demo_user())
    recording = next(r for r in space.recordings(DEMO_PROJECT_ID) if r["status"] == "completed")
    pages = {
        "/healthz/live (floor)": "/healthz/live",
        "list page, cached": "/recordings/",
        "recording page, cached": f"/recordings/{recording['id']}/",
    }
    for path in pages.values():
        client.get(path)
        client.get(path)  # warm: the cache holds SignalWire's answers now
    before = len(space.request_log)
    results = {name: timed(client, path, args.requests) for name, path in pages.items()}
    assert len(space.request_log) == before, "a cached page called SignalWire"
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    print(f"{'page':28} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'query ms':>9}")
    for name, times in results.items():
        p95 = sorted(times)[int(len(times) * 0.95) - 1]
        with CaptureQueriesContext(connection) as queries:
            client.get(pages[name])
        query_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
        print(
            f"{name:28} {statistics.median(times):10.2f} {p95:8.2f} "
            f"{len(queries.captured_queries):8} {query_ms:9.2f}"
        )
        if args.queries:
            for query in queries.captured_queries:
                print(f"    {float(query['time']) * 1000:6.2f} ms  {query['sql'][:150]}")

    profiler = cProfile.Profile()
    profiler.enable()
    timed(client, pages["list page, cached"], args.requests)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(grouped(stats).values())
    print(f"\nlist page, cached: own time by group (profiled, {args.requests} requests)")
    for group, seconds in grouped(stats).items():
        per_request = seconds / args.requests * 1000
        print(f"  {group:30} {per_request:6.2f} ms  {seconds / total:5.1%}")
    print()
    stats.sort_stats("tottime").print_stats(args.profile)
    space.stop()


if __name__ == "__main__":
    main()
