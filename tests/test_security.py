"""Security settings and refusals: headers, cookies, sessions, log-in throttling,
redirects after log-in, CSRF, the production checklist, and where the server connects."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import Client

from demo_space import DEMO_PROJECT_ID
from recordings_app import signalwire as sw
from recordings_app.models import Credential

ROOT = Path(__file__).resolve().parent.parent


def production_env(**extra) -> dict:
    # Not this test run's own settings (the browser tests allow async-unsafe calls).
    ignored = ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in ignored}
    env.update(
        DEBUG="0",
        SECRET_KEY="a-long-random-production-secret-" + "x7Qp2#9Lm" * 6,
        CREDENTIALS_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="recordings.example.com",
        DATABASE_URL="sqlite:////tmp/deploy-check-unused.sqlite3",
        **extra,
    )
    return env


# ----------------------------------------------------------------- production settings


def test_the_deploy_checklist_finds_nothing_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_harden_cookies_and_transport():
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ("
        "'SESSION_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'CSRF_COOKIE_SECURE', "
        "'SECURE_HSTS_SECONDS', 'SECURE_SSL_REDIRECT', 'SECURE_CONTENT_TYPE_NOSNIFF', "
        "'SECURE_REFERRER_POLICY', 'SESSION_COOKIE_AGE')}))"
    )
    result = subprocess.run(  # noqa: S603 (a fixed script of our own)
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**production_env(), "DJANGO_SETTINGS_MODULE": "dashboard.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "SESSION_COOKIE_AGE": 1800,
    }


# ------------------------------------------------------------------------- headers


@pytest.mark.no_upstream
def test_pages_carry_a_csp_without_inline_script_and_the_security_headers(client, db):
    response = client.get("/accounts/login/")
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.no_upstream
def test_no_template_has_an_inline_script_or_style():
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        for tag in ("<script", "<style", " style=", " onclick=", " onload="):
            if tag == "<script":
                assert all("src=" in part.split(">", 1)[0] for part in text.split(tag)[1:]), (
                    template
                )
            else:
                assert tag not in text, (template, tag)
    # htmx 2 injects an indicator <style> unless told not to; the CSP would block it.
    assert '"includeIndicatorStyles":false' in (ROOT / "templates/_base.html").read_text()


# ------------------------------------------------------------------------ sessions


def test_the_session_cookie_is_httponly_and_expires_after_30_idle_minutes(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice-password"})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["max-age"] == 1800
    assert cookie["samesite"] == "Lax"


@pytest.mark.no_upstream
def test_each_request_moves_the_idle_expiry_on_and_an_idle_session_ends(client, alice, settings):
    # Whatever the session engine (database, or the cache with Redis): a 3 s idle limit,
    # requests 2 s apart keep the session alive past 3 s, then 3.5 s of quiet end it.
    settings.SESSION_COOKIE_AGE = 3
    client.post("/accounts/login/", {"username": "alice", "password": "alice-password"})
    for _ in range(2):
        time.sleep(2)
        assert client.get("/credentials/").status_code == 200
    time.sleep(3.5)
    response = client.get("/credentials/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_requests_close_together_do_not_each_write_the_session(client, alice, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    client.post("/accounts/login/", {"username": "alice", "password": "alice-password"})
    client.get("/credentials/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/credentials/")
    assert not [q for q in queries.captured_queries if "UPDATE" in q["sql"].upper()]


# ---------------------------------------------------------------- log-in throttling


def wrong_password(client, username="alice", address="10.9.8.7"):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": "not-the-password"},
        REMOTE_ADDR=address,
    )


def test_five_wrong_passwords_lock_the_login_out_with_a_readable_page(client, alice):
    for _ in range(4):
        assert wrong_password(client).status_code == 200
    locked = wrong_password(client)
    assert locked.status_code == 429
    assert "Too many failed log-ins" in locked.content.decode()
    assert "paused for 15 minutes" in locked.content.decode()
    assert locked["Retry-After"] == "900"
    # Even the right password is refused now, and nothing says whether it was right.
    right = client.post(
        "/accounts/login/",
        {"username": "alice", "password": "alice-password"},
        REMOTE_ADDR="10.9.8.7",
    )
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_code_that_logs_in_without_a_request_is_not_throttled(client, alice):
    for _ in range(5):
        wrong_password(client)
    assert Client().login(username="alice", password="alice-password")


def test_a_lockout_is_for_that_username_from_that_address_only(client, alice, bob):
    for _ in range(5):
        wrong_password(client)
    assert wrong_password(client, username="bob").status_code == 200
    other_address = client.post(
        "/accounts/login/",
        {"username": "alice", "password": "alice-password"},
        REMOTE_ADDR="10.1.1.1",
    )
    assert other_address.status_code == 302


def test_a_right_password_resets_the_count(client, alice):
    for _ in range(4):
        wrong_password(client)
    client.post(
        "/accounts/login/",
        {"username": "alice", "password": "alice-password"},
        REMOTE_ADDR="10.9.8.7",
    )
    client.logout()
    for _ in range(4):
        assert wrong_password(client).status_code == 200


# ------------------------------------------------------------------ open redirects


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/phish",
        "/\\evil.example",
        "https:evil.example",
        "javascript:alert(1)",
        " https://evil.example",
    ],
)
def test_logging_in_never_redirects_off_site(client, alice, target):
    response = client.post(
        f"/accounts/login/?next={target}",
        {"username": "alice", "password": "alice-password", "next": target},
    )
    assert response.status_code == 302
    assert response["Location"] == "/recordings/"


def test_logging_in_follows_a_local_next(client, alice):
    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": "alice-password", "next": "/credentials/"},
    )
    assert response["Location"] == "/credentials/"


# --------------------------------------------------------------------------- CSRF


@pytest.fixture
def csrf_client(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    return client


def test_every_state_change_needs_the_csrf_token(csrf_client, alice, demo_space):
    recording_id = demo_space.recordings(DEMO_PROJECT_ID)[0]["id"]
    credential = Credential.objects.get(user=alice)
    spare = Credential.objects.create(
        user=alice, label="Spare", space="demo", project_id=DEMO_PROJECT_ID, token_hint="0000"
    )
    posts = [
        f"/recordings/{recording_id}/delete/",
        f"/recordings/{recording_id}/played/",
        f"/credentials/{spare.pk}/activate/",
        f"/credentials/{credential.pk}/delete/",
        "/credentials/add/",
        "/accounts/logout/",
    ]
    for url in posts:
        response = csrf_client.post(url, {"label": "x"})
        assert response.status_code == 403, url
        assert "This form has expired" in response.content.decode()
    assert recording_id in [r["id"] for r in demo_space.recordings(DEMO_PROJECT_ID)]
    assert Credential.objects.get(pk=credential.pk).is_active
    assert Credential.objects.filter(user=alice).count() == 2
    assert "_auth_user_id" in csrf_client.session
    assert all(method != "DELETE" for method, _, _ in demo_space.request_log)


@pytest.mark.no_upstream
def test_logging_in_needs_the_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice-password"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


# ------------------------------------------------------------ where the server connects


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("10.0.0.8", False),
        ("172.16.4.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 (an address under test, not a bind)
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
    ],
)
def test_which_addresses_count_as_public(address, public):
    assert sw.is_public_address(address) is public


@pytest.fixture
def fresh_connections(monkeypatch):
    """A pooled connection was checked when it was opened, under the settings of that
    time; these tests change the settings, so they start without pooled connections."""
    monkeypatch.setattr(sw._local, "session", None, raising=False)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "[::1]"])
def test_in_production_loopback_is_refused_before_connecting(
    settings, demo_space, fresh_connections, host
):
    settings.SIGNALWIRE_ALLOW_PRIVATE_ADDRESSES = False
    settings.SIGNALWIRE_BASE_URL = "https://api.example.test"  # not the host asked for
    port = demo_space.base_url.rsplit(":", 1)[1]
    with pytest.raises(sw.ForbiddenAddress):
        sw._send("GET", f"http://{host}:{port}/api/relay/rest/recordings", auth=("a", "b"))
    assert demo_space.request_log == []


def test_in_production_a_space_that_resolves_to_loopback_is_refused(
    alice_client, alice, settings, demo_space, monkeypatch, fresh_connections
):
    # No DNS server here can point a name at loopback: patch the resolver (only it) so
    # "acme.signalwire.com" resolves to the demo space's address, as a rebinding would.
    settings.SIGNALWIRE_ALLOW_PRIVATE_ADDRESSES = False
    settings.SIGNALWIRE_BASE_URL = ""
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host == "acme.signalwire.com":
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    Credential.objects.filter(user=alice).update(space="acme")
    response = alice_client.get("/recordings/")
    assert response.status_code == 502
    assert "acme.signalwire.com leads to a private or local network address" in (
        response.content.decode()
    )
    assert demo_space.request_log == []


def test_signalwire_base_url_host_is_allowed_in_production(alice_client, settings):
    settings.SIGNALWIRE_ALLOW_PRIVATE_ADDRESSES = False  # 127.0.0.1 is the base URL's host
    assert alice_client.get("/recordings/").status_code == 200


def test_a_media_redirect_to_another_host_is_followed_without_credentials(alice_client, demo_space):
    recording = demo_space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=3)
    elsewhere = demo_space.add_recording(
        DEMO_PROJECT_ID, media_host="foreign", duration_in_seconds=3
    )
    demo_space.add_fault(
        status=302,
        body="",
        headers={"Location": elsewhere["url"]},
        path_prefix=f"/media/{DEMO_PROJECT_ID}/{recording['id']}",
    )
    response = alice_client.get(f"/recordings/{recording['id']}/audio/")
    assert response.status_code == 200
    b"".join(response.streaming_content)
    log = demo_space.foreign_request_log
    assert log and not any(entry.authorization for entry in log)


def test_a_media_redirect_on_the_same_host_is_followed(alice_client, demo_space):
    recording = next(
        r for r in demo_space.recordings(DEMO_PROJECT_ID) if r["status"] == "completed"
    )
    demo_space.add_fault(
        status=302, body="", headers={"Location": recording["url"]}, times=1, path_prefix="/media/"
    )
    response = alice_client.get(f"/recordings/{recording['id']}/audio/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:4] == b"RIFF"


# --------------------------------------------------------------------- permissions

RECORDING = "3f1c2a9e-8b7d-4e21-9a55-0c6d2b1e7f40"


@pytest.mark.no_upstream
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/recordings/"),
        ("get", "/recordings/go/?id=x"),
        ("get", f"/recordings/{RECORDING}/"),
        ("get", f"/recordings/{RECORDING}/audio/"),
        ("get", f"/recordings/{RECORDING}/delete/"),
        ("post", f"/recordings/{RECORDING}/delete/"),
        ("get", "/credentials/"),
        ("get", "/credentials/add/"),
        ("post", "/credentials/add/"),
        ("post", "/credentials/1/activate/"),
        ("post", "/credentials/1/delete/"),
        ("get", "/activity/"),
        ("get", "/activity/export.csv"),
    ],
)
def test_every_action_needs_a_login(client, db, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/recordings/{id}/delete/"),
        ("post", "/recordings/{id}/delete/"),
        ("get", "/activity/"),
        ("get", "/activity/export.csv"),
        ("get", "/admin/recordings_app/auditevent/"),
    ],
)
def test_support_staff_may_not_delete_or_see_the_activity(bob, demo_space, method, url):
    from django.contrib.auth.models import Group

    from demo_space import OTHER_PROJECT_ID

    bob.groups.add(Group.objects.get(name="Support"))
    bob.is_staff = True  # even with the admin open to them
    bob.save()
    client = Client()
    client.force_login(bob)
    recording_id = demo_space.recordings(OTHER_PROJECT_ID)[0]["id"]
    response = getattr(client, method)(url.format(id=recording_id))
    assert response.status_code == 403
    assert recording_id in {r["id"] for r in demo_space.recordings(OTHER_PROJECT_ID)}
    assert [m for m, _, _ in demo_space.request_log if m == "DELETE"] == []
