"""Outages of the services the dashboard leans on: Redis refusing or not answering, and a
PostgreSQL that is slow to answer. Real servers: a redis-server started and stopped on a
port of its own, and a loopback socket that accepts connections and never answers.

Each test sets its own CACHES and SESSION_ENGINE, so it runs the same whether the suite
runs on the in-memory cache or on Redis."""

import json
import logging
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.core.cache import cache, caches
from django.db import connection
from django.test import Client

from recordings_app import redis_cache
from tests.dashboard_processes import run_python

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.no_upstream,
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of this test's own on a free port, without persistence."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def blackhole():
    """A loopback address that accepts connections (the kernel completes them from the
    backlog) and never answers a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    listener.close()


@pytest.fixture(autouse=True)
def fresh_cache_state(monkeypatch):
    """Each test starts with Redis presumed healthy, and closes the caches it opened."""
    monkeypatch.setattr(redis_cache, "_health", {}, raising=False)
    yield
    caches.close_all()


def use_redis(settings, url: str) -> None:
    """The cache and sessions as settings.py configures them with REDIS_URL set, on `url`
    (the backend's own timeouts: the test gives none)."""
    settings.CACHES = {
        "default": {"BACKEND": "recordings_app.redis_cache.ForgivingRedisCache", "LOCATION": url}
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


def log_in(client: Client):
    return client.post("/accounts/login/", {"username": "alice", "password": "alice-password"})


def redis_settings(**env) -> dict:
    """What settings.py makes of REDIS_URL, in a fresh process."""
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    environment.update(REDIS_URL="redis://127.0.0.1:6379/0", **env)
    script = (
        "import json; from dashboard import settings as s; "
        "print(json.dumps({'session': s.SESSION_ENGINE, 'options': s.CACHES['default']"
        "['OPTIONS'], 'databases': s.DATABASES['default'].get('OPTIONS', {})}))"
    )
    return json.loads(run_python(script, environment))


# ----------------------------------------------------------------- Redis


def test_with_redis_sessions_live_in_the_database_and_calls_time_out_quickly():
    configured = redis_settings(REDIS_TIMEOUT="0.5")
    assert configured["session"] == "django.contrib.sessions.backends.cached_db"
    assert configured["options"]["socket_connect_timeout"] == 0.5
    assert configured["options"]["socket_timeout"] == 0.5


def test_log_in_works_and_a_session_survives_while_redis_is_stopped(
    settings, alice, redis_server, monkeypatch
):
    use_redis(settings, redis_server.url)
    signed_in = Client()
    assert log_in(signed_in).status_code == 302
    assert signed_in.get("/profile/").status_code == 200

    redis_server.stop()
    assert signed_in.get("/profile/").status_code == 200  # still logged in
    newcomer = Client()
    started = time.monotonic()
    assert log_in(newcomer).status_code == 302
    assert newcomer.get("/profile/").status_code == 200
    assert time.monotonic() - started < 2

    redis_server.start()  # empty: what was cached is gone, the sessions are not
    monkeypatch.setattr(redis_cache, "RETRY_AFTER", 0)  # the next call tries Redis again
    assert signed_in.get("/profile/").status_code == 200
    assert newcomer.get("/profile/").status_code == 200


def test_a_redis_that_never_answers_costs_a_log_in_a_couple_of_seconds(
    settings, alice, blackhole, redis_server
):
    use_redis(settings, redis_server.url)
    signed_in = Client()
    assert log_in(signed_in).status_code == 302

    use_redis(settings, blackhole)
    started = time.monotonic()
    assert signed_in.get("/profile/").status_code == 200
    newcomer = Client()
    assert log_in(newcomer).status_code == 302
    assert newcomer.get("/profile/").status_code == 200
    assert time.monotonic() - started < 2.5


def test_a_failing_redis_costs_a_few_log_lines_not_one_per_call(
    settings, redis_server, caplog, monkeypatch
):
    use_redis(settings, redis_server.url)
    redis_server.stop()
    caplog.set_level(logging.INFO, logger="recordings_app.redis_cache")
    monkeypatch.setattr(redis_cache, "RETRY_AFTER", 0)  # every call tries Redis again
    for number in range(300):
        cache.set(f"key-{number}", number)
        assert cache.get(f"key-{number}") is None
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert 1 <= len(warnings) <= 3

    redis_server.start()
    cache.set("key", "value")
    assert cache.get("key") == "value"
    assert any("Redis is back" in r.getMessage() for r in caplog.records)
    assert len(caplog.records) <= 4


def test_healthz_still_reports_a_redis_outage(settings, db, redis_server, client):
    use_redis(settings, redis_server.url)
    assert client.get("/healthz").status_code == 200
    redis_server.stop()
    for _ in range(2):  # the second while the cache is skipping Redis
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["cache"].startswith("error")


# ----------------------------------------------------------------- PostgreSQL


def test_postgres_connections_get_a_connect_and_a_statement_timeout():
    configured = redis_settings(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/test",
        DATABASE_CONNECT_TIMEOUT="4",
        DATABASE_STATEMENT_TIMEOUT_MS="12000",
    )["databases"]
    assert configured["connect_timeout"] == 4
    assert "-c statement_timeout=12000" in configured["options"]
    defaults = redis_settings(DATABASE_URL="postgres://postgres@127.0.0.1:5432/test")
    assert defaults["databases"]["connect_timeout"] == 5
    assert "-c statement_timeout=30000" in defaults["databases"]["options"]


@pytest.mark.django_db
def test_the_statement_timeout_is_in_force_on_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
        assert cursor.fetchone()[0] == "30000"


@pytest.mark.django_db
def test_healthz_answers_within_a_second_or_so_when_the_database_does_not(client, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    from recordings_app.views import health

    monkeypatch.setattr(health, "DATABASE_PROBE", "SELECT pg_sleep(10)")
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.json()["database"].startswith("error")
