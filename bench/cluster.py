"""Many servers: two app servers behind a load balancer, agents browsing and playing.

    .venv/bin/python bench/cluster.py [--agents 200] [--seconds 60] [--json FILE]

On loopback only, and needs PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379), the
scale-out shape. Starts a demo space (its own process), a fresh PostgreSQL database,
two gunicorn servers as deployed (gunicorn.conf.py, 2 workers each) sharing it and one
Redis, and a TCP round-robin balancer in front (bench/proxy.py). AGENTS simulated
agents, each with a session of their own, then browse and play through the balancer
for SECONDS, as tests/test_load.py's users do: a list page (sometimes the next one,
sometimes through htmx), a recording's page, its audio from the start and a seek.
Printed: requests by kind, latency (median, p95), audio read, errors. The shortened
form runs in CI (tests/test_cluster_load.py), where any error fails it.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.dashboard_processes import (  # noqa: E402
    migrate_with_demo_user,
    run_python,
    start_server,
    stop_server,
)
from tests.test_load import Tally, browse_and_play  # noqa: E402

ADMIN_DATABASE = "postgresql://postgres@127.0.0.1:5432/postgres"


def run_cluster(agents: int, seconds: float, workdir: Path) -> dict:
    import psycopg

    name = f"dashboard_cluster_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_DATABASE, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    processes: list[subprocess.Popen] = []
    try:
        space = subprocess.Popen(
            [sys.executable, "-m", "demo_space", "--port", "0"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        processes.append(space)
        assert space.stdout is not None  # stdout=PIPE
        space_url = space.stdout.readline().rsplit(" ", 1)[1].strip()
        env = {
            **os.environ,
            "DEBUG": "1",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
            "CACHE_KEY_PREFIX": name,
            "SECRET_KEY": "cluster-load-" + name,
            "SIGNALWIRE_BASE_URL": space_url,
            # Two cores run everything here: give the demo space time, so an error means
            # the dashboard failed, not that the machine was busy.
            "SIGNALWIRE_READ_TIMEOUT": "20",
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        }
        migrate_with_demo_user(env)
        sessions = json.loads(
            run_python(
                "import json; import tests.load_server as s; "
                f"print(json.dumps(s.make_users({agents})))",
                env,
                timeout=300,
            )
            .strip()
            .splitlines()[-1]
        )
        logs = [(workdir / f"server-{n}.log").open("w") for n in range(2)]
        servers = []
        for log in logs:
            server, url = start_server(env, "--workers", "2", log=log)
            processes.append(server)
            servers.append(int(url.rsplit(":", 1)[1]))
        proxy = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "proxy.py"), *map(str, servers)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        processes.append(proxy)
        assert proxy.stdout is not None  # stdout=PIPE
        base = f"http://127.0.0.1:{json.loads(proxy.stdout.readline())['port']}"

        tally = Tally()
        started = time.monotonic()
        deadline = started + seconds
        users = [
            threading.Thread(target=browse_and_play, args=(base, key, n, deadline, tally))
            for n, key in enumerate(sessions)
        ]
        for user in users:
            user.start()
        for user in users:
            user.join(timeout=max(1, deadline + 90 - time.monotonic()))
        elapsed = time.monotonic() - started
        for log in logs:
            log.close()
        server_errors = [
            line
            for n in range(2)
            for line in (workdir / f"server-{n}.log").read_text().splitlines()
            if '"level": "ERROR"' in line
        ]
        return {
            "agents": agents,
            "servers": 2,
            "workers_per_server": 2,
            **tally.figures(elapsed),
            "agents_unfinished": sum(user.is_alive() for user in users),
            "server_error_lines": len(server_errors),
            "server_error_samples": [line[:300] for line in server_errors[:5]],
            "load_average": os.getloadavg(),
        }
    finally:
        for process in reversed(processes):
            stop_server(process)
        with psycopg.connect(ADMIN_DATABASE, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        figures = run_cluster(args.agents, args.seconds, Path(workdir))
    print(json.dumps(figures, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
