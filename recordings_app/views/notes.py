"""/recordings/<id>/notes/ and /tags/: notes and tags on a recording's page.

htmx posts get the page's notes panel back; without JavaScript the form posts and the
browser is sent back to the recording's page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from recordings_app import notes
from recordings_app.access import LoggedInRequest, active_credential, checked_recording_id
from recordings_app.errors import Problem
from recordings_app.fragments import wants_fragment
from recordings_app.models import Credential


def _seen_recording(request: LoggedInRequest, recording_id: str) -> tuple[str, Credential]:
    """The recording's canonical id and the credential it is seen through: a 404 (from
    SignalWire, cached) for one the user's credential does not hold."""
    recording_id = checked_recording_id(recording_id)
    credential = active_credential(request)
    credential.client().get_recording(recording_id)
    return recording_id, credential


def _answer(request: LoggedInRequest, credential: Credential, recording_id: str, form=None):
    if wants_fragment(request):
        context = notes.panel(request, credential, recording_id)
        context["recording_id"] = recording_id
        if form is not None and form.errors:
            context["form_errors"] = [e for errors in form.errors.values() for e in errors]
        status = 400 if form is not None and form.errors else 200
        return render(request, "recordings/_notes.html", context, status=status)
    if form is not None and form.errors:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(reverse("recording_detail", args=[recording_id]) + "#notes")


@require_POST
@login_required
def note_add(request: LoggedInRequest, recording_id: str) -> HttpResponse:
    recording_id, credential = _seen_recording(request, recording_id)
    form = notes.NoteForm(request.POST)
    if form.is_valid():
        notes.add_note(
            request, credential, recording_id, form.cleaned_data["text"], form.cleaned_data["at"]
        )
    return _answer(request, credential, recording_id, form)


@require_POST
@login_required
def note_edit(request: LoggedInRequest, recording_id: str, pk: int) -> HttpResponse:
    recording_id, credential = _seen_recording(request, recording_id)
    note = get_object_or_404(
        notes.notes_of(credential, recording_id), pk=pk
    )  # another credential's note is not there
    form = notes.NoteForm(request.POST)
    if form.is_valid():
        notes.edit_note(request, note, form.cleaned_data["text"], form.cleaned_data["at"])
    return _answer(request, credential, recording_id, form)


@require_POST
@login_required
def tag_add(request: LoggedInRequest, recording_id: str) -> HttpResponse:
    recording_id, credential = _seen_recording(request, recording_id)
    form = notes.TagForm(request.POST)
    if form.is_valid():
        notes.add_tags(request, credential, recording_id, form.cleaned_data["tags"])
    return _answer(request, credential, recording_id, form)


@require_POST
@login_required
def tag_remove(request: LoggedInRequest, recording_id: str, name: str) -> HttpResponse:
    recording_id, credential = _seen_recording(request, recording_id)
    if not notes.remove_tag(request, credential, recording_id, name):
        raise Problem(404, "No such tag", "The recording does not carry that tag.")
    return _answer(request, credential, recording_id)
