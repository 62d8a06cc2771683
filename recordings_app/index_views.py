"""Pages answered from the index: filtered recordings, their CSV, the sync's status."""

import csv
from types import SimpleNamespace

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from recordings_app import index, paging, search
from recordings_app.access import active_credential
from recordings_app.cache import content_key
from recordings_app.fragments import wants_fragment
from recordings_app.models import IndexSync
from recordings_app.templatetags.recordings import plain_decimal

CSV_COLUMNS = (
    "id",
    "created_at",
    "duration_seconds",
    "price",
    "price_unit",
    "status",
    "error_code",
    "track",
    "source",
    "stereo",
    "byte_size",
    "leg_id",
    "conference_id",
)


def filtered_recordings(request: HttpRequest, credential, filters: search.RecordingFilters):
    """/recordings/ with filters: the index's answer in the live list's own markup."""
    data = filters.checked()
    size = paging.page_size(request.GET.get("size"))
    rows = search.filtered(credential, data)
    page = search.page_of(rows, size, request.GET.get("p"))
    params = filters.params()
    if size != paging.DEFAULT_PAGE_SIZE:
        params.append(("size", str(size)))
    sort = data.get("sort") or "-created"

    def page_link(number):
        return search.link(params, p=number)

    sorting = {}
    for column in ("created", "duration", "price"):
        current = sort.lstrip("-") == column
        descending = sort.startswith("-")
        sorting[column] = {
            "url": search.link(params, sort=column if current and descending else f"-{column}"),
            "aria": ("descending" if descending else "ascending") if current else None,
        }
    recordings = list(page.object_list)
    totals = search.totals(rows)
    context = {
        "credential": credential,
        "page": SimpleNamespace(recordings=recordings, totals=totals),
        "page_size": size,
        "page_sizes": paging.PAGE_SIZES,
        "next_url": page_link(page.next_page_number()) if page.has_next() else None,
        "prev_url": page_link(page.previous_page_number()) if page.has_previous() else None,
        "first_url": page_link(1) if page.number > 2 else None,
        "filters": filters,
        "filter_params": filters.params(),
        "filtered": True,
        "sorting": sorting,
        "caption": f"Recordings matching the filters, {search.SORT_LABELS[sort]}",
        "page_number": page.number,
        "page_count": page.paginator.num_pages,
        "csv_url": reverse("recordings_csv") + search.link(filters.params()),
        **status_context(index.sync_state(credential), reload=True),
    }
    # The table fragment is cached by a digest of all it shows (see cache.content_key).
    shown = [
        (r.recording_id, r.created_at, r.duration_seconds, r.price, r.price_unit, r.track)
        + (r.status, r.error_code, r.source, r.stereo, r.byte_size)
        for r in recordings
    ]
    context["table_key"] = content_key(
        "index",
        credential.pk,
        timezone.get_current_timezone_name(),
        shown,
        totals,
        [context[name] for name in ("next_url", "prev_url", "first_url", "caption")],
        sorting,
        page.number,
        page.paginator.num_pages,
        context["csv_url"],
    )
    template = "recordings/list.html#table" if wants_fragment(request) else "recordings/list.html"
    return render(request, template, context)


@require_GET
@login_required
def recordings_csv(request: HttpRequest):
    """The filtered recordings as CSV, streamed from the database in chunks."""
    credential = active_credential(request)
    filters = search.RecordingFilters(request.GET)
    rows = search.filtered(credential, filters.checked())
    return csv_response("recordings.csv", CSV_COLUMNS, recording_rows(rows))


def recording_rows(rows):
    # The CSV's columns are the index's fields, but for the id's column name.
    fields = ["recording_id", *CSV_COLUMNS[1:]]
    for values in rows.values_list(*fields).iterator(chunk_size=2000):
        row = list(values)
        row[1] = row[1].isoformat().replace("+00:00", "Z")
        row[3] = plain_decimal(row[3])
        row[9] = "" if row[9] is None else ("yes" if row[9] else "no")
        yield ["" if value is None else value for value in row]


def _inert(value):
    """Spreadsheets run a cell starting with = + - @ as a formula; upstream text is data."""
    if not isinstance(value, str) or value[:1] not in ("=", "+", "-", "@"):
        return value
    if value[:1] == "-" and value[1:2].isdigit():  # a negative number stays one
        return value
    return "'" + value


class _Echo:
    def write(self, value):
        return value


def csv_response(filename: str, header, rows) -> StreamingHttpResponse:
    """A CSV streamed line by line: no list of all rows is ever built."""
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            # Spreadsheets run cells starting with these as formulas; upstream text is data.
            yield writer.writerow(_inert(value) for value in row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --------------------------------------------------------------------- the sync's state


@require_GET
@login_required
@vary_on_headers("HX-Request")
def index_status(request: HttpRequest):
    """The sync's state, polled by htmx while a sync runs. With `reload=1` (a page that
    shows indexed data) a finished sync refreshes the page so it shows the new data."""
    credential = active_credential(request)
    sync = index.sync_state(credential)
    response = render(
        request, "recordings/_index_status.html", status_context(sync, request.GET.get("reload"))
    )
    if request.GET.get("reload") and request.GET.get("was") == "busy" and not is_busy(sync):
        response["HX-Refresh"] = "true"
    return response


@require_POST
@login_required
def index_refresh(request: HttpRequest):
    credential = active_credential(request)
    sync = index.request_sync(credential)
    if request.htmx:
        reload = request.POST.get("reload")
        return render(request, "recordings/_index_status.html", status_context(sync, reload))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("recordings_list")
    return redirect(target)


def is_busy(sync: IndexSync) -> bool:
    return sync.state in (IndexSync.State.QUEUED, IndexSync.State.RUNNING)


def status_context(sync: IndexSync, reload=None) -> dict:
    progress = index.progress(sync)
    return {
        "sync": sync,
        "busy": is_busy(sync),
        "progress": progress,
        "time_left": index.describe_seconds(progress.seconds_left),
        "reload": "1" if reload else "",
    }
