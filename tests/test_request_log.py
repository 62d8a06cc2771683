"""The request log: one JSON line per request, with the time spent waiting for SignalWire."""

import json
import logging

import pytest

from recordings_app.request_log import JsonFormatter


def test_each_request_logs_one_json_line_with_upstream_time(alice_client, caplog):
    caplog.set_level(logging.INFO, "dashboard.requests")  # it goes to the root's handler
    alice_client.get("/recordings/")
    [record] = [r for r in caplog.records if r.name == "dashboard.requests"]
    line = json.loads(JsonFormatter().format(record))
    assert line["path"] == "/recordings/" and line["status"] == 200
    # One list request per API family, made at once: their time overlaps.
    # both recordings lists, and one window each of voice logs and calls (who called whom)
    assert line["upstream_calls"] == 4 and line["upstream_status"] == 200
    assert line["upstream_ms"] > 0 and line["ms"] >= line["upstream_ms"]


def test_each_request_gets_an_id_in_the_header_and_the_log_line(alice_client, caplog):
    caplog.set_level(logging.INFO, "dashboard.requests")
    response = alice_client.get("/profile/")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    [record] = [r for r in caplog.records if r.name == "dashboard.requests"]
    assert json.loads(JsonFormatter().format(record))["request_id"] == request_id


def test_a_plain_incoming_request_id_is_kept(alice_client):
    response = alice_client.get("/profile/", HTTP_X_REQUEST_ID="lb-7f3a.91:2")
    assert response["X-Request-ID"] == "lb-7f3a.91:2"


@pytest.mark.parametrize("given", ["x" * 65, "<script>", "a b", "ünïcode", ""])
def test_an_incoming_request_id_that_is_not_a_plain_token_is_replaced(alice_client, given):
    response = alice_client.get("/profile/", HTTP_X_REQUEST_ID=given)
    assert response["X-Request-ID"] != given and len(response["X-Request-ID"]) == 32


def test_error_pages_show_the_reference_to_quote(alice_client):
    response = alice_client.get("/no-such-page/", HTTP_X_REQUEST_ID="ref-404")
    assert response.status_code == 404
    assert "Quote this reference: <code>ref-404</code>" in response.content.decode()


def test_the_problem_page_shows_the_reference(alice_client):
    response = alice_client.get("/recordings/not-an-id/", HTTP_X_REQUEST_ID="ref-problem")
    assert response.status_code == 404
    assert "Quote this reference: <code>ref-problem</code>" in response.content.decode()


@pytest.mark.django_db
def test_the_server_error_page_shows_the_reference(client, monkeypatch):
    from django.contrib.auth import views as auth_views

    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(auth_views.LoginView, "get", fail)
    client.raise_request_exception = False
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="ref-500")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Quote this reference: <code>ref-500</code>" in page and "boom" not in page


@pytest.mark.django_db
def test_a_bad_host_page_shows_the_reference_and_no_trace(client, settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["example.com"]
    response = client.get("/accounts/login/", HTTP_HOST="10.0.0.7", HTTP_X_REQUEST_ID="ref-400")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Quote this reference: <code>ref-400</code>" in page and "Traceback" not in page


def test_log_lines_written_during_a_request_carry_its_id():
    from recordings_app.request_log import current_request_id

    record = logging.LogRecord("recordings_app.index", logging.WARNING, "", 0, "slow", (), None)
    token = current_request_id.set("abc123")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        current_request_id.reset(token)
    assert line["request_id"] == "abc123" and line["message"] == "slow"
