"""/healthz: what a load balancer asks to decide whether this instance takes traffic."""

import pytest


@pytest.mark.django_db
def test_healthz_reports_database_and_cache(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "database": "ok", "cache": "ok"}


@pytest.mark.django_db
def test_healthz_says_what_is_down(client, broken_cache):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["cache"].startswith("error: ")
    assert response.json()["database"] == "ok"
