"""Clients that ask for audio and never read it (a paused player, a slow phone, an
attacker) must not stop the server answering anyone else (issue #11, item 1).

Against the production server as deployed (gunicorn with gunicorn.conf.py, `DEBUG=0`),
given one worker so that every stalled client lands on it, and a demo space of its own
with an hour-long recording (far more than the socket buffers between them hold). Under
the threaded WSGI workers this replaced, 40 such clients left /healthz unanswered for as
long as they stayed open: each held one of the worker's threads.
"""

import contextlib
import os
import re
import socket
import time

import pytest
import requests
from cryptography.fernet import Fernet

from demo_space import DEMO_PROJECT_ID, DemoSpace
from tests.dashboard_processes import (
    migrate_with_demo_user,
    run_python,
    start_server,
    stop_server,
)

STALLED = 64


@pytest.fixture(scope="module")
def space():
    space = DemoSpace(host="127.0.0.1", port=0).start()
    # 8 kHz 16-bit mono: 57.6 MB, so no buffer on the way can take it all.
    space.long_id = space.add_recording(
        DEMO_PROJECT_ID, duration_in_seconds=3600, stereo=False, status="completed"
    )["id"]
    yield space
    space.stop()


@pytest.fixture(scope="module")
def server(space, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("stalled")
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "stalled-listeners-" + Fernet.generate_key().decode(),
        "CREDENTIALS_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "SIGNALWIRE_BASE_URL": space.base_url,
        "SIGNALWIRE_ALLOW_PRIVATE_ADDRESSES": "1",
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
    }
    env.pop("REDIS_URL", None)
    migrate_with_demo_user(env)
    # DEBUG=0 pages name the collected, hashed static files: collect them first, as a
    # deployment does (a clean checkout has none).
    run_python(
        "from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'collectstatic', '--noinput', '-v0'])",
        env,
    )
    process, url = start_server(env, "--workers", "1")
    yield url
    stop_server(process)


def session_cookie(base: str) -> str:
    """The demo user's session cookie. The cookies are Secure (DEBUG=0) and this is plain
    HTTP on loopback, so they are sent by hand."""
    page = requests.get(base + "/accounts/login/", timeout=10)
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert found is not None
    token = found.group(1)
    response = requests.post(
        base + "/accounts/login/",
        data={"username": "demo", "password": "demo", "csrfmiddlewaretoken": token},
        headers={"Referer": base + "/accounts/login/"},
        cookies={"csrftoken": page.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:300]
    return f"sessionid={response.cookies['sessionid']}"


def stalled_reader(base: str, cookie: str, recording_id: str) -> socket.socket:
    """Asks for the audio with a small receive buffer, and never reads."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect((host, int(port)))
    sock.sendall(
        f"GET /recordings/{recording_id}/audio/ HTTP/1.1\r\nHost: {host}\r\n"
        f"Cookie: {cookie}\r\nRange: bytes=0-\r\n\r\n".encode()
    )
    return sock


def test_stalled_audio_readers_do_not_stop_the_server_answering(server, space):
    cookie = session_cookie(server)
    readers = [stalled_reader(server, cookie, space.long_id) for _ in range(STALLED)]
    try:
        # How many are being answered (audio flowing until their buffers fill): each of
        # those is a stream the server holds open right now. Checked last, so that a
        # server that stops answering fails on what its users would see.
        answered = 0
        deadline = time.monotonic() + 5
        for reader in readers:
            reader.settimeout(max(0.01, deadline - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                answered += reader.recv(12, socket.MSG_PEEK) == b"HTTP/1.1 206"
        time.sleep(1)  # long enough for every buffer on the way to fill
        for _ in range(3):
            started = time.monotonic()
            health = requests.get(server + "/healthz", timeout=5)
            assert health.status_code == 200 and health.json()["ok"] is True
            assert time.monotonic() - started < 1
            started = time.monotonic()
            page = requests.get(server + "/accounts/login/", timeout=5)
            assert page.status_code == 200 and "Log in" in page.text
            assert time.monotonic() - started < 1
        # ...and someone who does read gets their audio from the start.
        started = time.monotonic()
        audio = requests.get(
            f"{server}/recordings/{space.long_id}/audio/",
            headers={"Cookie": cookie, "Range": "bytes=0-65535"},
            timeout=5,
        )
        assert audio.status_code == 206 and audio.content[:4] == b"RIFF"
        assert time.monotonic() - started < 1
        assert answered == STALLED
    finally:
        for reader in readers:
            reader.close()
