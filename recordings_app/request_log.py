"""One JSON line per request: what was asked, what we answered, and what SignalWire
cost us on the way (calls, seconds waited, last status). Never a token: the line holds
no headers, no query string and no credentials."""

import json
import logging
import time

from recordings_app.signalwire import track_upstream

logger = logging.getLogger("dashboard.requests")


def log_requests(get_response):
    def middleware(request):
        started = time.monotonic()
        with track_upstream() as upstream:
            response = get_response(request)
        user = getattr(request, "user", None)
        logger.info(
            "request",
            extra={
                "fields": {
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
        return response

    return middleware


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
        }
        line.update(getattr(record, "fields", None) or {"message": record.getMessage()})
        return json.dumps(line, default=str)
