import uuid

from django.core.cache import cache
from django.db import connection, transaction
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

# What /healthz asks the database, and how long PostgreSQL may take to answer it: a
# load balancer's probe must get an answer in about a second, not the statement timeout
# pages get (DATABASE_STATEMENT_TIMEOUT_MS).
DATABASE_PROBE = "SELECT 1"
DATABASE_PROBE_TIMEOUT_MS = 1000


@never_cache
@require_safe
def healthz(request):
    """For load balancers: can this instance reach its database and its cache? It makes
    no upstream call, so a SignalWire outage does not take every instance out."""
    checks = {}
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # SET LOCAL: for this transaction only, so the pooled connection keeps
                # its usual timeout.
                cursor.execute(f"SET LOCAL statement_timeout = {DATABASE_PROBE_TIMEOUT_MS:d}")
            cursor.execute(DATABASE_PROBE)
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure means "not healthy"
        checks["database"] = f"error: {type(error).__name__}"
    try:
        probe = uuid.uuid4().hex
        cache.set("healthz", probe, 10)
        checks["cache"] = "ok" if cache.get("healthz") == probe else "error: no round trip"
    except Exception as error:  # noqa: BLE001
        checks["cache"] = f"error: {type(error).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"ok": healthy, **checks}, status=200 if healthy else 503)
