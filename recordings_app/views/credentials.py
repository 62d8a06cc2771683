"""/credentials/: a user's own SignalWire credentials: list, add (checked against the
API first), pick the one in use, remove."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from recordings_app import audit, tasks
from recordings_app.forms import CredentialForm
from recordings_app.models import Credential


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
            tasks.request_sync(credential)  # the first sync, on the task queue
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
    return redirect("credential_list")


def _activate(credential: Credential) -> None:
    Credential.objects.filter(user=credential.user, is_active=True).update(is_active=False)
    Credential.objects.filter(pk=credential.pk).update(is_active=True)
