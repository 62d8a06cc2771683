"""Probes for load balancers, Kubernetes and monitoring.

- `/healthz/live`: the process answers (liveness). Nothing else is asked, so a database
  outage does not get every instance restarted.
- `/healthz`: can this instance serve pages (readiness): its database and its cache.
  It also reports, without failing on them, whether a worker has been seen lately and
  how old each credential's index is: a dead worker makes the index stale, not the
  pages unusable.

Both are answered over plain HTTP on any Host (recordings_app.middleware.answer_probes)
and say nothing about versions, hosts or errors beyond "error": the details go to the
log, with the request id.
"""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Max
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_tasks_db.models import DBTaskResult

from recordings_app.models import Credential, IndexSync

logger = logging.getLogger(__name__)

# What /healthz asks the database, and how long PostgreSQL may take to answer it: a
# load balancer's probe must get an answer in about a second, not the statement timeout
# pages get (DATABASE_STATEMENT_TIMEOUT_MS).
DATABASE_PROBE = "SELECT 1"
DATABASE_PROBE_TIMEOUT_MS = 1000
# A worker with credentials to keep fresh starts a sync of each at least every
# SYNC_EVERY_MINUTES; this much later than that, it counts as not seen.
WORKER_GRACE = timedelta(minutes=5)


@never_cache
@require_safe
def healthz_live(request):
    """Liveness: the process answers. No database, no cache, no upstream."""
    return JsonResponse({"ok": True})


@never_cache
@require_safe
def healthz(request):
    """Readiness: can this instance reach its database and its cache? It makes no
    upstream call, so a SignalWire outage does not take every instance out."""
    checks = {"database": check_database(), "cache": check_cache()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"ok": healthy, **checks, **worker_and_index()}, status=200 if healthy else 503
    )


def check_database() -> str:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # SET LOCAL: for this transaction only, so the pooled connection keeps
                # its usual timeout.
                cursor.execute(f"SET LOCAL statement_timeout = {DATABASE_PROBE_TIMEOUT_MS:d}")
            cursor.execute(DATABASE_PROBE)
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        logger.exception("Health check: the database did not answer.")
        return "error"
    return "ok"


def check_cache() -> str:
    try:
        probe = uuid.uuid4().hex
        cache.set("healthz", probe, 10)
        if cache.get("healthz") == probe:
            return "ok"
        logger.warning("Health check: the cache did not give back what was put in it.")
    except Exception:  # noqa: BLE001
        logger.exception("Health check: the cache did not answer.")
    return "error"


def worker_and_index() -> dict:
    """When a worker last showed a sign of life (started or finished a task, or renewed
    a sync's lease), and each credential's index age in seconds (None: never indexed),
    keyed by credential id. The worker leaves no trace while it has nothing to do, so
    with no credentials at all it is "unknown" rather than "not seen"."""
    now = timezone.now()
    try:
        tasks = DBTaskResult.objects.aggregate(Max("started_at"), Max("finished_at"))
        lease = IndexSync.objects.aggregate(Max("heartbeat"))["heartbeat__max"]
        ages = {
            str(pk): None if indexed is None else int((now - indexed).total_seconds())
            for pk, indexed in Credential.objects.order_by("pk").values_list(
                "pk", "sync__indexed_as_of"
            )
        }
    except Exception:  # noqa: BLE001 - the database check above says why
        return {"worker": "unknown", "worker_seen_seconds_ago": None, "index_age_seconds": {}}
    signs = [tasks["started_at__max"], tasks["finished_at__max"], lease]
    last_seen = max((sign for sign in signs if sign is not None), default=None)
    seen_ago = None if last_seen is None else max(0, int((now - last_seen).total_seconds()))
    window = timedelta(minutes=settings.SYNC_EVERY_MINUTES) + WORKER_GRACE
    if seen_ago is not None and seen_ago <= window.total_seconds():
        worker = "seen"
    else:
        worker = "not seen" if ages else "unknown"
    return {"worker": worker, "worker_seen_seconds_ago": seen_ago, "index_age_seconds": ages}
