"""/credentials/: a user's SignalWire credentials: list (their own and those shared with
them), add (checked against the API first), pick the one in use, share (with the
`manage_shared_credentials` permission), remove."""

from contextlib import contextmanager

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from recordings_app import audit, tasks
from recordings_app.access import (
    LoggedInRequest,
    credential_in_use,
    hold_credentials_of,
    put_in_use,
)
from recordings_app.forms import CredentialForm, SharingForm
from recordings_app.models import Credential

SHARE_PERMISSION = "recordings_app.manage_shared_credentials"


@require_GET
@login_required
def credential_list(request: LoggedInRequest):
    user = request.user
    in_use = credential_in_use(user)
    own = Credential.objects.filter(user=user).prefetch_related(
        "shared_with_groups", "shared_with_users"
    )
    # What others shared: label, space and owner only; never the project or the token.
    shared = Credential.objects.shared_with(user).exclude(user=user).select_related("user")
    return render(
        request,
        "credentials/list.html",
        {
            "credentials": own,
            "shared_credentials": shared,
            "in_use": in_use,
            "may_share": user.has_perm(SHARE_PERMISSION),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def credential_add(request: LoggedInRequest):
    form = CredentialForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            hold_credentials_of(request.user)
            # Checked again under the lock: the same label may have been added by a
            # request that ran while this one checked the credentials upstream.
            if Credential.objects.filter(user=request.user, label=form.cleaned_data["label"]):
                form.add_error("label", "You already have credentials with this label.")
                return render(request, "credentials/form.html", {"form": form})
            credential = form.save()
            put_in_use(request.user, credential)
            tasks.request_sync(credential)  # the first sync, on the task queue
            audit.record(request, audit.Action.CREDENTIAL_ADD, credential=credential)
            if shared_with := credential.shared_with_names():
                audit.record(
                    request,
                    audit.Action.CREDENTIAL_SHARE,
                    credential=credential,
                    detail=f"Shared with {shared_with}",
                )
        messages.success(request, f"Credentials “{credential.label}” work and are now in use.")
        return redirect("recordings_list")
    return render(request, "credentials/form.html", {"form": form})


@require_POST
@login_required
def credential_activate(request: LoggedInRequest, pk: int):
    """Use one of the user's own credentials, or one shared with them."""
    with transaction.atomic():
        hold_credentials_of(request.user)
        credential = get_object_or_404(Credential.objects.usable_by(request.user), pk=pk)
        put_in_use(request.user, credential)
        shared = credential.user_id != request.user.pk
        audit.record(
            request,
            audit.Action.CREDENTIAL_ACTIVATE,
            credential=credential,
            detail=f"Shared by {credential.user.get_username()}" if shared else "",
        )
    messages.success(request, f"Now showing recordings for “{credential.label}”.")
    return redirect("recordings_list")


@require_http_methods(["GET", "POST"])
@login_required
def credential_sharing(request: LoggedInRequest, pk: int):
    """Who the user's own credential `pk` is shared with. A grant taken away here is
    refused from that user's next request on (recordings_app.access)."""
    if not request.user.has_perm(SHARE_PERMISSION):
        raise PermissionDenied
    credential = get_object_or_404(Credential, pk=pk, user=request.user)
    form = SharingForm(request.POST or None, credential=credential)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            before = credential.shared_with_names()
            form.share(credential)
            after = credential.shared_with_names()
            if after != before:
                audit.record(
                    request,
                    audit.Action.CREDENTIAL_SHARE,
                    credential=credential,
                    detail=f"Shared with {after or 'nobody'} (was {before or 'nobody'})",
                )
        who = f"shared with {after}" if after else "no longer shared with anyone"
        messages.success(request, f"Credentials “{credential.label}” are {who}.")
        return redirect("credential_list")
    return render(request, "credentials/sharing.html", {"form": form, "credential": credential})


@require_POST
@login_required
def credential_delete(request: LoggedInRequest, pk: int):
    """Only the owner removes credentials; whoever they were shared with loses them."""
    with _own_credential(request, pk) as credential:
        audit.record(request, audit.Action.CREDENTIAL_REMOVE, credential=credential)
        credential.delete()
        successor = Credential.objects.filter(user=request.user).order_by("-created_at").first()
        if credential.is_active and successor:
            put_in_use(request.user, successor)
            audit.record(
                request,
                audit.Action.CREDENTIAL_ACTIVATE,
                credential=successor,
                detail=f"In use after “{credential.label}” was removed",
            )
    messages.success(request, f"Credentials “{credential.label}” were removed.")
    return redirect("credential_list")


@contextmanager
def _own_credential(request: LoggedInRequest, pk: int):
    """The user's own credential `pk` (else 404), inside one transaction that holds back
    the user's other credential changes until it ends (loaded after taking the lock, so
    never a stale "active" flag)."""
    with transaction.atomic():
        hold_credentials_of(request.user)
        yield get_object_or_404(Credential, pk=pk, user=request.user)
