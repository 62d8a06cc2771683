import pytest
from django.test import RequestFactory

from recordings_app.access import client_address


def request_from(remote, forwarded=None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


@pytest.mark.no_upstream
def test_without_proxies_the_address_is_the_peers(settings):
    settings.TRUSTED_PROXIES = 0
    assert client_address(request_from("10.0.0.5", "203.0.113.9")) == "10.0.0.5"


@pytest.mark.no_upstream
def test_behind_one_proxy_the_address_is_the_one_it_saw(settings):
    settings.TRUSTED_PROXIES = 1
    # The client wrote the first entry itself; the load balancer appended the second.
    request = request_from("10.0.0.2", "1.2.3.4, 203.0.113.9")
    assert client_address(request) == "203.0.113.9"


@pytest.mark.no_upstream
def test_a_forged_or_missing_header_falls_back_safely(settings):
    settings.TRUSTED_PROXIES = 2
    assert client_address(request_from("10.0.0.2", "203.0.113.9")) == "10.0.0.2"
    assert client_address(request_from("10.0.0.2", "not an address, x")) is None
