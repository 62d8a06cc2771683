"""/credentials/: a user's own SignalWire credentials: list, add (checked against the
API first), pick the one in use, remove."""

from contextlib import contextmanager

from django.contrib import messages
from django.contrib.auth import get_user_model
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
            _hold_credentials_of(request.user)
            # Checked again under the lock: the same label may have been added by a
            # request that ran while this one checked the credentials upstream.
            if Credential.objects.filter(user=request.user, label=form.cleaned_data["label"]):
                form.add_error("label", "You already have credentials with this label.")
                return render(request, "credentials/form.html", {"form": form})
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
    with _own_credential(request, pk) as credential:
        _activate(credential)
        audit.record(request, audit.Action.CREDENTIAL_ACTIVATE, credential=credential)
    messages.success(request, f"Now showing recordings for “{credential.label}”.")
    return redirect("recordings_list")


@require_POST
@login_required
def credential_delete(request: HttpRequest, pk: int):
    with _own_credential(request, pk) as credential:
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


def _hold_credentials_of(user) -> None:
    """Take the user's row lock for the rest of the transaction, so one user's credential
    changes run one at a time. Without it two "make active" clicks (or two adds) at once
    deadlock or both set a credential active, and one of them is a 500 (Postgres; SQLite
    runs one write transaction at a time anyway). The user's row, not their credentials':
    a user with none yet has no credential row to lock."""
    list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk"))


@contextmanager
def _own_credential(request: HttpRequest, pk: int):
    """The user's own credential `pk` (else 404), inside one transaction that holds back
    the user's other credential changes until it ends (loaded after taking the lock, so
    never a stale "active" flag)."""
    with transaction.atomic():
        _hold_credentials_of(request.user)
        yield get_object_or_404(Credential, pk=pk, user=request.user)


def _activate(credential: Credential) -> None:
    Credential.objects.filter(user=credential.user, is_active=True).update(is_active=False)
    Credential.objects.filter(pk=credential.pk).update(is_active=True)
