"""Errors to Sentry (issue #14, "Logs and errors"): with SENTRY_DSN set, an error is sent,
and nothing in it opens anything: no API token (however it got there), no cookie, no
session, no CSRF token, no password, no Authorization header.

The scrubber is tested on a realistic event; then an error in a view goes to a Sentry
stand-in on loopback, and what arrives is read."""

import base64
import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from dashboard.sentry import scrubbed, start_sentry
from demo_space import DEMO_API_TOKEN, DEMO_PROJECT_ID

BASIC = base64.b64encode(f"{DEMO_PROJECT_ID}:{DEMO_API_TOKEN}".encode()).decode()
SESSION_ID = "s3ss10nvalue7c1e9b"
CSRF_TOKEN = "csrfvalue4b2a8d0e6f"
SECRETS = (DEMO_API_TOKEN, BASIC, SESSION_ID, CSRF_TOKEN, "alice-password")


def assert_nothing_secret_in(sent: str) -> None:
    for secret in SECRETS:
        assert secret not in sent


def realistic_event() -> dict:
    """An event as sentry-sdk's Django integration builds it for a failed upstream call
    made while saving a credentials form."""
    return {
        "level": "error",
        "exception": {
            "values": [
                {
                    "type": "CredentialsRejected",
                    "value": f"401 from demo.signalwire.com with token {DEMO_API_TOKEN}",
                    "stacktrace": {
                        "frames": [
                            {
                                "function": "_send_within",
                                "module": "recordings_app.signalwire.transport",
                                "vars": {
                                    "auth": f"('{DEMO_PROJECT_ID}', '{DEMO_API_TOKEN}')",
                                    "headers": f"{{'Authorization': 'Basic {BASIC}'}}",
                                    "api_token": DEMO_API_TOKEN,
                                    "self": "<SignalWireClient demo>",
                                },
                            },
                            {
                                "function": "credential_add",
                                "vars": {
                                    "request": "<WSGIRequest: POST '/credentials/add/'>",
                                    "form": {"token": DEMO_API_TOKEN, "label": "Acme"},
                                    "password": "alice-password",
                                },
                            },
                        ]
                    },
                }
            ]
        },
        "request": {
            "url": "https://dashboard.example.com/credentials/add/",
            "method": "POST",
            "query_string": f"next=/recordings/&api_token={DEMO_API_TOKEN}",
            "cookies": {"sessionid": SESSION_ID, "csrftoken": CSRF_TOKEN},
            "headers": {
                "Cookie": f"sessionid={SESSION_ID}; csrftoken={CSRF_TOKEN}",
                "Authorization": f"Basic {BASIC}",
                "X-Csrftoken": CSRF_TOKEN,
                "User-Agent": "Mozilla/5.0",
            },
            "data": {
                "label": "Acme",
                "api_token": DEMO_API_TOKEN,
                "csrfmiddlewaretoken": CSRF_TOKEN,
            },
            "env": {"SERVER_NAME": "dashboard.example.com"},
        },
        "breadcrumbs": {
            "values": [
                {
                    "category": "dashboard.requests",
                    "message": f"GET https://demo.signalwire.com/api/laml?token={DEMO_API_TOKEN}",
                    "data": {"session": {"_auth_user_id": "1"}, "status": 401},
                },
                {
                    "category": "redis",
                    "message": f"GET 'dashboard:1:django.contrib.sessions.cached_db{SESSION_ID}'",
                },
                {
                    "category": "httplib",
                    "data": {"url": "https://demo.signalwire.com/api/relay/rest/recordings"},
                    "message": f"sent Authorization: Basic {BASIC}",
                },
            ]
        },
        "extra": {"sys.argv": ["gunicorn"], "token": DEMO_API_TOKEN},
    }


def test_the_scrubber_leaves_no_token_cookie_session_or_password_in_an_event():
    event = scrubbed(realistic_event(), {})
    sent = json.dumps(event)
    assert_nothing_secret_in(sent)
    # What makes the report useful stays.
    assert event["exception"]["values"][0]["type"] == "CredentialsRejected"
    assert "401 from demo.signalwire.com" in event["exception"]["values"][0]["value"]
    assert event["request"]["url"] == "https://dashboard.example.com/credentials/add/"
    assert event["request"]["headers"]["User-Agent"] == "Mozilla/5.0"
    assert event["request"]["data"]["label"] == "Acme"
    assert event["breadcrumbs"]["values"][0]["data"]["status"] == 401


def test_the_scrubber_finds_a_token_under_any_name_and_in_any_string():
    crumb = {"message": "retrying", "data": {"what": [f"x {DEMO_API_TOKEN} y", ("a", BASIC)]}}
    assert_nothing_secret_in(json.dumps(scrubbed(crumb, {})))


def test_a_share_links_token_inside_the_log_in_pages_next_is_masked():
    # Someone without a session opens a share link: the log-in page's address carries
    # the link, token and all, URL-encoded in ?next=.
    link_token = "Zq3x9VnK2mLr8TtYp4WcA7dBe1FgHs6JuQo5Ri0Ek_w"
    event = {
        "request": {
            "url": "https://dash.example/accounts/login/",
            "query_string": f"next=%2Fshared%2F%3Ftoken%3D{link_token}",
        }
    }
    assert link_token not in json.dumps(scrubbed(event, {}))


# --------------------------------------------------- to a Sentry on loopback


class SentryStandIn(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        payload = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            payload = gzip.decompress(payload)
        self.received.append(payload)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry():
    server = ThreadingHTTPServer(("127.0.0.1", 0), SentryStandIn)
    SentryStandIn.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    start_sentry(f"http://public-key@127.0.0.1:{server.server_port}/1", environment="test")
    yield SentryStandIn.received
    sentry_sdk.get_client().close()  # flushes, then sends nothing more
    server.shutdown()
    server.server_close()


def failing_view(request):
    api_token = DEMO_API_TOKEN  # noqa: F841 - a local variable the report would show
    raise RuntimeError(f"SignalWire said no to {DEMO_PROJECT_ID}:{DEMO_API_TOKEN}")


def quiet_view(request):
    return HttpResponse("fine")


urlpatterns = [path("fails/", failing_view), path("fine/", quiet_view)]


@pytest.mark.no_upstream
@pytest.mark.django_db
@pytest.mark.urls("tests.test_sentry")
def test_an_error_reaches_sentry_without_token_cookie_or_session(sentry):
    browser = Client(raise_request_exception=False)
    browser.cookies["sessionid"] = SESSION_ID
    browser.cookies["csrftoken"] = CSRF_TOKEN
    headers = {"Authorization": f"Basic {BASIC}", "X-CSRFToken": CSRF_TOKEN}
    assert browser.get("/fine/", headers=headers).status_code == 200  # a breadcrumb, maybe
    response = browser.get(f"/fails/?api_token={DEMO_API_TOKEN}", headers=headers)
    assert response.status_code == 500
    sentry_sdk.flush(timeout=5)
    sent = b"\n".join(sentry).decode()
    assert "RuntimeError" in sent and "SignalWire said no" in sent  # it did arrive
    assert "failing_view" in sent
    assert_nothing_secret_in(sent)
