"""Bulk delete: the preview of a filtered list, its typed confirmation, and a deletion
job's progress and report (bulk or a retention run)."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from recordings_app import audit, deletions, index, search, tasks
from recordings_app.access import LoggedInRequest, active_credential, client_address
from recordings_app.errors import Problem
from recordings_app.models import Credential, DeletionJob, IndexedRecording

PREVIEW_SALT = "bulk-delete-preview"
PREVIEW_MAX_AGE = 3600  # seconds a preview may be confirmed in


class _NotConfirmed(Exception):
    """The confirmation does not hold (why, for the user); nothing was frozen. `through`:
    the preview to show again as it was (a wrong typed count), else a fresh one."""

    def __init__(self, problem: str, through: int = 0):
        super().__init__(problem)
        self.problem, self.through = problem, through


@require_http_methods(["GET", "POST"])
@login_required
def bulk_delete(request: LoggedInRequest):
    """GET: what the list's filters match, and a form to type its count. POST: freeze
    those recordings into a job (only if they are still exactly what was shown)."""
    if not request.user.has_perm("recordings_app.delete_recording"):
        if request.method == "POST":
            audit.record(
                request,
                audit.Action.DELETE_DENIED,
                detail="Bulk delete: no permission to delete recordings",
            )
        raise PermissionDenied
    credential = active_credential(request)
    filters = search.RecordingFilters(request.GET, region=request.phone_region)
    if not filters.is_active():
        raise Problem(
            400,
            "Filter the list first",
            "Bulk delete deletes what a filtered list shows. Choose filters on the "
            "recordings list, then use “Delete all matching…”.",
        )
    params = [(name, value) for name, value in filters.params() if name != "sort"]
    rows = search.filtered(credential, filters.checked())
    if request.method == "GET":
        return _preview(request, credential, filters, rows, params)
    try:
        job = _confirmed(request, credential, filters, rows, params)
    except _NotConfirmed as refusal:
        return _preview(
            request,
            credential,
            filters,
            rows,
            params,
            problem=refusal.problem,
            through=refusal.through,
        )
    return redirect("deletion_job", pk=job.pk)


def _confirmed(
    request: LoggedInRequest,
    credential: Credential,
    filters: search.RecordingFilters,
    rows: QuerySet[IndexedRecording],
    params: list[tuple[str, str]],
) -> DeletionJob:
    """The job the posted confirmation asks for, frozen and queued; _NotConfirmed where
    the preview was altered, expired, of another list, the typed count is wrong, or the
    matching recordings changed since."""
    try:
        preview = signing.loads(
            request.POST.get("preview", ""), salt=PREVIEW_SALT, max_age=PREVIEW_MAX_AGE
        )
    except signing.BadSignature:
        raise _NotConfirmed(
            "This preview has expired or was altered. Check the recordings below again."
        ) from None
    if preview.get("credential") != credential.pk or preview.get("query") != urlencode(params):
        raise _NotConfirmed("This preview is of another list.")
    expected = preview["count"]
    if request.POST.get("count", "").strip().replace(",", "") != str(expected):
        raise _NotConfirmed(
            f"Type {expected} (the number of recordings) to confirm.", through=preview["through"]
        )
    with transaction.atomic():
        job = DeletionJob.objects.create(
            credential=credential,
            kind=DeletionJob.Kind.BULK,
            user=request.user,
            username=request.user.get_username(),
            remote_addr=client_address(request),
            user_agent=request.headers.get("User-Agent", "")[:200],
            description=describe_filters(filters)[:300],
        )
        frozen = deletions.freeze(job, deletions.matching_through(rows, preview["through"]))
        if frozen != expected:
            raise _NotConfirmed(
                "The matching recordings changed since the preview (some were deleted or "
                "changed meanwhile). Nothing was deleted. Check the new figures and confirm "
                "again."
            )
        tasks.queue_job(job)
    return job


LABELS = {"q": "Number or ID", "stereo": "Channels"}


def describe_filters(filters: search.RecordingFilters) -> str:
    """The filters in words, for the job's page: "Status: failed · Min duration: 60"."""
    return " · ".join(
        f"{LABELS.get(name) or filters.fields[name].label or name.replace('_', ' ').capitalize()}"
        f": {value}"
        for name, value in filters.params()
        if name != "sort"
    )


def _preview(
    request: LoggedInRequest,
    credential: Credential,
    filters: search.RecordingFilters,
    rows: QuerySet[IndexedRecording],
    params: list[tuple[str, str]],
    *,
    problem: str = "",
    through: int = 0,
) -> HttpResponse:
    """The preview page. `through`: keep the preview the user was shown (a wrong typed
    count) rather than taking in what was indexed since."""
    if through:
        rows = deletions.matching_through(rows, through)
    summary = deletions.summarize(rows)
    token = signing.dumps(
        {
            "credential": credential.pk,
            "query": urlencode(params),
            "through": summary.through,
            "count": summary.count,
        },
        salt=PREVIEW_SALT,
    )
    return render(
        request,
        "deletions/preview.html",
        {
            "credential": credential,
            "summary": summary,
            "preview": token,
            "query": urlencode(params),
            "description": describe_filters(filters),
            "problem": problem,
            "sync": index.sync_state(credential),
        },
        status=400 if problem else 200,
    )


@require_GET
@login_required
@vary_on_headers("HX-Request")
def deletion_job(request: LoggedInRequest, pk: int):
    """A job's progress (htmx polls the progress part while it runs; a reload shows the
    same) and, once finished, its report."""
    job = DeletionJob.objects.select_related("credential", "policy").filter(pk=pk).first()
    if job is None or not _may_see(request, job):
        raise Http404("No such deletion job.")
    context = {"job": job, **deletions.report(job)}
    if request.htmx:
        response = render(request, "deletions/job.html#progress", context)
    else:
        response = render(request, "deletions/job.html", context)
    if job.finished and request.htmx:
        response["HX-Refresh"] = "true"  # the whole report, once
    return response


def _may_see(request: LoggedInRequest, job: DeletionJob) -> bool:
    permission = (
        "recordings_app.manage_retention"
        if job.kind == DeletionJob.Kind.RETENTION
        else "recordings_app.delete_recording"
    )
    if not request.user.has_perm(permission):
        return False
    return Credential.objects.usable_by(request.user).filter(pk=job.credential_id).exists()
