"""/metrics (issue #14, "Metrics"): Prometheus's format, for a scraper with the token or
from an allowed address, off otherwise; requests by route and status, upstream calls by
status, audio bytes, each credential's sync lag (by id, never its label) and the queue.

The counters live in this process for the whole session (no PROMETHEUS_MULTIPROC_DIR
here), so the tests compare before and after. The last test runs gunicorn as deployed,
with two workers, and checks that one scrape sums them both."""

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from asgiref.sync import sync_to_async
from cryptography.fernet import Fernet
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connections
from django.test import AsyncClient
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from demo_space import DEMO_API_TOKEN, DEMO_PROJECT_ID
from recordings_app import index
from recordings_app.models import Credential, IndexSync
from recordings_app.tasks import sync_credential
from tests.conftest import body
from tests.dashboard_processes import migrate_with_demo_user, start_server, stop_server

SCRAPE_TOKEN = "scrape-me-9f2c"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = SCRAPE_TOKEN
    settings.METRICS_ALLOWED_ADDRESSES = []


def scrape(client) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})
    assert response.status_code == 200
    return response.content.decode()


def value(text: str, name: str, **labels) -> float:
    """The sample `name` with exactly these labels (0 when absent, as a counter that has
    not counted yet is)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


# ------------------------------------------------------------------------ access


@pytest.mark.no_upstream
def test_it_is_not_found_when_neither_a_token_nor_addresses_are_set(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_ADDRESSES = []
    assert client.get("/metrics").status_code == 404


@pytest.mark.no_upstream
@pytest.mark.django_db
def test_it_asks_for_the_token_and_takes_only_the_right_one(client, metrics_on):
    missing = client.get("/metrics")
    assert missing.status_code == 401 and missing["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-9f2d"})
    assert wrong.status_code == 401
    basic = client.get("/metrics", headers={"Authorization": f"Basic {SCRAPE_TOKEN}"})
    assert basic.status_code == 401
    right = client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})
    assert right.status_code == 200
    assert right["Content-Type"].startswith("text/plain; version=")
    assert "dashboard_requests_total" in right.content.decode()


@pytest.mark.no_upstream
@pytest.mark.django_db
def test_it_answers_only_addresses_on_the_list(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_ADDRESSES = ["10.0.0.0/8", "192.0.2.7"]
    assert client.get("/metrics").status_code == 403  # the test client is 127.0.0.1
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.8").status_code == 403
    # An X-Forwarded-For is believed only from as many proxies as TRUSTED_PROXIES says.
    forged = {"REMOTE_ADDR": "203.0.113.5", "HTTP_X_FORWARDED_FOR": "10.1.1.1"}
    assert client.get("/metrics", **forged).status_code == 403
    settings.TRUSTED_PROXIES = 1
    assert client.get("/metrics", **forged).status_code == 200


@pytest.mark.no_upstream
@pytest.mark.django_db
def test_with_both_set_a_scrape_needs_both(client, settings):
    settings.METRICS_TOKEN = SCRAPE_TOKEN
    settings.METRICS_ALLOWED_ADDRESSES = ["127.0.0.1"]
    assert client.get("/metrics").status_code == 401
    bearer = {"Authorization": f"Bearer {SCRAPE_TOKEN}"}
    assert client.get("/metrics", headers=bearer).status_code == 200
    assert client.get("/metrics", headers=bearer, REMOTE_ADDR="10.0.0.1").status_code == 403


@pytest.mark.no_upstream
@pytest.mark.django_db
def test_a_scraper_reaches_it_over_plain_http_on_any_host(client, metrics_on, settings):
    settings.ALLOWED_HOSTS = ["dashboard.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(
        "/metrics", HTTP_HOST="10.0.0.5:8000", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"}
    )
    assert response.status_code == 200
    # Every other page still gets the Host check and the HTTPS redirect.
    assert client.get("/healthz/live/", HTTP_HOST="10.0.0.5:8000").status_code == 400


# ---------------------------------------------------------------------- counters


def test_it_counts_requests_by_route_name_and_status(alice_client, metrics_on):
    before = scrape(alice_client)
    alice_client.get("/recordings/")
    alice_client.get("/recordings/")
    alice_client.get("/no/such/page/")
    alice_client.post("/healthz/live")
    after = scrape(alice_client)

    def grew(route, method, status):
        labels = {"route": route, "method": method, "status": status}
        name = "dashboard_requests_total"
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("recordings_list", "GET", "200") == 2
    assert grew("none", "GET", "404") == 1
    assert grew("healthz_live", "POST", "405") == 1
    assert grew("metrics", "GET", "200") == 1  # the first scrape
    # Routes, never raw paths.
    assert "/no/such/page/" not in after and "/recordings/" not in after


def test_it_counts_upstream_calls_and_their_time_by_status(alice_client, metrics_on, demo_space):
    before = scrape(alice_client)
    alice_client.get("/recordings/")
    cache.clear()  # the second list is asked of upstream again
    demo_space.add_fault(status=503, path_prefix="/api/", times=1)  # retried: then a 200
    alice_client.get("/recordings/")
    after = scrape(alice_client)
    calls = len(demo_space.request_log)

    def grew(name, status):
        return value(after, name, status=status) - value(before, name, status=status)

    assert calls >= 3
    assert grew("dashboard_upstream_calls_total", "503") == 1
    assert grew("dashboard_upstream_calls_total", "200") == calls - 1
    assert grew("dashboard_upstream_call_duration_seconds_count", "200") == calls - 1
    assert grew("dashboard_upstream_call_duration_seconds_sum", "200") > 0


@pytest.mark.no_upstream
def test_an_upstream_call_that_got_no_answer_counts_as_an_error(alice_client, metrics_on):
    before = scrape(alice_client)
    alice_client.get("/recordings/")
    after = scrape(alice_client)
    name = "dashboard_upstream_calls_total"
    assert value(after, name, status="error") > value(before, name, status="error")


def test_it_counts_the_audio_bytes_streamed(alice_client, metrics_on, playable):
    before = value(scrape(alice_client), "dashboard_audio_streamed_bytes_total")
    audio = body(alice_client.get(f"/recordings/{playable['id']}/audio/"))
    after = value(scrape(alice_client), "dashboard_audio_streamed_bytes_total")
    assert len(audio) == playable["byte_size"]
    assert after - before == len(audio)


def test_audio_through_a_share_link_and_in_a_zip_counts_too(alice, metrics_on, playable):
    from tests.test_share_links import audio_url, browser_of, make_link

    alice.groups.add(Group.objects.get(name="Supervisor"))
    index.run_sync(Credential.objects.get(user=alice))  # the archive is of indexed ones
    supervisor = browser_of(alice)
    name = "dashboard_audio_streamed_bytes_total"
    before = value(scrape(supervisor), name)
    shared = body(supervisor.get(audio_url(make_link(supervisor, playable))))
    between = value(scrape(supervisor), name)
    archive = body(supervisor.get("/recordings/download.zip?q=" + playable["id"]))
    after = value(scrape(supervisor), name)
    assert len(shared) == playable["byte_size"] and between - before == len(shared)
    assert len(archive) > playable["byte_size"] and after - between == len(archive)


@pytest.mark.django_db(transaction=True)
def test_under_asgi_it_counts_the_audio_bytes_too(alice, metrics_on, playable):
    async def play():
        client = AsyncClient()
        await client.aforce_login(alice)
        bearer = {"Authorization": f"Bearer {SCRAPE_TOKEN}"}
        before = (await client.get("/metrics", headers=bearer)).content.decode()
        response = await client.get(
            f"/recordings/{playable['id']}/audio/", headers={"Range": "bytes=0-"}
        )
        audio = b"".join([chunk async for chunk in response.streaming_content])
        after = (await client.get("/metrics", headers=bearer)).content.decode()
        await sync_to_async(connections.close_all)()
        return response, audio, before, after

    # In a thread of its own: the browser tests leave an event loop in this one.
    with ThreadPoolExecutor(1) as thread:
        response, audio, before, after = thread.submit(asyncio.run, play()).result()
    assert response.is_async and len(audio) == playable["byte_size"]
    name = "dashboard_audio_streamed_bytes_total"
    assert value(after, name) - value(before, name) == len(audio)


# ------------------------------------------------------- read from the database


@pytest.mark.no_upstream
def test_it_shows_each_credentials_sync_lag_by_id_and_never_its_label(
    alice_client, alice, bob, metrics_on
):
    credential = alice.credentials.get()
    IndexSync.objects.create(
        credential=credential, indexed_as_of=timezone.now() - timedelta(seconds=120)
    )
    text = scrape(alice_client)
    lag = value(text, "dashboard_sync_lag_seconds", credential_id=str(credential.pk))
    assert 120 <= lag < 180
    assert value(text, "dashboard_credentials_never_indexed") == 1  # bob's
    for secret in ("Acme production", "Bob's project", DEMO_API_TOKEN, DEMO_PROJECT_ID, "alice"):
        assert secret not in text


@pytest.mark.no_upstream
def test_it_shows_how_many_tasks_wait_for_the_worker(alice_client, alice, metrics_on):
    before = scrape(alice_client)
    sync_credential.enqueue(alice.credentials.get().pk, False)
    after = scrape(alice_client)
    assert (
        value(after, "dashboard_task_queue_depth")
        == value(before, "dashboard_task_queue_depth") + 1
    )
    assert value(after, "dashboard_task_queue_oldest_seconds") >= 0


# ------------------------------------------------ as deployed: several workers


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("metrics")
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "metrics-" + Fernet.generate_key().decode(),
        "CREDENTIALS_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "dashboard.example.com",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "METRICS_TOKEN": SCRAPE_TOKEN,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
    }
    for name in ("REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "SENTRY_DSN"):
        env.pop(name, None)
    migrate_with_demo_user(env)
    process, url = start_server(env, "--workers", "2")
    yield url
    stop_server(process)


def test_as_deployed_one_scrape_sums_every_worker(two_workers):
    bearer = {"Authorization": f"Bearer {SCRAPE_TOKEN}"}

    def scraped() -> str:
        # A connection of its own each time, so the scrapes land on either worker.
        return requests.get(two_workers + "/metrics", headers=bearer, timeout=10).text

    deadline = time.monotonic() + 20
    while value(scraped(), "dashboard_server_processes") != 2:
        assert time.monotonic() < deadline, "the two workers never both reported"
        time.sleep(0.2)
    before = scraped()
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                lambda _: requests.get(two_workers + "/healthz/live", timeout=10).status_code,
                range(40),
            )
        )
    assert answers == [200] * 40
    name = "dashboard_requests_total"
    labels = {"route": "healthz_live", "method": "GET", "status": "200"}
    # Whichever worker answers the scrape, it reports all 40.
    for _ in range(6):
        assert value(scraped(), name, **labels) - value(before, name, **labels) == 40
