"""What /metrics reports (recordings_app/views/metrics.py), in Prometheus's format.

Counted as things happen, in the process they happen in: requests by route, method and
status (request_log), upstream calls and their seconds by status (request_log, through
the SignalWire client's `track_upstream`), audio bytes streamed (streaming). Under
gunicorn each worker process writes its counts to a file in PROMETHEUS_MULTIPROC_DIR
(gunicorn.conf.py makes a fresh one at start) and a scrape, whichever worker answers
it, sums them all: prometheus_client's multiprocess mode. Without that variable (tests,
runserver) they are kept in the process's memory.

Read from the database at scrape time instead, so every worker gives the same answer:
each credential's sync lag and the worker's queue. Labels are bounded by design: route
names (never raw paths), a fixed set of methods, statuses, credential ids (never a
label, a space or a token).
"""

import os

from django.urls import Resolver404, resolve
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

# Methods counted by name; anything else a client makes up is "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The route whose streamed bytes are audio (recordings_app/urls.py).
# What counts as audio streamed: a recording's audio, through a share link, and the
# archives of Download all (ZIP) (their few bytes of ZIP headers and manifest included).
AUDIO_ROUTES = frozenset({"recording_audio", "shared_audio", "recordings_zip"})
# Static files (whitenoise) and unknown paths resolve to no route.
NO_ROUTE = "none"

# registry=None: created once per process and handed to each scrape's registry (below),
# so a scrape in multiprocess mode does not also report one worker's own values.
REQUESTS = Counter(
    "dashboard_requests",
    "Requests answered, by route name, method and status.",
    ["route", "method", "status"],
    registry=None,
)
REQUEST_SECONDS = Histogram(
    "dashboard_request_duration_seconds",
    "Seconds to answer a request (to the first byte, for a streamed one), by route name.",
    ["route"],
    registry=None,
)
UPSTREAM_CALLS = Counter(
    "dashboard_upstream_calls",
    "Calls to SignalWire made while answering requests, by HTTP status (error: none).",
    ["status"],
    registry=None,
)
UPSTREAM_SECONDS = Histogram(
    "dashboard_upstream_call_duration_seconds",
    "Seconds each call to SignalWire took (to the headers, for media), by HTTP status.",
    ["status"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20),
    registry=None,
)
AUDIO_BYTES = Counter(
    "dashboard_audio_streamed_bytes",
    "Bytes of recordings' audio sent: to listeners, through share links, in ZIP archives.",
    registry=None,
)
SERVER_PROCESSES = Gauge(
    "dashboard_server_processes",
    # Each gunicorn worker sets it to 1 as it starts (gunicorn.conf.py).
    "Server processes whose counts this scrape sums: gunicorn's live workers.",
    multiprocess_mode="livesum",
    registry=None,
)
COUNTED_HERE = (
    REQUESTS,
    REQUEST_SECONDS,
    UPSTREAM_CALLS,
    UPSTREAM_SECONDS,
    AUDIO_BYTES,
    SERVER_PROCESSES,
)


def route_name(request) -> str:
    """The URL pattern's name the request went to, or resolves to (the probes are
    answered before URL resolution); NO_ROUTE for static files and unknown paths."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return NO_ROUTE
    return match.view_name or NO_ROUTE


def count_request(request, response, seconds: float) -> None:
    route = route_name(request)
    method = request.method if request.method in METHODS else "other"
    REQUESTS.labels(route, method, str(response.status_code)).inc()
    REQUEST_SECONDS.labels(route).observe(seconds)


def count_upstream_call(status: int | None, seconds: float) -> None:
    label = "error" if status is None else str(status)
    UPSTREAM_CALLS.labels(label).inc()
    UPSTREAM_SECONDS.labels(label).observe(seconds)


def count_audio(chunk: bytes) -> None:
    AUDIO_BYTES.inc(len(chunk))


def from_the_database():
    """Each credential's sync lag (seconds since its index was last brought up to date;
    never indexed: not reported, counted in dashboard_credentials_never_indexed) and the
    tasks waiting for the worker."""
    # Imported here: this module is imported with the JSON log formatter
    # (recordings_app.request_log), while logging is set up, before models can be.
    from django_tasks_db.models import DBTaskResult

    from recordings_app.models import Credential

    now = timezone.now()
    lag = GaugeMetricFamily(
        "dashboard_sync_lag_seconds",
        "Seconds since each credential's index was last brought up to date.",
        labels=["credential_id"],
    )
    never = 0
    for pk, indexed in Credential.objects.order_by("pk").values_list("pk", "sync__indexed_as_of"):
        if indexed is None:
            never += 1
        else:
            lag.add_metric([str(pk)], max(0.0, (now - indexed).total_seconds()))
    yield lag
    yield GaugeMetricFamily(
        "dashboard_credentials_never_indexed",
        "Credentials whose index has never been brought up to date.",
        value=never,
    )
    waiting = DBTaskResult.objects.ready()  # READY and due: what the worker would take now
    yield GaugeMetricFamily(
        "dashboard_task_queue_depth",
        "Tasks (index syncs) waiting for the worker.",
        value=waiting.count(),
    )
    oldest = waiting.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
    yield GaugeMetricFamily(
        "dashboard_task_queue_oldest_seconds",
        "Seconds the oldest waiting task has waited (0: none waits).",
        value=0 if oldest is None else max(0.0, (now - oldest).total_seconds()),
    )


class _FromTheDatabase:
    def collect(self):
        return from_the_database()


def exposition() -> tuple[bytes, str]:
    """The whole scrape: the counts of every server process (or of this one, outside
    multiprocess mode) and what the database says now. With the content type."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        for metric in COUNTED_HERE:
            registry.register(metric)
    registry.register(_FromTheDatabase())
    return generate_latest(registry), CONTENT_TYPE_LATEST
