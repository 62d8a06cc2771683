"""What the dashboard costs on top of SignalWire itself, measured on this machine.

    .venv/bin/python bench/run.py [--latency-ms 50] [--seconds 30] [--index-count 100000]
                                  [--json bench/results.json]

Starts, on loopback only: a demo space with an added upstream latency (its own
process), and two gunicorn servers of the dashboard on a fresh SQLite database: one with
caching off (to measure the proxy's own overhead on every call) and one as deployed
(gunicorn.conf.py defaults, caching on). Every figure is printed beside a baseline
measured in the same run: the same upstream URL fetched directly with `requests`.
Last, bench_index.py syncs 100,000 recordings and times /costs/ over them (its own
baselines: time waiting on upstream, RSS before the sync, an empty period).
Shared machines are noisy, so the figures that matter are ratios and differences, and
dashboard and direct calls are interleaved rather than run one after the other.
"""

import argparse
import contextlib
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo_space import DEMO_API_TOKEN, DEMO_PROJECT_ID  # noqa: E402
from tests.dashboard_processes import migrate_with_demo_user, start_server  # noqa: E402

AUTH = (DEMO_PROJECT_ID, DEMO_API_TOKEN)
CHUNK = 1024 * 1024


# --------------------------------------------------------------------------- set-up


def start_upstream(latency: float, big_bytes: int):
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "upstream.py"), str(latency), str(big_bytes)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None  # stdout=PIPE
    info = json.loads(process.stdout.readline())
    return process, info


def dashboard_env(workdir: Path, upstream: str, cache_seconds: int) -> dict:
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + Fernet.generate_key().decode(),
        "CREDENTIALS_KEYS": BENCH_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "SIGNALWIRE_BASE_URL": upstream,
        "SIGNALWIRE_CACHE_SECONDS": str(cache_seconds),
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
    }


BENCH_KEY = Fernet.generate_key().decode()


def prepare_database(env: dict) -> None:
    migrate_with_demo_user(env, timeout=300)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


def start_gunicorn(env: dict, log: Path, *extra: str):
    """The dashboard as deployed (tests.dashboard_processes.start_server), logging to `log`."""
    return start_server(env, *extra, log=log.open("w"))


def log_in(base: str) -> requests.Session:
    """A session logged in as the demo user. The cookies are Secure (DEBUG=0) and this is
    plain HTTP on loopback, so they are sent by hand."""
    session = requests.Session()
    page = session.get(base + "/accounts/login/", timeout=10)
    csrf = page.cookies["csrftoken"]
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert found is not None, "no CSRF token on the log-in page"
    token = found.group(1)
    response = session.post(
        base + "/accounts/login/",
        data={"username": "demo", "password": "demo", "csrfmiddlewaretoken": token},
        headers={"Referer": base + "/accounts/login/", "Cookie": f"csrftoken={csrf}"},
        allow_redirects=False,
        timeout=10,
    )
    session.headers["Cookie"] = f"sessionid={response.cookies['sessionid']}"
    return session


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# ----------------------------------------------------------------------- measuring


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def percentile(values, fraction) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def compare(dashboard_call, direct_call, rounds: int) -> dict:
    """Interleave the two so both see the same machine weather."""
    ours, theirs = [], []
    dashboard_call(), direct_call()  # warm connections and caches
    for _ in range(rounds):
        ours.append(timed(dashboard_call))
        theirs.append(timed(direct_call))
    median, base = statistics.median(ours), statistics.median(theirs)
    return {
        "median_ms": round(median, 1),
        "p95_ms": round(percentile(ours, 0.95), 1),
        "direct_median_ms": round(base, 1),
        "direct_p95_ms": round(percentile(theirs, 0.95), 1),
        "overhead_ms": round(median - base, 1),
        "ratio": round(median / base, 2),
    }


def ok(response: requests.Response) -> requests.Response:
    if response.status_code not in (200, 206):
        raise SystemExit(f"{response.request.method} {response.url}: {response.status_code}")
    return response


def stream_all(session, url, **kwargs) -> tuple[int, float]:
    started = time.perf_counter()
    size = 0
    with ok(session.get(url, stream=True, timeout=60, **kwargs)) as response:
        for chunk in response.iter_content(CHUNK):
            size += len(chunk)
    return size, time.perf_counter() - started


def first_byte_ms(session, url, range_header, **kwargs) -> float:
    started = time.perf_counter()
    headers = {"Range": range_header}
    with ok(session.get(url, stream=True, headers=headers, timeout=30, **kwargs)) as response:
        next(response.iter_content(1))
        return (time.perf_counter() - started) * 1000


def upstream_calls_logged(log: Path, path: str) -> int:
    calls = 0
    for line in log.read_text().splitlines():
        if line.startswith("{") and f'"path": "{path}"' in line:
            calls += json.loads(line)["upstream_calls"]
    return calls


def measure_audio(session, base, upstream, info, master) -> dict:
    big = info["big"]
    ours_url = f"{base}/recordings/{big['id']}/audio/"
    direct = requests.Session()
    ok(session.get(f"{base}/recordings/{big['id']}/", timeout=30))  # as a listener would
    idle = {pid: rss_mb(pid) for pid in worker_pids(master)}
    peak = dict(idle)
    sampling = threading.Event()

    def sample():
        while not sampling.is_set():
            for pid in peak:
                with contextlib.suppress(FileNotFoundError):  # a recycled worker
                    peak[pid] = max(peak[pid], rss_mb(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    ours_size, ours_seconds = stream_all(session, ours_url)
    sampling.set()
    sampler.join()
    direct_size, direct_seconds = stream_all(direct, big["url"], auth=AUTH)
    assert ours_size == direct_size == big["byte_size"], (ours_size, direct_size)

    at = int(big["byte_size"] * 0.9)
    ours_ttfb, direct_ttfb = [], []
    for _ in range(15):
        start = at + random.randrange(0, 1_000_000)
        ours_ttfb.append(first_byte_ms(session, ours_url, f"bytes={start}-"))
        direct_ttfb.append(first_byte_ms(direct, big["url"], f"bytes={start}-", auth=AUTH))
    growth = max(peak[pid] - idle[pid] for pid in idle)
    return {
        "bytes": ours_size,
        "throughput_mb_s": round(ours_size / ours_seconds / 1e6, 1),
        "direct_throughput_mb_s": round(direct_size / direct_seconds / 1e6, 1),
        "throughput_ratio": round(direct_seconds / ours_seconds, 2),
        "range_90pct_ttfb_ms": round(statistics.median(ours_ttfb), 1),
        "direct_range_90pct_ttfb_ms": round(statistics.median(direct_ttfb), 1),
        "ttfb_difference_ms": round(
            statistics.median(ours_ttfb) - statistics.median(direct_ttfb), 1
        ),
        "serving_rss_growth_mb": round(growth, 1),
        "serving_rss_idle_mb": round(max(idle.values()), 1),
    }


def measure_concurrency(base: str, info: dict, seconds: float, clients: int = 32) -> dict:
    """Each client logs in, then browses and plays in a loop: a list page, a recording
    page, and a 64 KiB slice of its audio, until the time is up."""
    sessions = [log_in(base) for _ in range(clients)]
    ids = [info["small"]["id"]]
    latencies, errors = [], []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def browse(session):
        own, failed = [], []
        while time.monotonic() < deadline:
            for path, headers in (
                ("/recordings/", {}),
                (f"/recordings/{random.choice(ids)}/", {}),
                (f"/recordings/{random.choice(ids)}/audio/", {"Range": "bytes=0-65535"}),
            ):
                started = time.perf_counter()
                try:
                    response = session.get(base + path, headers=headers, timeout=30)
                    _ = response.content
                    if response.status_code not in (200, 206):
                        failed.append(f"{path}: {response.status_code}")
                except requests.RequestException as error:
                    failed.append(f"{path}: {type(error).__name__}")
                own.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(own)
            errors.extend(failed)

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(browse, sessions))
    elapsed = time.monotonic() - started
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(latencies),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "median_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "errors": len(errors),
        "error_examples": sorted(set(errors))[:5],
    }


# -------------------------------------------------------------------------- report

TARGETS = [
    ("list page: overhead at the median", "list", "overhead_ms", "< 15 ms", lambda v: v < 15),
    ("list page: ratio to direct", "list", "ratio", "< 1.3", lambda v: v < 1.3),
    ("detail page: overhead at the median", "detail", "overhead_ms", "< 15 ms", lambda v: v < 15),
    ("detail page: ratio to direct", "detail", "ratio", "< 1.3", lambda v: v < 1.3),
    ("cached list page: median", "cached_list", "median_ms", "< 5 ms", lambda v: v < 5),
    ("cached list page: upstream calls", "cached_list", "upstream_calls", "0", lambda v: v == 0),
    ("audio: throughput vs direct", "audio", "throughput_ratio", ">= 0.70", lambda v: v >= 0.7),
    (
        "audio: Range at 90%: TTFB - direct",
        "audio",
        "ttfb_difference_ms",
        "< 20 ms",
        lambda v: v < 20,
    ),
    ("audio: serving RSS growth", "audio", "serving_rss_growth_mb", "< 30 MB", lambda v: v < 30),
    ("32 clients: errors", "concurrency", "errors", "0", lambda v: v == 0),
    ("index sync: list requests", "index", "list_requests", "<= 101", lambda v: v <= 101),
    ("index sync: peak RSS", "index", "peak_rss_mb", "< 150 MB", lambda v: v < 150),
    ("index sync: time / upstream wait", "index", "sync_to_wait_ratio", "<= 2", lambda v: v <= 2),
    (
        "/costs/ 30 days: median",
        "index",
        "costs_30d_wall_ms",
        "< 200 ms",
        lambda v: v < 200,
    ),
]


def print_report(results: dict) -> None:
    print()
    print(f"{'figure':<40} {'value':>10}  {'target':<10} {'met'}")
    print("-" * 68)
    for label, section, key, target, met in TARGETS:
        if section not in results:
            continue
        value = results[section][key]
        print(f"{label:<40} {value:>10}  {target:<10} {'yes' if met(value) else 'NO'}")
    print()
    for section in ("list", "detail"):
        r = results[section]
        print(
            f"{section:<8} dashboard median {r['median_ms']} ms, p95 {r['p95_ms']} ms; "
            f"direct median {r['direct_median_ms']} ms, p95 {r['direct_p95_ms']} ms"
        )
    c = results["cached_list"]
    print(f"cached   dashboard median {c['median_ms']} ms, p95 {c['p95_ms']} ms")
    a = results["audio"]
    print(
        f"audio    {a['bytes'] / 1e6:.0f} MB at {a['throughput_mb_s']} MB/s "
        f"(direct {a['direct_throughput_mb_s']} MB/s); Range TTFB {a['range_90pct_ttfb_ms']} ms "
        f"(direct {a['direct_range_90pct_ttfb_ms']} ms); RSS idle {a['serving_rss_idle_mb']} MB, "
        f"+{a['serving_rss_growth_mb']} MB while streaming"
    )
    if "index" in results:
        i = results["index"]
        print(
            f"index    {i['recordings']:,} recordings in {i['sync_seconds']} s "
            f"({i['upstream_wait_seconds']} s waiting on upstream), {i['list_requests']} list "
            f"requests, peak RSS {i['peak_rss_mb']} MB ({i['rss_before_sync_mb']} MB before); "
            f"/costs/ 30 days ({i['costs_30d_rows']:,} rows) {i['costs_30d_wall_ms']} ms, "
            f"{i['costs_30d_cpu_ms']} ms CPU (empty period {i['costs_empty_wall_ms']} ms)"
        )
    k = results["concurrency"]
    print(
        f"load     {k['clients']} clients for {k['seconds']} s: {k['requests']} requests, "
        f"{k['requests_per_second']} req/s, median {k['median_ms']} ms, p95 {k['p95_ms']} ms, "
        f"{k['errors']} errors {k['error_examples'] or ''}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=50, help="added upstream latency")
    parser.add_argument("--seconds", type=float, default=30, help="length of the load phase")
    parser.add_argument("--rounds", type=int, default=40, help="samples per page figure")
    parser.add_argument("--audio-mb", type=int, default=200, help="size of the streamed file")
    parser.add_argument("--index-count", type=int, default=100_000, help="0 skips the sync")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results.json"))
    args = parser.parse_args()
    started = time.monotonic()

    upstream, info = start_upstream(args.latency_ms / 1000, args.audio_mb * 1_000_000)
    servers = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            uncached_env = dashboard_env(workdir, info["base_url"], cache_seconds=0)
            prepare_database(uncached_env)
            deployed_env = {**uncached_env, "SIGNALWIRE_CACHE_SECONDS": "30"}
            uncached, uncached_url = start_gunicorn(
                uncached_env, workdir / "uncached.log", "--workers", "1", "--threads", "4"
            )
            servers.append(uncached)
            deployed_log = workdir / "deployed.log"
            deployed, deployed_url = start_gunicorn(deployed_env, deployed_log)
            servers.append(deployed)

            results = {"machine": machine(), "latency_ms": args.latency_ms}
            session, direct = log_in(uncached_url), requests.Session()
            small = info["small"]
            list_upstream = f"{info['base_url']}/api/relay/rest/recordings?page_size=50"
            print("measuring list and detail pages ...", flush=True)
            results["list"] = compare(
                lambda: ok(session.get(uncached_url + "/recordings/", timeout=30)),
                lambda: ok(direct.get(list_upstream, auth=AUTH, timeout=30)).json(),
                args.rounds,
            )
            detail_upstream = f"{info['base_url']}/api/relay/rest/recordings/{small['id']}"
            results["detail"] = compare(
                lambda: ok(session.get(f"{uncached_url}/recordings/{small['id']}/", timeout=30)),
                lambda: ok(direct.get(detail_upstream, auth=AUTH, timeout=30)).json(),
                args.rounds,
            )

            print("measuring the cached list page ...", flush=True)
            cached_session = log_in(deployed_url)
            ok(cached_session.get(deployed_url + "/recordings/?size=25", timeout=30))  # fill
            before = upstream_calls_logged(deployed_log, "/recordings/")
            samples = [
                timed(lambda: ok(cached_session.get(deployed_url + "/recordings/?size=25")))
                for _ in range(args.rounds)
            ]
            time.sleep(0.2)  # let the log lines land
            results["cached_list"] = {
                "median_ms": round(statistics.median(samples), 1),
                "p95_ms": round(percentile(samples, 0.95), 1),
                "upstream_calls": upstream_calls_logged(deployed_log, "/recordings/") - before,
            }

            print(f"measuring audio ({args.audio_mb} MB) ...", flush=True)
            results["audio"] = measure_audio(
                cached_session, deployed_url, info["base_url"], info, deployed.pid
            )

            print(f"measuring 32 concurrent clients for {args.seconds:g} s ...", flush=True)
            results["concurrency"] = measure_concurrency(deployed_url, info, args.seconds)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        upstream.stdin.close()
        upstream.terminate()
        upstream.wait(timeout=30)

    if args.index_count:
        print(f"measuring a sync of {args.index_count:,} recordings and /costs/ ...", flush=True)
        results["index"] = measure_index(args.index_count, args.latency_ms)
    results["total_seconds"] = round(time.monotonic() - started, 1)
    print_report(results)
    print(f"\nwhole run: {results['total_seconds']} s; JSON in {args.json}")
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


def measure_index(count: int, latency_ms: float) -> dict:
    """bench_index.py in a process of its own: its figures include that process's memory."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "bench_index.py"),
                "--count",
                str(count),
                "--latency-ms",
                str(latency_ms),
                "--json",
                out.name,
            ],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=600,
        )
        return json.loads(Path(out.name).read_text())


def machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


if __name__ == "__main__":
    main()
