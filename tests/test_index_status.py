import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from recordings_app import index
from recordings_app.models import Credential, IndexSync

pytestmark = pytest.mark.no_upstream


@pytest.fixture
def sync(alice):
    return index.sync_state(Credential.objects.get(user=alice))


def test_a_credential_never_indexed_says_so_and_offers_to_index(alice_client, sync):
    page = alice_client.get("/index/status/").content.decode()
    assert "Not indexed yet" in page and "Index now" in page
    assert "every 1s" not in page


def test_the_refresh_button_queues_a_sync_and_the_status_starts_polling(alice_client, sync):
    response = alice_client.post("/index/refresh/", headers={"HX-Request": "true"})
    page = response.content.decode()
    assert DBTaskResult.objects.count() == 1
    assert "waiting for a worker" in page and 'hx-trigger="every 1s"' in page


def test_without_javascript_the_refresh_button_goes_back_to_the_page(alice_client, sync):
    response = alice_client.post("/index/refresh/", {"next": "/costs/?period=7d"})
    assert response["Location"] == "/costs/?period=7d"
    response = alice_client.post("/index/refresh/", {"next": "https://evil.example/"})
    assert response["Location"] == "/recordings/"


def test_a_running_sync_shows_pages_recordings_and_time_left(alice_client, sync):
    now = timezone.now()
    IndexSync.objects.filter(pk=sync.pk).update(
        state="running",
        heartbeat=now,
        pass_started_at=now - timedelta(seconds=30),
        pages_read=3,
        recordings_seen=3000,
        expected_total=9000,
    )
    page = alice_client.get("/index/status/").content.decode()
    assert "3 pages read, 3000 recordings indexed" in page
    assert re.search(r"time left: 1 min 0\d s", page)  # 30 s for a third: a minute to go
    assert 'max="9000" value="3000"' in page


def test_a_first_sync_does_not_pretend_to_know_the_time_left(alice_client, sync):
    now = timezone.now()
    IndexSync.objects.filter(pk=sync.pk).update(
        state="running", heartbeat=now, pass_started_at=now, pages_read=1, recordings_seen=1000
    )
    assert "time left: unknown" in alice_client.get("/index/status/").content.decode()


def test_when_the_sync_finishes_a_page_of_indexed_data_reloads(alice_client, sync):
    IndexSync.objects.filter(pk=sync.pk).update(state="idle", indexed_as_of=timezone.now())
    response = alice_client.get("/index/status/?was=busy&reload=1")
    assert response["HX-Refresh"] == "true"
    assert "Search covers recordings up to" in response.content.decode()
    assert "HX-Refresh" not in alice_client.get("/index/status/?was=busy")


def test_a_failed_sync_says_why(alice_client, sync):
    IndexSync.objects.filter(pk=sync.pk).update(
        state="failed", last_error="SignalWire is unreachable. Try again shortly."
    )
    page = alice_client.get("/index/status/").content.decode()
    assert "The last sync stopped: SignalWire is unreachable" in page


def test_pages_of_indexed_data_show_when_it_was_indexed(alice_client, sync):
    IndexSync.objects.filter(pk=sync.pk).update(indexed_as_of=timezone.now())
    for url in ("/costs/", "/recordings/?status=failed"):
        page = alice_client.get(url).content.decode()
        assert "Search covers recordings up to" in page and "Refresh" in page
