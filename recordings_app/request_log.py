"""One JSON line per request: what was asked, what we answered, and what SignalWire
cost us on the way (calls, seconds waited, last status). Never a token: the line holds
no headers, no query string and no credentials.

Each request has an id: the caller's `X-Request-ID` when it is a plain token (a proxy's
or a load balancer's, so their logs and ours meet), else one made here. It goes back as
`X-Request-ID`, on every log line written while the request runs, and on error pages as
the reference a user can quote.

The same request, and each upstream call made for it, is counted for /metrics
(recordings_app/metrics.py)."""

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar

from recordings_app.signalwire import track_upstream

logger = logging.getLogger("dashboard.requests")

# An incoming id is taken as it is only if it could do no harm in a log line or a page.
ACCEPTABLE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# The id of the request this thread is serving, for the log lines written meanwhile.
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


def request_id_for(request) -> str:
    given = request.headers.get("X-Request-ID", "")
    return given if ACCEPTABLE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def log_requests(get_response):
    # Imported here, in the server's workers, not with this module: gunicorn's master
    # imports it for JsonFormatter before it sets PROMETHEUS_MULTIPROC_DIR
    # (gunicorn.conf.py), and prometheus_client picks its mode when first imported.
    from recordings_app import metrics

    def middleware(request):
        started = time.monotonic()
        request.request_id = request_id_for(request)
        token = current_request_id.set(request.request_id)
        try:
            with track_upstream(on_call=metrics.count_upstream_call) as upstream:
                response = get_response(request)
            response["X-Request-ID"] = request.request_id
            log_request(request, response, started, upstream)
            metrics.count_request(request, response, time.monotonic() - started)
        finally:
            current_request_id.reset(token)
        return response

    return middleware


def log_request(request, response, started: float, upstream) -> None:
    user = getattr(request, "user", None)
    logger.info(
        "request",
        extra={
            "fields": {
                "request_id": request.request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "ms": round((time.monotonic() - started) * 1000, 1),
                "upstream_calls": upstream.calls,
                "upstream_ms": round(upstream.seconds * 1000, 1),
                "upstream_status": upstream.last_status,
                "user": user.pk if user is not None and user.is_authenticated else None,
            }
        },
    )


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
        }
        request_id = current_request_id.get()
        if request_id is not None:
            line["request_id"] = request_id
        line.update(getattr(record, "fields", None) or {"message": record.getMessage()})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)
