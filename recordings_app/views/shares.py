"""Share links: making one (/recordings/<id>/share/), the user's live links (/shares/),
revoking one, and the shared recording's page and audio (/shared/?token=<token>).

The token travels in the query string as `token=`, never in the path: the request log
records paths only, and the Sentry scrubber (dashboard/sentry.py) masks any pair whose
name says token, so neither holds a working link."""

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST, require_safe

from recordings_app import audio_stream, sharing
from recordings_app.access import LoggedInRequest, active_credential, checked_recording_id
from recordings_app.errors import Problem


@require_POST
@permission_required(sharing.PERMISSION, raise_exception=True)
def share_create(request: LoggedInRequest, recording_id: str) -> HttpResponse:
    recording_id = checked_recording_id(recording_id)
    credential = active_credential(request)
    recording = credential.client().get_recording(recording_id)  # only one that is there
    if not recording.has_audio:
        raise Problem(400, "Nothing to share", "This recording has no audio to listen to.")
    form = sharing.ShareForm(request.POST)
    if not form.is_valid():
        reasons = " ".join(str(e) for errors in form.errors.values() for e in errors)
        raise Problem(400, "The share link was not made", reasons)
    link, token = sharing.create_link(
        request,
        credential,
        recording_id,
        hours=form.cleaned_data["hours"],
        at=form.cleaned_data["at"],
        allow_download=form.cleaned_data["allow_download"],
    )
    url = request.build_absolute_uri(reverse("shared_recording") + "?token=" + token)
    return render(
        request,
        "shares/created.html",
        {"link": link, "url": url, "recording": recording, "public": settings.SHARE_LINKS_PUBLIC},
    )


@require_GET
@login_required
def share_list(request: LoggedInRequest) -> HttpResponse:
    return render(
        request,
        "shares/list.html",
        {"links": sharing.live_links_of(request.user), "public": settings.SHARE_LINKS_PUBLIC},
    )


@require_POST
@login_required
def share_revoke(request: LoggedInRequest, pk: int) -> HttpResponse:
    sharing.revoke(request, pk)
    return redirect("share_list")


def _shared_link(request: HttpRequest):
    sharing.check_rate(request)
    return sharing.link_for(request, request.GET.get("token", "")[:100])


@require_GET
def shared_recording(request: HttpRequest) -> HttpResponse:
    """The shared recording's page: its player, and nothing else of the dashboard's."""
    if not settings.SHARE_LINKS_PUBLIC and not request.user.is_authenticated:
        sharing.check_rate(request)
        return redirect_to_login(request.get_full_path())
    link = _shared_link(request)
    recording = link.credential.client().get_recording(link.recording_id)
    sharing.record_open(request, link)
    return render(
        request,
        "shares/shared.html",
        {"link": link, "recording": recording, "token": request.GET["token"]},
    )


@require_safe
def shared_audio(request: HttpRequest):
    """The shared recording's audio, by the same streaming path as its own audio URL;
    `?download=1` only where the link allows downloads."""
    if not settings.SHARE_LINKS_PUBLIC and not request.user.is_authenticated:
        sharing.check_rate(request)
        raise Problem(403, "Log in to listen", "This share link is for users of the dashboard.")
    link = _shared_link(request)
    attachment = bool(request.GET.get("download"))
    if attachment and not link.allow_download:
        sharing.refuse_download(request, link)
    wanted = audio_stream.wanted_range(request)
    recording, media = audio_stream.open_audio(link.credential.client(), link.recording_id, wanted)
    if request.method == "GET" and media.starts_at_zero:
        if attachment:
            sharing.record_download(request, link)
        else:
            sharing.record_listen(request, link)
    return audio_stream.audio_response(
        request,
        link.recording_id,
        recording,
        media,
        attachment=attachment,
        # Never kept by the browser: a revoked link must stop playing.
        cache_control="private, no-store",
    )
