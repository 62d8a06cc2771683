"""The request log: one JSON line per request, with the time spent waiting for SignalWire."""

import json
import logging

from recordings_app.request_log import JsonFormatter


def test_each_request_logs_one_json_line_with_upstream_time(alice_client, caplog):
    logger = logging.getLogger("dashboard.requests")
    logger.addHandler(caplog.handler)
    try:
        alice_client.get("/recordings/")
    finally:
        logger.removeHandler(caplog.handler)
    [record] = [r for r in caplog.records if r.name == "dashboard.requests"]
    line = json.loads(JsonFormatter().format(record))
    assert line["path"] == "/recordings/" and line["status"] == 200
    # One list request per API family, made at once: their time overlaps.
    assert line["upstream_calls"] == 2 and line["upstream_status"] == 200
    assert line["upstream_ms"] > 0 and line["ms"] >= line["upstream_ms"]
