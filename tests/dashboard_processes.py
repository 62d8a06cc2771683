"""The dashboard in processes of its own, for the tests that run real servers and for
bench/run.py, which imports this as `tests.dashboard_processes`. Nothing here imports
Django: the settings are the child processes' own, from the environment they are given."""

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def migrate_with_demo_user(env: dict, timeout: float = 120) -> None:
    """Migrate the database `env` names and give it the demo user (demo / demo, with the
    demo space's credentials), each in a `manage.py` process run with `env`."""
    run: dict[str, Any] = dict(cwd=ROOT, env=env, check=True, capture_output=True, timeout=timeout)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], **run)
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); "
            "from recordings_app.management.commands.demo import create_demo_user; "
            "create_demo_user()",
        ],
        **run,
    )


def run_python(script: str, env: dict, timeout: float = 60) -> str:
    """`script` run by a fresh Python at the checkout's root with exactly `env` (a settings
    module read as a deployment would read it); what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return done.stdout


def start_server(env: dict, *args: str, log=subprocess.DEVNULL) -> tuple[subprocess.Popen, str]:
    """The production server as deployed (`gunicorn`, reading gunicorn.conf.py) on a free
    loopback port, with `args` added to its command line; returned once /healthz answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            if requests.get(url + "/healthz", timeout=5).status_code == 200:
                return process, url
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"gunicorn at {url} did not answer /healthz within 60 s")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def answers(address: tuple[str, int]) -> bool:
    """Whether something accepts TCP connections at `address` (PostgreSQL, Redis)."""
    try:
        socket.create_connection(address, timeout=0.5).close()
    except OSError:
        return False
    return True


def scale_out_services_answer() -> bool:
    """PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379, as on the project's
    machines: the tests of several servers need both."""
    return answers(("127.0.0.1", 5432)) and answers(("127.0.0.1", 6379))
