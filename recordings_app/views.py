"""Thin views: find the user's credential, ask the SignalWire client, render.

SignalWire failures are not caught here: `UpstreamErrorMiddleware` turns each into a
message and a status. The views catch them only where the user's next step differs
(a delete that did not happen, credentials that did not check out).
"""

from pathlib import PurePosixPath
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)
from django.views.decorators.vary import vary_on_headers

from recordings_app import audit, index, index_views, paging, waveform
from recordings_app.access import active_credential, checked_recording_id
from recordings_app.cache import content_key
from recordings_app.errors import explain
from recordings_app.forms import CredentialForm, ProfileForm
from recordings_app.fragments import wants_fragment
from recordings_app.models import Credential, Profile
from recordings_app.search import RecordingFilters
from recordings_app.signalwire import (
    RecordingNotFound,
    SignalWireError,
    UpstreamTimeout,
    canonical_uuid,
)

# ------------------------------------------------------------------------ recordings


@require_GET
@login_required
@vary_on_headers("HX-Request", "HX-Boosted")
def recordings_list(request: HttpRequest):
    credential = active_credential(request)
    filters = RecordingFilters(request.GET)
    if filters.is_active():  # filters or a sort: answered from the index
        return index_views.filtered_recordings(request, credential, filters)
    size = paging.page_size(request.GET.get("size"))
    cursor = paging.unsign_cursor(credential, request.GET.get("page"))
    page = credential.client(cached=True).list_recordings(cursor, page_size=size)

    def link(cursor):
        token = paging.sign_cursor(credential, cursor)
        return None if token is None else "?" + urlencode({"size": size, "page": token})

    context = {
        "credential": credential,
        "page": page,
        "page_size": size,
        "page_sizes": paging.PAGE_SIZES,
        "next_url": link(page.next_cursor),
        "prev_url": link(page.prev_cursor),
        "first_url": f"?size={size}" if page.prev_cursor else None,
        "table_key": content_key(credential.pk, size, timezone.get_current_timezone_name(), page),
        "filters": filters,
    }
    template = "recordings/list.html#table" if wants_fragment(request) else "recordings/list.html"
    return render(request, template, context)


@require_GET
@login_required
def jump_to_recording(request: HttpRequest):
    recording_id = canonical_uuid(request.GET.get("id", "").strip())
    if recording_id is None:
        messages.error(request, "That is not a recording ID. Paste the whole ID.")
        return redirect("recordings_list")
    return redirect("recording_detail", recording_id=recording_id)


@require_GET
@login_required
def recording_detail(request: HttpRequest, recording_id: str):
    recording_id = checked_recording_id(recording_id)
    credential = active_credential(request)
    recording = credential.client(cached=True).get_recording(recording_id)
    audit.record(request, audit.Action.VIEW, recording_id=recording_id, credential=credential)
    return render(
        request,
        "recordings/detail.html",
        {
            "credential": credential,
            "recording": recording,
            "can_delete": request.user.has_perm("recordings_app.delete_recording"),
            "listeners": audit.listeners(recording_id),
        },
    )


@require_safe
@login_required
def stream_recording_audio(request: HttpRequest, recording_id: str):
    """The recording's audio through our own URL, in chunks, with `Range` passed on so
    the browser can seek. `?download=1` answers as an attachment."""
    recording_id = checked_recording_id(recording_id)
    credential = active_credential(request)
    client = credential.client(cached=True)
    recording = client.get_recording(recording_id)
    media = client.open_media(recording, request.headers.get("Range"))
    audit.record_audio(
        request, recording_id, credential, download=bool(request.GET.get("download"))
    )
    response = StreamingHttpResponse(media, status=media.status, headers=media.headers)
    response["Cache-Control"] = "private, max-age=3600"
    if request.GET.get("download"):
        extension = _media_extension(recording.url, media.headers.get("Content-Type", ""))
        response["Content-Disposition"] = (
            f'attachment; filename="recording-{recording_id}.{extension}"'
        )
    return response


@require_GET
@login_required
def recording_peaks(request: HttpRequest, recording_id: str):
    """The waveform's peaks per channel as JSON, computed from the streamed WAV once and
    cached. `{"peaks": null, "reason": ...}` where there is no waveform to draw (mp3)."""
    recording_id = checked_recording_id(recording_id)
    answer = waveform.recording_peaks(active_credential(request), recording_id)
    response = JsonResponse(answer)
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _media_extension(url: str | None, content_type: str) -> str:
    suffix = PurePosixPath(urlsplit(url or "").path).suffix.lstrip(".").lower()
    if suffix in ("wav", "mp3"):
        return suffix
    return "mp3" if "mpeg" in content_type else "wav"


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("recordings_app.delete_recording", raise_exception=True)
def delete_recording(request: HttpRequest, recording_id: str):
    recording_id = checked_recording_id(recording_id)
    credential = active_credential(request)
    client = credential.client(cached=True)
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


# ---------------------------------------------------------------------------- profile


@require_http_methods(["GET", "POST"])
@login_required
def profile(request: HttpRequest):
    instance = Profile.objects.filter(user=request.user).first() or Profile(user=request.user)
    form = ProfileForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        form.save()
        zone = form.instance.timezone or "your browser's time zone"
        messages.success(request, f"Times are now shown in {zone}.")
        return redirect("profile")
    return render(request, "profile.html", {"form": form})


# ----------------------------------------------------------------------- credentials


@require_GET
@login_required
def credential_list(request: HttpRequest):
    credentials = Credential.objects.filter(user=request.user)
    return render(request, "credentials/list.html", {"credentials": credentials})


@require_http_methods(["GET", "POST"])
@login_required
def credential_add(request: HttpRequest):
    form = CredentialForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            credential = form.save()
            _activate(credential)
            index.request_sync(credential)  # the first sync, on the task queue
            audit.record(request, audit.Action.CREDENTIAL_ADD, credential=credential)
        messages.success(request, f"Credentials “{credential.label}” work and are now in use.")
        return redirect("recordings_list")
    return render(request, "credentials/form.html", {"form": form})


@require_POST
@login_required
def credential_activate(request: HttpRequest, pk: int):
    credential = get_object_or_404(Credential, pk=pk, user=request.user)
    with transaction.atomic():
        _activate(credential)
        audit.record(request, audit.Action.CREDENTIAL_ACTIVATE, credential=credential)
    messages.success(request, f"Now showing recordings for “{credential.label}”.")
    return redirect("recordings_list")


@require_POST
@login_required
def credential_delete(request: HttpRequest, pk: int):
    credential = get_object_or_404(Credential, pk=pk, user=request.user)
    with transaction.atomic():
        audit.record(request, audit.Action.CREDENTIAL_REMOVE, credential=credential)
        credential.delete()
        successor = Credential.objects.filter(user=request.user).order_by("-created_at").first()
        if credential.is_active and successor:
            _activate(successor)
            audit.record(
                request,
                audit.Action.CREDENTIAL_ACTIVATE,
                credential=successor,
                detail=f"In use after “{credential.label}” was removed",
            )
    messages.success(request, f"Credentials “{credential.label}” were removed.")
    return redirect(reverse("credential_list"))


def _activate(credential: Credential) -> None:
    Credential.objects.filter(user=credential.user, is_active=True).update(is_active=False)
    Credential.objects.filter(pk=credential.pk).update(is_active=True)
