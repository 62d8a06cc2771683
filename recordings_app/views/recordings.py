"""/recordings/: the list, a recording's page, its audio, its waveform, deleting it, and
the list as CSV."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)
from django.views.decorators.vary import vary_on_headers

from recordings_app import (
    audit,
    exports,
    index,
    listing,
    notes,
    paging,
    search,
    sharing,
    talk_time,
    tasks,
    waveform,
)
from recordings_app.access import (
    LoggedInRequest,
    active_credential,
    browser_cache_control,
    checked_recording_id,
)
from recordings_app.errors import explain
from recordings_app.fragments import content_key, wants_fragment
from recordings_app.signalwire import (
    RecordingNotFound,
    SignalWireError,
    UpstreamTimeout,
    canonical_uuid,
)


@require_GET
@login_required
@vary_on_headers("HX-Request", "HX-Boosted")
def recordings_list(request: LoggedInRequest):
    credential = active_credential(request)
    region = request.phone_region
    filters = search.RecordingFilters(request.GET, region=region)
    status = 200
    if filters.is_active() and not filters.is_valid():
        # The page stays, with the field marked: one typo should not cost the page.
        table, status = listing.needs_fixing(filters, request.GET), 400
    elif filters.is_active():  # filters or a sort: answered from the index
        table = listing.indexed(credential, filters, request.GET)
    else:
        table = listing.live(credential, request.GET)
    context = {
        "credential": credential,
        "table": table,
        "filters": filters,
        "filter_params": filters.params(),
        "page_sizes": paging.PAGE_SIZES,
        "phone_region": region,
        # The rendered table is cached by a digest of everything it shows.
        "table_key": content_key(
            credential.cache_scope, timezone.get_current_timezone_name(), region, table
        ),
    }
    if wants_fragment(request):
        return render(request, "recordings/list.html#table", context, status=status)
    context.update(index.sync_status(credential, reload=table.filtered))
    return render(request, "recordings/list.html", context, status=status)


@require_GET
@login_required
def recordings_csv(request: LoggedInRequest):
    """The filtered recordings as CSV, streamed from the index in chunks."""
    credential = active_credential(request)
    filters = search.RecordingFilters(request.GET, region=request.phone_region)
    rows = search.filtered(credential, filters.checked())
    return exports.csv_response(
        "recordings.csv", exports.RECORDING_COLUMNS, exports.recording_rows(rows)
    )


@require_GET
@login_required
def jump_to_recording(request: LoggedInRequest):
    """ "Open recording by ID": a recording id, a call leg id or a call sid. One match
    opens it, several are listed, none says what was searched."""
    wanted = canonical_uuid(request.GET.get("id", "").strip())
    if wanted is None:
        messages.error(
            request,
            "That is not a recording ID, call leg ID or call SID. Paste the whole ID "
            "(like 3f1c2a9e-8b7d-4e21-9a55-0c6d2b1e7f40).",
        )
        return redirect("recordings_list")
    credential = active_credential(request)
    found = listing.recordings_by_any_id(credential, wanted)
    if len(found) == 1:
        return redirect("recording_detail", recording_id=found[0].id)
    if found:
        return render(
            request,
            "recordings/matches.html",
            {
                "credential": credential,
                "wanted": wanted,
                "recordings": listing.with_parties(credential, found),
                "phone_region": request.phone_region,
            },
        )
    messages.error(
        request,
        f"Nothing has the ID {wanted}: no recording, call leg or call of "
        f"{credential.label} (space {credential.space}). Searched the dashboard's index and "
        "SignalWire's recordings.",
    )
    return redirect("recordings_list")


@require_GET
@login_required
def recording_detail(request: LoggedInRequest, recording_id: str):
    recording_id = checked_recording_id(recording_id)
    credential = active_credential(request)
    recording = credential.client().get_recording(recording_id)
    recording = listing.with_own_parties(credential, recording)
    audit.record(request, audit.Action.VIEW, recording_id=recording_id, credential=credential)
    talk_row = talk_time.indexed_row(credential, recording_id)
    tasks.request_talk_time(credential, talk_row)  # the first open queues its analysis
    return render(
        request,
        "recordings/detail.html",
        {
            "credential": credential,
            "recording": recording,
            "phone_region": request.phone_region,
            "can_delete": request.user.has_perm("recordings_app.delete_recording"),
            "listeners": audit.listeners(request, recording_id),
            "talk": talk_time.shown(talk_row),
            **notes.panel(request, credential, recording_id),
            **sharing.form_context(request),
        },
    )


@require_GET
@login_required
def recording_talk_time(request: LoggedInRequest, recording_id: str):
    """The talk-time panel alone, from the index: polled by htmx while the analysis is
    queued, with the bars under the waveform swapped in out of band."""
    recording_id = checked_recording_id(recording_id)
    credential = active_credential(request)
    talk = talk_time.shown(talk_time.indexed_row(credential, recording_id))
    return render(request, "recordings/_talk_time.html", {"talk": talk, "oob": True})


@require_POST
@login_required
def recording_played(request: LoggedInRequest, recording_id: str):
    """The player reports that someone pressed play: that, not fetching the audio (which
    the browser also does to read its length), is a listen."""
    recording_id = checked_recording_id(recording_id)
    credential = active_credential(request)
    try:
        credential.client().get_recording(recording_id)  # only a recording there is (cached)
    except SignalWireError as error:
        audit.record_failure(
            request,
            audit.Action.PLAY_FAILED,
            error,
            recording_id=recording_id,
            credential=credential,
        )
        raise
    audit.record_play(request, recording_id, credential)
    return HttpResponse(status=204)


@require_GET
@login_required
def recording_peaks(request: LoggedInRequest, recording_id: str):
    """The waveform's peaks per channel as JSON, computed from the streamed audio once
    and cached. `{"peaks": null, "reason": ...}` where there is no waveform to draw."""
    recording_id = checked_recording_id(recording_id)
    credential = active_credential(request)
    answer = waveform.peaks_for(credential, recording_id)
    response = JsonResponse(answer)
    response["Cache-Control"] = browser_cache_control(request, credential)
    return response


@require_http_methods(["GET", "POST"])
@login_required
def recording_delete(request: LoggedInRequest, recording_id: str):
    if not request.user.has_perm("recordings_app.delete_recording"):
        # Checked here rather than by permission_required, so a refused attempt to delete
        # (the POST; the confirmation page is only a page) is in the audit trail.
        if request.method == "POST":
            audit.record(
                request,
                audit.Action.DELETE_DENIED,
                recording_id=canonical_uuid(recording_id) or "",
                detail="No permission to delete recordings",
            )
        raise PermissionDenied
    recording_id = checked_recording_id(recording_id)
    credential = active_credential(request)
    client = credential.client()
    if request.method == "GET":
        recording = client.get_recording(recording_id)
        return render(
            request,
            "recordings/confirm_delete.html",
            {"recording": recording, "recording_id": recording_id},
        )
    try:
        client.delete_recording(recording_id)
    except RecordingNotFound:
        index.forget_recording(credential, recording_id)
        audit.record(
            request,
            audit.Action.DELETE_FAILED,
            recording_id=recording_id,
            credential=credential,
            detail="Already deleted (SignalWire answered 404)",
        )
        messages.info(request, f"Recording {recording_id} was already deleted.")
        return redirect("recordings_list")
    except SignalWireError as error:
        explanation = explain(error)
        # A read timeout means the DELETE went out: it may have worked.
        unknown = isinstance(error, UpstreamTimeout) and not error.connecting
        audit.record(
            request,
            audit.Action.DELETE_FAILED,
            recording_id=recording_id,
            credential=credential,
            detail=("Outcome unknown: " if unknown else "") + explanation.title,
        )
        response = render(
            request,
            "recordings/confirm_delete.html",
            {"recording_id": recording_id, "problem": explanation, "outcome_unknown": unknown},
            status=explanation.status,
        )
        if explanation.retry_after:
            response["Retry-After"] = str(explanation.retry_after)
        return response
    index.forget_recording(credential, recording_id)
    audit.record(request, audit.Action.DELETE, recording_id=recording_id, credential=credential)
    messages.success(request, f"Recording {recording_id} was deleted.")
    return redirect("recordings_list")
