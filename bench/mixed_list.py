"""What the merged list (RELAY and Compatibility recordings as one) costs against the
RELAY list alone, through the SignalWire client, on this machine.

    .venv/bin/python bench/mixed_list.py [--latency-ms 50] [--rounds 40] [--size 50]

Starts a demo space in a process of its own (bench/upstream.py) with an added latency
per API request, then times, interleaved round by round so the machine's noise falls
on both alike: five pages of the RELAY list, page after page (the baseline), and five
pages of the merged list. Prints the median time per page and the ratio to the
baseline; the target is a merged page at no more than 1.3x a RELAY page.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from demo_space import DEMO_API_TOKEN, DEMO_PROJECT_ID  # noqa: E402
from recordings_app.signalwire import SignalWireClient  # noqa: E402

TARGET = 1.3
PAGES = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--size", type=int, default=50)
    args = parser.parse_args()

    upstream = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "upstream.py"), str(args.latency_ms / 1000), "16000"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert upstream.stdin is not None and upstream.stdout is not None  # both PIPE
    try:
        settings.SIGNALWIRE_BASE_URL = json.loads(upstream.stdout.readline())["base_url"]
        client = SignalWireClient("demo", DEMO_PROJECT_ID, DEMO_API_TOKEN)

        def five_pages(list_page):
            cursor = None
            for _ in range(PAGES):
                cursor = list_page(cursor, page_size=args.size).next_cursor

        cases = {
            "RELAY list (baseline)": lambda: five_pages(client.list_recordings),
            "merged list": lambda: five_pages(client.list_all),
        }
        for case in cases.values():  # warm the connections up
            case()
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, case in cases.items():
                started = time.perf_counter()
                case()
                times[name].append(time.perf_counter() - started)
    finally:
        upstream.stdin.close()
        upstream.wait(timeout=10)

    times = {name: [t / PAGES for t in samples] for name, samples in times.items()}
    baseline = statistics.median(next(iter(times.values())))
    load = os.getloadavg()[0]
    print(
        f"{args.rounds} rounds, page size {args.size}, upstream latency {args.latency_ms:g} ms, "
        f"load average {load:.2f}"
    )
    print(f"{'case (pages 1-5)':36} {'ms a page':>10} {'ratio':>7}")
    worst = 0.0
    for name, samples in times.items():
        median = statistics.median(samples)
        ratio = median / baseline
        if name != next(iter(times)):
            worst = max(worst, ratio)
        print(f"{name:36} {median * 1000:10.1f} {ratio:7.2f}")
    verdict = "met" if worst <= TARGET else "NOT met"
    print(f"target: a merged page at most {TARGET}x a RELAY page: {verdict} ({worst:.2f}x)")


if __name__ == "__main__":
    main()
