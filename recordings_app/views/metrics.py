"""`/metrics`: counts and gauges in Prometheus's text format (recordings_app/metrics.py
says what), for a scraper.

Off (404) unless METRICS_TOKEN or METRICS_ALLOWED_ADDRESSES is set. With a token, a
scrape must send it (`Authorization: Bearer ...`, 401 otherwise); with an address list,
it must come from one of them (403 otherwise), the address found as for log-in
throttling (TRUSTED_PROXIES); with both, both. Like /healthz it is answered over plain
HTTP on any Host (recordings_app.middleware.answer_probes): a scraper reaches an
instance by its address. Nothing in it names a user, a space or a credential's label.
"""

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotFound
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from recordings_app import metrics
from recordings_app.access import client_address


@never_cache
@require_safe
def prometheus_metrics(request):
    token, networks = settings.METRICS_TOKEN, settings.METRICS_ALLOWED_ADDRESSES
    if not (token or networks):
        return HttpResponseNotFound("Metrics are off here.\n", content_type="text/plain")
    if networks and not comes_from(request, networks):
        return HttpResponse("Not from an allowed address.\n", status=403, content_type="text/plain")
    if token and not bears(request, token):
        refused = HttpResponse("A token is needed.\n", status=401, content_type="text/plain")
        refused["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return refused
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)


def comes_from(request, networks: list[str]) -> bool:
    address = client_address(request)
    if address is None:
        return False
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in ipaddress.ip_network(network, strict=False) for network in networks)


def bears(request, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # Compared in constant time, so the answer's timing gives nothing of the token away.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )
