"""Benchmark: who called whom joined in bulk by the sync of 100,000 recordings.

    .venv/bin/python bench/numbers_sync.py [--count 100000]

The demo space (its voice logs and calls included) runs in a child process; two full
syncs run here, each for a credential of its own in a fresh SQLite file: one with the
join switched off (the baseline: the recordings lists alone), one as the dashboard runs
it. Printed: the requests of each, by kind (recordings lists, voice-log and call lists,
lookups by id), and the ratio of list requests with numbers to without (target: at most
2x, and no request per recording).
"""

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def kind(method: str, url: str) -> str:
    path = url.split("://", 1)[-1].split("/", 1)[-1]
    path = "/" + path.split("?", 1)[0]
    if path.endswith("/api/relay/rest/recordings"):
        return "relay list"
    if path.endswith("/Recordings"):
        return "compat list"
    if path.endswith("/api/voice/logs"):
        return "voice-log list"
    if path.endswith("/Calls.json"):
        return "calls list"
    if "/api/voice/logs/" in path:
        return "voice-log lookup"
    if "/Calls/" in path:
        return "call lookup"
    return f"other {method}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="bench-numbers-")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from bench.bench_index import start_space

    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    args.space_port, args.latency_ms = 0, 0.0
    space, base_url, seed_seconds = start_space(args)
    try:
        settings.SIGNALWIRE_BASE_URL = base_url
        print(f"demo space: {args.count:,} recordings, seeded in {seed_seconds:.1f} s")
        run()
    finally:
        space.terminate()
        space.wait(timeout=10)


def run() -> None:
    from django.contrib.auth.models import User

    from demo_space import DEMO_API_TOKEN, DEMO_PROJECT_ID
    from recordings_app import index, signalwire
    from recordings_app.models import Credential

    counts: Counter = Counter()
    send = signalwire._send

    def counted(method, url, **kwargs):
        counts[kind(method, url)] += 1
        return send(method, url, **kwargs)

    signalwire._send = counted

    def credential(name: str) -> Credential:
        user = User.objects.create_user(name)
        made = Credential(user=user, label=name, space="demo", project_id=DEMO_PROJECT_ID)
        made.set_token(DEMO_API_TOKEN)
        made.is_active = True
        made.save()
        return made

    print(f"load average (1, 5, 15 min): {os.getloadavg()}, on {os.cpu_count()} CPUs")
    results = {}
    joined = index._join_after_pass
    for label, join in (("without numbers", False), ("with numbers", True)):
        counts.clear()
        index._join_after_pass = joined if join else (lambda *a, **k: None)
        cred = credential(label.replace(" ", "-"))
        started = time.perf_counter()
        index.run_sync(cred, full=True)
        seconds = time.perf_counter() - started
        rows = index.indexed_recordings(cred)
        found = rows.filter(numbers_state="found").count()
        results[label] = dict(counts)
        lists = sum(n for k, n in counts.items() if "list" in k)
        print(
            f"{label}: {rows.count():,} recordings in {seconds:.1f} s, "
            f"{found:,} with numbers; {lists} list requests {dict(sorted(counts.items()))}"
        )
    index._join_after_pass = joined
    base = sum(n for k, n in results["without numbers"].items() if "list" in k)
    full = sum(n for k, n in results["with numbers"].items() if "list" in k)
    lookups = sum(n for k, n in results["with numbers"].items() if "lookup" in k)
    print(
        f"list requests with numbers / without: {full} / {base} = {full / base:.2f}x "
        f"(target <= 2x); lookups by id: {lookups} (at most {index.MAX_LOOKUPS} a pass)"
    )


if __name__ == "__main__":
    main()
