"""/healthz and /healthz/live: what a load balancer or Kubernetes asks to decide whether
this instance takes traffic, or should be restarted."""

import json
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from recordings_app.models import Credential, IndexSync

# What a probe sends in production: plain HTTP, an IP address for Host.
PROBE = {"HTTP_HOST": "10.0.0.7", "secure": False}
PRODUCTION = override_settings(DEBUG=False, SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["example.com"])


@pytest.mark.django_db
def test_healthz_reports_database_and_cache(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["database"] == "ok" and body["cache"] == "ok"


@pytest.mark.django_db
def test_healthz_says_what_is_down_and_nothing_more(client, broken_cache):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["cache"] == "error"
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
@PRODUCTION
@pytest.mark.parametrize("path", ["/healthz", "/healthz/live"])
def test_probes_answer_plain_http_on_an_ip_address_host_in_production(client, path):
    response = client.get(path, **PROBE)
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
@PRODUCTION
def test_other_pages_still_refuse_an_unknown_host_and_redirect_to_https(client):
    assert client.get("/accounts/login/", **PROBE).status_code == 400
    response = client.get("/accounts/login/", HTTP_HOST="example.com", secure=False)
    assert response.status_code == 301 and response["Location"].startswith("https://")


@pytest.mark.django_db
@PRODUCTION
def test_readiness_fails_without_the_cache_and_reveals_no_detail(client, broken_cache):
    response = client.get("/healthz", **PROBE)
    assert response.status_code == 503
    text = response.content.decode()
    assert "Error" not in text and "redis" not in text.lower() and "10.0.0.7" not in text


@pytest.mark.django_db
def test_liveness_does_not_ask_the_cache(client, broken_cache):
    assert client.get("/healthz/live", **PROBE).json() == {"ok": True}


@pytest.mark.django_db
def test_healthz_reports_each_credentials_index_age_by_id(client, alice, bob):
    credential = Credential.objects.get(user=alice, is_active=True)
    IndexSync.objects.update_or_create(
        credential=credential, defaults={"indexed_as_of": timezone.now() - timedelta(seconds=90)}
    )
    never = Credential.objects.get(user=bob, is_active=True)
    ages = client.get("/healthz").json()["index_age_seconds"]
    assert 90 <= ages[str(credential.pk)] < 100
    assert ages[str(never.pk)] is None
    assert "Acme" not in json.dumps(ages)  # ids, never labels


def run_task_at(moment):
    DBTaskResult.objects.create(
        task_path="recordings_app.tasks.sync_credential",
        args_kwargs={"args": [1], "kwargs": {}},
        backend_name="default",
        queue_name="default",
        run_after=moment,
        started_at=moment,
        finished_at=moment,
        status="SUCCESSFUL",
    )


@pytest.mark.django_db
def test_a_worker_that_ran_a_task_lately_is_seen(client, alice):
    run_task_at(timezone.now() - timedelta(seconds=30))
    body = client.get("/healthz").json()
    assert body["worker"] == "seen" and 30 <= body["worker_seen_seconds_ago"] < 40


@pytest.mark.django_db
def test_a_worker_silent_for_longer_than_a_sync_period_is_not_seen_yet_ready(client, alice):
    run_task_at(timezone.now() - timedelta(hours=2))
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["ok"] is True
    assert response.json()["worker"] == "not seen"


@pytest.mark.django_db
def test_with_nothing_to_sync_the_worker_is_unknown(client):
    assert client.get("/healthz").json()["worker"] == "unknown"
