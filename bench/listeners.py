"""Listeners at real time speed while others browse, on one app server.

    .venv/bin/python bench/listeners.py [--listeners 100] [--browsers 10] [--seconds 30]
                                        [--latency-ms 50] [--servers asgi,wsgi]
                                        [--stalled 0] [--json FILE]

On loopback only. Starts a demo space with added latency (its own process) and, for
each server named in --servers, one dashboard server on a fresh SQLite database with
gunicorn.conf.py's defaults (CPU count + 1 workers):
- `asgi`: what is shipped, uvicorn workers (`gunicorn` with gunicorn.conf.py);
- `wsgi`: the design it replaced, threaded WSGI workers (`-k gthread --threads 8`),
  measured in the same run as the baseline.

Against each: LISTENERS clients each play the same 30-minute WAV the way a browser does
at real time speed (a request with `Range: bytes=0-`, then 1,600 bytes every 100 ms:
16 kB/s), while BROWSERS users each open the list, a recording's page and /healthz in a
loop with 200 ms between steps, and STALLED clients ask for the audio and never read.
Reported: the longest wait of any listener for its first byte and for any later read
(a stall), and page latency (median, p95, max) with errors. Target (issue #16): no
stall over 1 s and page p95 under 200 ms at 50 ms upstream latency.
"""

import argparse
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402
    dashboard_env,
    log_in,
    machine,
    percentile,
    prepare_database,
    rss_mb,
    start_gunicorn,
    start_upstream,
    worker_pids,
)

RATE = 16_000  # bytes a second: a browser playing 8 kHz 16-bit mono (or 8-bit stereo) WAV
TICK = 0.1
SERVERS = {
    "asgi": (),  # gunicorn.conf.py as shipped
    "wsgi": ("dashboard.wsgi", "--worker-class", "gthread", "--threads", "8"),
}


def listen(session, url: str, seconds: float, results: list, lock) -> None:
    """Plays like a browser at real time speed; records the first byte and the longest
    read, and whether it got every byte it wanted."""
    cookie = session.headers["Cookie"]
    started = time.perf_counter()
    outcome: dict[str, Any] = {"first_byte_s": None, "longest_read_s": 0.0, "error": ""}
    try:
        with requests.get(
            url, headers={"Cookie": cookie, "Range": "bytes=0-"}, stream=True, timeout=30
        ) as response:
            if response.status_code != 206:
                outcome["error"] = f"status {response.status_code}"
                return
            raw = response.raw
            first = raw.read(44)  # the WAV header, as a player reads it first
            outcome["first_byte_s"] = time.perf_counter() - started
            if not first:
                outcome["error"] = "empty"
                return
            begin = time.perf_counter()
            tick = 0
            while (now := time.perf_counter()) - begin < seconds:
                tick += 1
                due = begin + tick * TICK
                if due > now:
                    time.sleep(due - now)
                before = time.perf_counter()
                chunk = raw.read(int(RATE * TICK))
                outcome["longest_read_s"] = max(
                    outcome["longest_read_s"], time.perf_counter() - before
                )
                if not chunk:
                    outcome["error"] = "ended early"
                    return
    except requests.RequestException as error:
        outcome["error"] = type(error).__name__
    finally:
        with lock:
            results.append(outcome)


def browse(session, base: str, ids: list[str], deadline: float, latencies, errors, lock):
    number = 0
    while time.monotonic() < deadline:
        number += 1
        path = ("/recordings/", f"/recordings/{ids[number % len(ids)]}/", "/healthz")[number % 3]
        started = time.perf_counter()
        try:
            response = session.get(base + path, timeout=30)
            failed = "" if response.status_code == 200 else f"{path}: {response.status_code}"
        except requests.RequestException as error:
            failed = f"{path}: {type(error).__name__}"
        took = (time.perf_counter() - started) * 1000
        with lock:
            latencies.append(took)
            if failed:
                errors.append(failed)
        time.sleep(0.2)


def stall(base: str, session, recording_id: str, sockets: list) -> None:
    """A client that asks for the audio and never reads a byte of the answer."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(
        f"GET /recordings/{recording_id}/audio/ HTTP/1.1\r\nHost: {host}\r\n"
        f"Cookie: {session.headers['Cookie']}\r\nRange: bytes=0-\r\n\r\n".encode()
    )
    sockets.append(sock)


def run_against(base: str, info: dict, args, master: int) -> dict:
    big = info["big"]
    audio = f"{base}/recordings/{big['id']}/audio/"
    listeners = [log_in(base) for _ in range(min(args.listeners, 10))]
    browsers = [log_in(base) for _ in range(args.browsers)]
    ids = [big["id"], info["small"]["id"]]
    for session in browsers[:1]:  # warm: the first list and page fill the cache
        session.get(base + "/recordings/", timeout=30)
    stalled: list = []
    for number in range(args.stalled):
        stall(base, listeners[number % len(listeners)], big["id"], stalled)
    lock = threading.Lock()
    outcomes: list[dict[str, Any]] = []
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + args.seconds
    threads = [
        threading.Thread(
            target=listen,
            args=(listeners[n % len(listeners)], audio, args.seconds, outcomes, lock),
        )
        for n in range(args.listeners)
    ] + [
        threading.Thread(target=browse, args=(s, base, ids, deadline, latencies, errors, lock))
        for s in browsers
    ]
    workers = worker_pids(master)
    idle = sum(rss_mb(pid) for pid in workers)
    peak = idle
    for thread in threads:
        thread.start()
        time.sleep(0.01)  # listeners arrive over a second, not in one instant
    while any(thread.is_alive() for thread in threads):
        peak = max(peak, sum(rss_mb(pid) for pid in workers))
        time.sleep(0.5)
    for sock in stalled:
        sock.close()
    first = [o["first_byte_s"] for o in outcomes if o["first_byte_s"] is not None]
    failed = [o["error"] for o in outcomes if o["error"]]
    return {
        "listeners": args.listeners,
        "listener_errors": len(failed),
        "listener_error_examples": sorted(set(failed))[:5],
        "first_byte_median_s": round(statistics.median(first), 3) if first else None,
        "first_byte_max_s": round(max(first, default=float("nan")), 3),
        "longest_read_max_s": round(max(o["longest_read_s"] for o in outcomes), 3),
        "listeners_stalled_over_1s": sum(
            1 for o in outcomes if o["longest_read_s"] > 1 or (o["first_byte_s"] or 99) > 1
        ),
        "stalled_readers": args.stalled,
        "workers_rss_idle_mb": round(idle, 1),
        "workers_rss_peak_mb": round(peak, 1),
        "browsers": args.browsers,
        "page_requests": len(latencies),
        "page_median_ms": round(statistics.median(latencies), 1) if latencies else None,
        "page_p95_ms": round(percentile(latencies, 0.95), 1) if latencies else None,
        "page_max_ms": round(max(latencies), 1) if latencies else None,
        "page_errors": len(errors),
        "page_error_examples": sorted(set(errors))[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listeners", type=int, default=100)
    parser.add_argument("--browsers", type=int, default=10)
    parser.add_argument("--stalled", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--servers", default="asgi,wsgi")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    upstream, info = start_upstream(args.latency_ms / 1000, RATE * 1800)
    results = {"machine": machine(), "latency_ms": args.latency_ms}
    try:
        for name in args.servers.split(","):
            with tempfile.TemporaryDirectory() as workdir:
                env = dashboard_env(Path(workdir), info["base_url"], cache_seconds=60)
                prepare_database(env)
                server, base = start_gunicorn(env, Path(workdir) / "server.log", *SERVERS[name])
                try:
                    results[name] = run_against(base, info, args, server.pid)
                finally:
                    server.terminate()
                    server.wait(timeout=60)
            print(f"== {name}", json.dumps(results[name], indent=1), flush=True)
    finally:
        upstream.stdin.close()
        upstream.wait(timeout=30)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
