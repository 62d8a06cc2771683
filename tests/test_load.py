"""Load on loopback: 32 users browse and play for 60 seconds against a real server.

The dashboard runs in its own process behind a threaded WSGI server (tests/load_server.py)
with its own SQLite file; the demo space runs in another process. Each simulated user
holds a logged-in session and, with a short think time between steps, opens a list page
(sometimes the next page, sometimes through htmx), opens a recording, and plays it the
way a browser does: a Range from byte 0 read for a while, then a seek further on.

Bounded: LOAD_SECONDS (60) of load and at most MAX_STEPS per user. Asserted: no request
fails (every answer is the status a browser expects), no server error is logged, and the
dashboard's resident memory grows by less than RSS_GROWTH_BOUND between the end of a
warm-up and the end of the run. The figures go to test-artifacts/load-test.json.
"""

import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.dashboard_processes import stop_server

pytestmark = pytest.mark.load

ROOT = Path(__file__).resolve().parent.parent
USERS = 32
LOAD_SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
WARM_UP_SECONDS = min(15.0, LOAD_SECONDS / 4)
MAX_STEPS = 2000
# Bytes of RSS growth allowed after warm-up. The in-process cache alone may fill up to
# its 300 entries (upstream pages and rendered tables, up to ~100 KB each) during the
# run; a leak of one audio chunk per play, or of a page per request, would exceed it.
RSS_GROWTH_BOUND = 64 * 1024 * 1024
_ID = re.compile(r'href="/recordings/([0-9a-f-]{36})/"')
_NEXT = re.compile(r'href="(\?[^"]+)"[^>]*rel="next"')


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


@pytest.fixture
def stack(tmp_path):
    """(dashboard URL, session keys, dashboard process, its stderr file)."""
    space = subprocess.Popen(
        [sys.executable, "-m", "demo_space", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    dashboard = None
    try:
        line = space.stdout.readline()
        space_url = line.rsplit(" ", 1)[1].strip()
        assert space_url.startswith("http://127.0.0.1:"), line
        # Self-contained: its own SQLite file and an in-process cache, whatever the suite uses.
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")},
            "DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'load.sqlite3'}",
            "SIGNALWIRE_BASE_URL": space_url,
            # The demo space shares two cores with everything else here; give it time, so
            # a failure means the dashboard failed, not that the machine was busy.
            "SIGNALWIRE_READ_TIMEOUT": "20",
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        }
        errors = stack_errors = (tmp_path / "server-stderr.txt").open("w")
        dashboard = subprocess.Popen(  # noqa: S603 (our own script, fixed arguments)
            [sys.executable, str(ROOT / "tests" / "load_server.py"), str(USERS)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        ready = json.loads(dashboard.stdout.readline())
        yield (
            f"http://127.0.0.1:{ready['port']}",
            ready["sessions"],
            dashboard,
            tmp_path / "server-stderr.txt",
        )
    finally:
        if dashboard is not None:
            stop_server(dashboard)
            stack_errors.close()
        stop_server(space)


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.audio_bytes = 0

    def add(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)

    def fail(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)

    def figures(self, elapsed: float) -> dict:
        """Requests by kind, their median and p95 in ms, audio read and the errors."""
        counts = {kind: len(values) for kind, values in self.latencies.items()}
        return {
            "seconds": round(elapsed, 1),
            "requests": sum(counts.values()),
            "requests_per_second": round(sum(counts.values()) / elapsed, 1),
            "by_kind": counts,
            "median_ms": {
                kind: round(statistics.median(values) * 1000)
                for kind, values in self.latencies.items()
            },
            "p95_ms": {
                kind: round(statistics.quantiles(values, n=20)[-1] * 1000)
                for kind, values in self.latencies.items()
                if len(values) >= 20
            },
            "audio_mb_read": round(self.audio_bytes / 1e6, 1),
            "errors": len(self.errors),
            "error_samples": self.errors[:10],
        }


def browse_and_play(base: str, session_key: str, seed: int, deadline: float, tally: Tally):
    rng = random.Random(seed)
    http = requests.Session()
    http.cookies.set("sessionid", session_key, domain="127.0.0.1", path="/")

    def get(kind, path, expect, headers=None, read=None):
        started = time.monotonic()
        try:
            with http.get(base + path, headers=headers, stream=True, timeout=30) as response:
                if response.status_code != expect:
                    tally.fail(f"{kind} {path}: {response.status_code}")
                    return None
                if read is None:
                    body = response.text
                else:
                    body, got = response.headers.get("Content-Range", ""), 0
                    for chunk in response.iter_content(16384):
                        got += len(chunk)
                        if got >= read:
                            break
                    with tally.lock:
                        tally.audio_bytes += got
        except requests.RequestException as error:
            tally.fail(f"{kind} {path}: {type(error).__name__}")
            return None
        tally.add(kind, time.monotonic() - started)
        return body

    page = f"/recordings/?size={rng.choice([25, 50, 100])}"
    for _ in range(MAX_STEPS):
        if time.monotonic() >= deadline:
            return
        htmx = {"HX-Request": "true"} if rng.random() < 0.3 else None
        html = get("list", page, 200, headers=htmx)
        if html is None:
            return
        ids = _ID.findall(html)
        following = _NEXT.search(html)
        page = (
            "/recordings/" + following.group(1).replace("&amp;", "&")
            if following and rng.random() < 0.5
            else page.split("&page=")[0]
        )
        if not ids:
            continue
        recording_id = rng.choice(ids)
        detail = get("detail", f"/recordings/{recording_id}/", 200)
        if detail and f'src="/recordings/{recording_id}/audio/"' in detail:
            audio = f"/recordings/{recording_id}/audio/"
            span = get("play", audio, 206, headers={"Range": "bytes=0-"}, read=128 * 1024)
            if span:  # "bytes 0-N/total": seek to somewhere in the second half
                total = int(span.rsplit("/", 1)[1])
                seek = {"Range": f"bytes={rng.randrange(total // 2, total)}-"}
                get("seek", audio, 206, headers=seek, read=64 * 1024)
        time.sleep(rng.uniform(0.2, 0.8))  # a person reads before the next click


def test_32_users_browse_and_play_for_a_minute_without_errors_or_memory_growth(stack):
    base, sessions, dashboard, server_errors = stack
    tally = Tally()
    started = time.monotonic()
    deadline = started + LOAD_SECONDS
    users = [
        threading.Thread(target=browse_and_play, args=(base, key, n, deadline, tally))
        for n, key in enumerate(sessions)
    ]
    for user in users:
        user.start()
    samples = []  # (seconds since start, RSS bytes)
    while any(user.is_alive() for user in users):
        samples.append((time.monotonic() - started, rss(dashboard.pid)))
        time.sleep(1.0)
        if time.monotonic() > deadline + 60:
            break  # a stuck user is reported below; never hang the suite
    for user in users:
        user.join(timeout=5)
    elapsed = time.monotonic() - started
    samples.append((elapsed, rss(dashboard.pid)))

    warm = next(value for at, value in samples if at >= WARM_UP_SECONDS)
    growth = samples[-1][1] - warm
    counts = {kind: len(values) for kind, values in tally.latencies.items()}
    figures = {
        "users": USERS,
        **tally.figures(elapsed),
        "rss_mb_start": round(samples[0][1] / 1e6, 1),
        "rss_mb_after_warm_up": round(warm / 1e6, 1),
        "rss_mb_end": round(samples[-1][1] / 1e6, 1),
        "rss_mb_peak": round(max(value for _, value in samples) / 1e6, 1),
        "rss_growth_mb_after_warm_up": round(growth / 1e6, 1),
        "rss_growth_bound_mb": round(RSS_GROWTH_BOUND / 1e6, 1),
        "rss_mb_every_5_s": [round(value / 1e6, 1) for _, value in samples[::5]],
    }
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "load-test.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))

    assert tally.errors == [], tally.errors[:20]
    assert not any(user.is_alive() for user in users), "a simulated user never finished"
    assert counts.get("play", 0) >= USERS and counts.get("list", 0) >= USERS
    log = server_errors.read_text()
    assert "Internal Server Error" not in log, log[-3000:]
    assert growth < RSS_GROWTH_BOUND, figures
