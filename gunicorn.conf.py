"""Production server settings: `gunicorn dashboard.wsgi` reads this file by itself.

Each worker is a process with threads: the dashboard spends most of a request waiting
on SignalWire, so threads overlap that waiting cheaply. Override any value with the
environment (GUNICORN_WORKERS, GUNICORN_THREADS, PORT) or on the command line.
"""

import multiprocessing
import os

from dashboard.json_logging import json_logging

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Longer than the worst upstream wait: connect 3 s + read 10 s, or a 6 s retry budget,
# plus rendering. A long audio stream is not one "request" to this timer in gthread
# workers: the timeout is about a worker that stops answering its heartbeat.
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
