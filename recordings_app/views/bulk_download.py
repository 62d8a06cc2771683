"""/recordings/download.zip: every recording a filtered list shows, as one ZIP with a
manifest (archive.py), for those with the `download_many` permission."""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from recordings_app import archive, search, streaming
from recordings_app.access import LoggedInRequest, active_credential


@require_GET
@login_required
@permission_required("recordings_app.download_many", raise_exception=True)
def recordings_zip(request: LoggedInRequest) -> StreamingHttpResponse:
    """The list's own filter parameters choose the recordings, as for the CSV; a filter
    that does not parse is a 400 before anything is sent."""
    credential = active_credential(request)
    filters = search.RecordingFilters(request.GET, region=request.phone_region)
    keys = archive.selected_keys(search.filtered(credential, filters.checked()))
    zone = timezone.get_current_timezone()
    bundle = archive.RecordingsArchive(request, credential, keys, zone)
    streaming.without_the_database(request)  # the archive asks for it only briefly
    response = StreamingHttpResponse(bundle.chunks(), content_type="application/zip")
    stamp = f"{timezone.localtime(timezone.now(), zone):%Y-%m-%d_%H%M}"
    response["Content-Disposition"] = f'attachment; filename="recordings-{stamp}.zip"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
