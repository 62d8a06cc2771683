"""/activity/: the audit trail for Supervisors, filtered, paged, and as CSV."""

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from recordings_app import exports
from recordings_app.errors import Problem
from recordings_app.forms import ActivityFilter

PER_PAGE = 100
activity_permission = permission_required("recordings_app.view_activity", raise_exception=True)


def _filtered(request: HttpRequest) -> ActivityFilter:
    form = ActivityFilter(request.GET)
    if not form.is_valid():
        errors = "; ".join(
            f"{form.fields[name].label if name in form.fields else 'Filter'}: "
            f"{' '.join(map(str, errs))}"
            for name, errs in form.errors.items()
        )
        raise Problem(400, "Those filters do not work", errors)
    return form


@require_GET
@login_required
@activity_permission
def activity(request: HttpRequest):
    form = _filtered(request)
    page_number = request.GET.get("page") or "1"
    paginator = Paginator(form.events(), PER_PAGE)
    if not page_number.isdigit() or not 1 <= int(page_number) <= paginator.num_pages:
        raise Problem(400, "No such page", f"Choose a page from 1 to {paginator.num_pages}.")
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "activity/list.html",
        {"form": form, "page": paginator.page(int(page_number)), "query": query.urlencode()},
    )


@require_GET
@login_required
@activity_permission
def activity_csv(request: HttpRequest):
    """Every matching event as CSV, streamed row by row in constant memory."""
    events = _filtered(request).events()
    return exports.csv_response(
        "activity.csv", exports.ACTIVITY_COLUMNS, exports.activity_rows(events)
    )
