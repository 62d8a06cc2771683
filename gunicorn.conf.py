"""Production server settings: `gunicorn` reads this file from the working directory.

Each worker is a process running uvicorn (dashboard/uvicorn_worker.py says why): audio
streams are sent from its event loop, pages run as sync views in threads. Override any
value with the environment (GUNICORN_WORKERS, PORT) or on the command line.
"""

import multiprocessing
import os

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
