"""Download all (ZIP) against downloading the same files one by one through the dashboard.

    .venv/bin/python bench/bulk_zip.py [--files 40] [--seconds 600] [--rounds 3]
                                       [--latency-ms 0] [--json FILE]

On loopback only. Starts a demo space in a process of its own (with --latency-ms added
to each API request; media is served without it) holding FILES recordings of SECONDS of
8 kHz 16-bit mono WAV each (16,000 bytes a second: 600 s is 9.6 MB, 40 of them 384 MB),
on one day before any seeded recording, and one dashboard server as deployed (gunicorn
with uvicorn workers, DEBUG=0, a fresh SQLite database) but with one worker, so the
process serving every request is the one whose memory is read. The index is synced
once, then ROUNDS times, interleaved:

- zip: `/recordings/download.zip?from=…&to=…` (that day), read to the end;
- one by one: `/recordings/<id>/audio/?download=1` for each of the same recordings,
  one after the other, as a person clicking each download would.

Throughput is audio bytes per second (the same bytes both ways: the ZIP's own headers
and manifest are not counted for it), the ratio is zip / one by one (target >= 80 %).
The worker's RSS is sampled every 50 ms: idle before, and peak during each kind.
Then, in this process, deflate (levels 1 and 6, ZIP_DEFLATED's default) on one demo WAV and
one demo MP3: how much it would save and how fast it runs, against storing.
"""

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402
    dashboard_env,
    log_in,
    machine,
    prepare_database,
    rss_mb,
    start_gunicorn,
    worker_pids,
)

DAY = "2020-03-09"
WINDOW = f"from={DAY}T00:00&to={DAY}T23:59"
CHUNK = 1024 * 1024


def serve_upstream(latency: float, files: int, seconds: int) -> None:
    """The child process: the demo space with FILES recordings on DAY, their ids on stdout."""
    from demo_space import DEMO_PROJECT_ID, DemoSpace

    space = DemoSpace(host="127.0.0.1", port=0, latency=latency).start()
    made = [
        space.add_recording(
            DEMO_PROJECT_ID,
            created_at=f"{DAY}T{8 + n // 60:02d}:{n % 60:02d}:00Z",
            duration_in_seconds=seconds,
            stereo=False,
        )
        for n in range(files)
    ]
    info = {"base_url": space.base_url, "ids": [r["id"] for r in made]}
    info["bytes"] = sum(r["byte_size"] for r in made)
    print(json.dumps(info), flush=True)
    try:
        sys.stdin.read()
    finally:
        space.stop()


def start_upstream(latency: float, files: int, seconds: int):
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(latency), str(files), str(seconds)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None  # stdout=PIPE
    return process, json.loads(process.stdout.readline())


class PeakRss:
    """The worker's RSS, sampled every 50 ms while in use."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._running = pid, 0.0, False

    def __enter__(self):
        self.peak, self._running = rss_mb(self.pid), True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while self._running:
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.05)

    def __exit__(self, *exc):
        self._running = False
        self._thread.join()


def zip_once(session, base: str) -> tuple[float, bytes]:
    """The whole archive, timed, written to a temporary file as a browser would save it;
    then checked (every CRC) and its manifest returned."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as sink:
        url = base + "/recordings/download.zip?" + WINDOW
        with session.get(url, stream=True, timeout=600) as response:
            response.raise_for_status()
            for chunk in response.iter_content(CHUNK):
                sink.write(chunk)
        took = time.perf_counter() - started
        sink.seek(0)
        with zipfile.ZipFile(sink) as archive:
            manifest = archive.read("manifest.csv")
            bad = archive.testzip()
    if bad is not None:
        raise RuntimeError(f"bad CRC in {bad}")
    return took, manifest


def one_by_one(session, base: str, ids: list[str]) -> tuple[float, int]:
    """Each file in turn, each written to a temporary file as the archive is (a browser
    saves both)."""
    started = time.perf_counter()
    size = 0
    for recording_id in ids:
        url = f"{base}/recordings/{recording_id}/audio/?download=1"
        with (
            session.get(url, stream=True, timeout=600) as response,
            tempfile.TemporaryFile() as sink,
        ):
            response.raise_for_status()
            for chunk in response.iter_content(CHUNK):
                sink.write(chunk)
                size += len(chunk)
    return time.perf_counter() - started, size


def deflate_figures() -> dict:
    """What deflating would save on the demo's files, and at what speed, against storing."""
    import requests

    from demo_space import DEMO_API_TOKEN, DEMO_PROJECT_ID, DemoSpace

    figures = {}
    with DemoSpace(host="127.0.0.1", port=0) as space:
        for media_format in ("wav", "mp3"):
            rec = space.add_recording(
                DEMO_PROJECT_ID, duration_in_seconds=300, media_format=media_format
            )
            url = f"{space.base_url}/media/{DEMO_PROJECT_ID}/{rec['id']}.{media_format}"
            data = requests.get(url, auth=(DEMO_PROJECT_ID, DEMO_API_TOKEN), timeout=60).content
            started = time.perf_counter()
            zlib.crc32(data)
            hashlib.sha256(data).digest()
            stored_s = time.perf_counter() - started
            figures[media_format] = {
                "bytes": len(data),
                "stored_crc_and_sha256_mb_s": round(len(data) / stored_s / 1e6, 1),
            }
            for level in (1, 6):  # the fastest, and ZIP_DEFLATED's default
                started = time.perf_counter()
                packed = zlib.compress(data, level)
                deflate_s = time.perf_counter() - started
                figures[media_format][f"deflate{level}_saves_pct"] = round(
                    100 * (1 - len(packed) / len(data)), 1
                )
                figures[media_format][f"deflate{level}_mb_s"] = round(
                    len(data) / deflate_s / 1e6, 1
                )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    upstream, info = start_upstream(args.latency_ms / 1000, args.files, args.seconds)
    results = {
        "machine": machine(),
        "load_before": os.getloadavg(),
        "latency_ms": args.latency_ms,
        "files": args.files,
        "audio_mb": round(info["bytes"] / 1e6, 1),
    }
    try:
        with tempfile.TemporaryDirectory() as workdir:
            env = dashboard_env(Path(workdir), info["base_url"], cache_seconds=30)
            env["GUNICORN_WORKERS"] = "1"
            prepare_database(env)
            subprocess.run(
                [sys.executable, "manage.py", "sync_recordings", "--user", "demo"],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                timeout=600,
            )
            server, base = start_gunicorn(env, Path(workdir) / "server.log")
            try:
                (worker,) = worker_pids(server.pid)
                session = log_in(base)
                one_by_one(session, base, info["ids"][:2])  # warm: imports, first queries
                idle = rss_mb(worker)
                zips, singles, zip_peaks, single_peaks = [], [], [], []
                for _ in range(args.rounds):
                    with PeakRss(worker) as rss:
                        took, manifest = zip_once(session, base)
                    zip_peaks.append(rss.peak)
                    zips.append(took)
                    lines = manifest.decode().splitlines()
                    if "archive complete" not in lines[-1] or len(lines) != args.files + 2:
                        raise RuntimeError(f"unexpected manifest end: {lines[-1]}")
                    with PeakRss(worker) as rss:
                        took, size = one_by_one(session, base, info["ids"])
                    single_peaks.append(rss.peak)
                    singles.append(took)
                    if size != info["bytes"]:
                        raise RuntimeError(f"one by one got {size} of {info['bytes']} bytes")
                    print(f"round: zip {zips[-1]:.2f} s, one by one {took:.2f} s", flush=True)
                results.update(deflate=deflate_figures())
            finally:
                server.terminate()
                server.wait(timeout=60)
    finally:
        upstream.stdin.close()
        upstream.wait(timeout=30)
    zip_s, single_s = statistics.median(zips), statistics.median(singles)
    results.update(
        load_after=os.getloadavg(),
        zip_s=[round(t, 2) for t in zips],
        one_by_one_s=[round(t, 2) for t in singles],
        zip_mb_s=round(info["bytes"] / zip_s / 1e6, 1),
        one_by_one_mb_s=round(info["bytes"] / single_s / 1e6, 1),
        ratio_pct=round(100 * single_s / zip_s, 1),
        worker_rss_idle_mb=round(idle, 1),
        worker_rss_peak_zip_mb=round(max(zip_peaks), 1),
        worker_rss_peak_one_by_one_mb=round(max(single_peaks), 1),
    )
    print(json.dumps(results, indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve_upstream(float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
