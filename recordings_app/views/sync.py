"""/index/: the index sync's state, polled by htmx while a sync runs, and the button
that asks for a sync."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from recordings_app import index, tasks
from recordings_app.access import LoggedInRequest, active_credential


@require_GET
@login_required
@vary_on_headers("HX-Request")
def index_status(request: LoggedInRequest):
    """With `reload=1` (a page that shows indexed data) a finished sync refreshes the
    page, so it shows the new data."""
    status = index.sync_status(active_credential(request), request.GET.get("reload"))
    response = render(request, "recordings/_index_status.html", status)
    if request.GET.get("reload") and request.GET.get("was") == "busy" and not status["busy"]:
        response["HX-Refresh"] = "true"
    return response


@require_POST
@login_required
def index_refresh(request: LoggedInRequest):
    credential = active_credential(request)
    tasks.request_sync(credential)
    if request.htmx:
        status = index.sync_status(credential, request.POST.get("reload"))
        return render(request, "recordings/_index_status.html", status)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("recordings_list")
    return redirect(target)
