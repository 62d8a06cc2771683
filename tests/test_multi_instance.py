"""Two app servers (gunicorn as deployed, gunicorn.conf.py) sharing one Postgres database
and one Redis cache, as behind a load balancer: what one does, the other sees at once.

Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379, as on the project's
machines; it skips, saying so, only when one of them does not answer at all."""

import os
import re
import subprocess
import sys
import time
import uuid

import pytest
import requests

from demo_space import DEMO_PROJECT_ID
from tests.dashboard_processes import (
    ROOT,
    migrate_with_demo_user,
    scale_out_services_answer,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.skipif(
    not scale_out_services_answer(),
    reason="needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379; one did not answer",
)


@pytest.fixture(scope="module")
def cluster(demo_space):
    import psycopg

    name = f"dashboard_multi_{uuid.uuid4().hex[:8]}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
        "REDIS_URL": "redis://127.0.0.1:6379/2",
        "CACHE_KEY_PREFIX": name,
        "SIGNALWIRE_BASE_URL": demo_space.base_url,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DEBUG": "1",
        "SECRET_KEY": "multi-instance-test-secret-" + name,
    }
    migrate_with_demo_user(env)
    servers, urls = [], []
    try:
        for _ in range(2):
            server, url = start_server(env, "--workers", "1")
            servers.append(server)
            urls.append(url)
        # ...and one task worker with its sync scheduler, for the index sync.
        servers.append(
            subprocess.Popen(
                [sys.executable, "manage.py", "worker", "--no-reload", "--interval", "0.2"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        yield urls
    finally:
        for server in servers:
            stop_server(server)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def csrf_token(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=10).text
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def log_in(session: requests.Session, base: str) -> None:
    token = csrf_token(session, base + "/accounts/login/")
    response = session.post(
        base + "/accounts/login/",
        data={"username": "demo", "password": "demo", "csrfmiddlewaretoken": token},
        headers={"Referer": base + "/accounts/login/"},
        timeout=10,
    )
    assert response.status_code == 200 and "Log out" in response.text


def test_both_instances_report_healthy_database_and_cache(cluster):
    for url in cluster:
        health = requests.get(url + "/healthz", timeout=5).json()
        # The readiness checks; the worker and index ages are reported beside them.
        assert {key: health[key] for key in ("ok", "database", "cache")} == {
            "ok": True,
            "database": "ok",
            "cache": "ok",
        }


def test_a_login_made_on_one_instance_is_valid_on_the_other(cluster):
    first, second = cluster
    browser = requests.Session()
    log_in(browser, first)
    response = browser.get(second + "/recordings/", timeout=10, allow_redirects=False)
    assert response.status_code == 200 and "Demo space" in response.text


def test_a_delete_on_one_instance_is_seen_on_the_other_at_once(cluster, demo_space):
    first, second = cluster
    browser = requests.Session()
    log_in(browser, first)
    recording_id = demo_space.recordings(DEMO_PROJECT_ID)[0]["id"]
    row_link = f'href="/recordings/{recording_id}/"'
    # The second instance has the page (and the recording) in the shared cache...
    assert row_link in browser.get(second + "/recordings/", timeout=10).text
    assert browser.get(f"{second}/recordings/{recording_id}/", timeout=10).status_code == 200
    # ...the first deletes it...
    delete_url = f"{first}/recordings/{recording_id}/delete/"
    response = browser.post(
        delete_url,
        data={"csrfmiddlewaretoken": csrf_token(browser, delete_url)},
        headers={"Referer": delete_url},
        timeout=10,
    )
    assert f"Recording {recording_id} was deleted." in response.text
    # ...and the second knows at once.
    assert row_link not in browser.get(second + "/recordings/", timeout=10).text
    assert browser.get(f"{second}/recordings/{recording_id}/", timeout=10).status_code == 404


def test_a_sync_asked_for_on_one_instance_runs_on_the_worker_and_shows_on_the_other(cluster):
    first, second = cluster
    browser = requests.Session()
    log_in(browser, first)
    status_url = first + "/index/status/"
    response = browser.post(
        first + "/index/refresh/",
        data={"csrfmiddlewaretoken": csrf_token(browser, first + "/costs/"), "next": "/costs/"},
        headers={"Referer": first + "/costs/"},
        timeout=10,
    )
    assert response.status_code == 200
    deadline = time.monotonic() + 60
    while (
        "Search covers recordings up to"
        not in browser.get(second + "/index/status/", timeout=10).text
    ):
        assert time.monotonic() < deadline, browser.get(status_url, timeout=10).text
        time.sleep(0.3)
    page = browser.get(second + "/recordings/?status=failed", timeout=10).text
    assert "matching the filters" in page and "badge status-failed" in page
