"""Production server settings: `gunicorn` reads this file from the working directory.

Each worker is a process running uvicorn (dashboard/uvicorn_worker.py says why): audio
streams are sent from its event loop, pages run as sync views in threads. Override any
value with the environment (GUNICORN_WORKERS, PORT) or on the command line.
"""

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

from dashboard.json_logging import json_logging

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
wsgi_app = "dashboard.asgi:application"  # ASGI, despite gunicorn's name for the setting
worker_class = "dashboard.uvicorn_worker.Worker"
# How long a worker's event loop may go without a heartbeat before gunicorn replaces it.
# Requests do not count against it: an audio stream may last an hour.
timeout = 60
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so slow leaks cannot accumulate.
max_requests = 2000
max_requests_jitter = 200
# Our own middleware logs one JSON line per request; gunicorn's access log would repeat it.
accesslog = None
errorlog = "-"  # stderr, as JSON lines (logconfig_dict below)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's own lines (start, worker exits and timeouts, errors) in the same JSON lines
# as Django's (dashboard/settings.py LOGGING), through the same formatter.
logconfig_dict = json_logging(
    {
        "gunicorn.error": {"handlers": ["json"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["json"], "level": "INFO", "propagate": False},
    }
)


# /metrics sums the counts of every worker (recordings_app/metrics.py): each writes them
# to files in PROMETHEUS_MULTIPROC_DIR, which must be set before the workers start and
# empty then (old files would be added in). Given one, its files are removed at start;
# else the server makes a fresh directory, removed at exit.
_made_metrics_dir = None


def on_starting(server):
    global _made_metrics_dir
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        for old in Path(given).glob("*.db"):
            old.unlink()
    else:
        _made_metrics_dir = tempfile.mkdtemp(prefix="dashboard-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = _made_metrics_dir


def post_worker_init(worker):
    from recordings_app.metrics import SERVER_PROCESSES

    SERVER_PROCESSES.set(1)  # dashboard_server_processes: this worker counts


def child_exit(server, worker):
    # A worker that ended (recycled after max_requests, or killed): its counters stay in
    # the sums, its live gauge (dashboard_server_processes) leaves them.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _made_metrics_dir:
        shutil.rmtree(_made_metrics_dir, ignore_errors=True)
