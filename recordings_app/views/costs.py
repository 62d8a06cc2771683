"""/costs/: the spend report and its two CSVs, from the index; the `view_costs`
permission (Supervisor)."""

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from recordings_app import exports, index, reports
from recordings_app.access import active_credential

costs_permission = permission_required("recordings_app.view_costs", raise_exception=True)


def _asked(request):
    """The credential, the period the query names, and the user's time zone."""
    period = reports.period_from(request.GET, timezone.localdate())
    return active_credential(request), period, timezone.get_current_timezone()


@require_GET
@login_required
@costs_permission
def costs_report(request):
    credential, period, zone = _asked(request)
    start, end = period.bounds(zone)
    last_minute = timezone.localtime(end - timedelta(minutes=1), zone)
    failed_query = urlencode(
        {
            "status": "failed",
            "min_price": "0.000001",
            "from": timezone.localtime(start, zone).strftime("%Y-%m-%dT%H:%M"),
            "to": last_minute.strftime("%Y-%m-%dT%H:%M"),
            "sort": "-price",
        }
    )
    context = {
        "credential": credential,
        "period": period,
        "previous_period": period.previous(),
        "periods": reports.PERIODS,
        "report": reports.report(credential, period, zone),
        "failed_url": reverse("recordings_list") + "?" + failed_query,
        "daily_csv": reverse("costs_daily_csv") + "?" + period.query(),
        "recordings_csv": reverse("costs_recordings_csv") + "?" + period.query(),
        **index.sync_status(credential, reload=True),
    }
    return render(request, "costs/report.html", context)


@require_GET
@login_required
@costs_permission
def costs_daily_csv(request):
    """date,currency,recordings,seconds,price: one row per day and currency."""
    credential, period, zone = _asked(request)
    days = reports.daily(period.recordings(credential, zone), period, zone)
    name = f"costs-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    return exports.csv_response(name, exports.DAILY_COLUMNS, exports.daily_rows(days))


@require_GET
@login_required
@costs_permission
def costs_recordings_csv(request):
    """The period's recordings, one row each, streamed."""
    credential, period, zone = _asked(request)
    rows = period.recordings(credential, zone).order_by("created_at", "recording_id")
    name = f"recordings-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    return exports.csv_response(name, exports.RECORDING_COLUMNS, exports.recording_rows(rows))
