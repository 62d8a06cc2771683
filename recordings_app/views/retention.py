"""/credentials/<pk>/retention/: a credential's retention policies, for users with
`manage_retention` who may use that credential. Any change (a new policy, an edit, a
resume) is first shown with its dry run and takes effect only when confirmed there;
pausing and removing stop deletions and take effect at once."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from recordings_app import audit, deletions
from recordings_app.access import LoggedInRequest
from recordings_app.models import Credential, DeletionJob, RetentionPolicy
from recordings_app.policy_forms import RetentionPolicyForm

PERMISSION = "recordings_app.manage_retention"
CONFIRM_SALT = "retention-policy-change"
CONFIRM_MAX_AGE = 3600


def _credential(request: LoggedInRequest, pk: int) -> Credential:
    """The credential, if the user may set its retention: the permission and the use of
    the credential (their own or shared with them)."""
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    return get_object_or_404(Credential.objects.usable_by(request.user), pk=pk)


def _policy(credential: Credential, policy_pk) -> RetentionPolicy:
    return get_object_or_404(RetentionPolicy, pk=policy_pk, credential=credential)


@require_GET
@login_required
def retention_policies(request: LoggedInRequest, pk: int):
    credential = _credential(request, pk)
    policies = list(credential.retention_policies.all())
    last_jobs: dict[int, DeletionJob] = {}
    for job in DeletionJob.objects.filter(policy__in=policies).order_by("policy", "-created_at"):
        if job.policy_id is not None:
            last_jobs.setdefault(job.policy_id, job)
    rows = [
        (
            policy,
            deletions.describe_policy(
                policy.days, policy.status_family, policy.track, policy.source
            ),
            last_jobs.get(policy.pk),
        )
        for policy in policies
    ]
    return render(
        request,
        "retention/list.html",
        {"credential": credential, "rows": rows, "form": RetentionPolicyForm()},
    )


@require_GET
@login_required
def retention_edit(request: LoggedInRequest, pk: int, policy_pk: int):
    credential = _credential(request, pk)
    policy = _policy(credential, policy_pk)
    form = RetentionPolicyForm(
        initial={
            "policy": policy.pk,
            "days": policy.days,
            "status_family": policy.status_family,
            "track": policy.track,
            "source": policy.source,
            "paused": policy.paused,
        }
    )
    return render(
        request, "retention/edit.html", {"credential": credential, "policy": policy, "form": form}
    )


@require_POST
@login_required
def retention_propose(request: LoggedInRequest, pk: int):
    """The change asked for, with its dry run, and the button that confirms it."""
    credential = _credential(request, pk)
    form = RetentionPolicyForm(request.POST)
    if not form.is_valid():
        policy = None
        if form.cleaned_data.get("policy"):
            policy = _policy(credential, form.cleaned_data["policy"])
        return render(
            request,
            "retention/edit.html",
            {"credential": credential, "policy": policy, "form": form},
            status=400,
        )
    proposal = form.proposal()
    current = _policy(credential, proposal["policy"]) if proposal["policy"] else None
    rows = deletions.retention_rows(
        credential,
        proposal["days"],
        status_family=proposal["status_family"],
        track=proposal["track"],
        source=proposal["source"],
    )
    token = signing.dumps({"credential": credential.pk, **proposal}, salt=CONFIRM_SALT)
    return render(
        request,
        "retention/confirm.html",
        {
            "credential": credential,
            "current": current,
            "current_description": _describe(current) if current else "",
            "description": _describe_proposal(proposal),
            "proposal": proposal,
            "dry_run": deletions.dry_run(rows, proposal["days"]),
            "token": token,
        },
    )


@require_POST
@login_required
def retention_confirm(request: LoggedInRequest, pk: int):
    credential = _credential(request, pk)
    try:
        proposal = signing.loads(
            request.POST.get("token", ""), salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE
        )
    except signing.BadSignature:
        messages.error(request, "That confirmation expired or was altered. Nothing changed.")
        return redirect("retention_policies", pk=credential.pk)
    if proposal.get("credential") != credential.pk:
        raise PermissionDenied
    days = max(int(proposal["days"]), RetentionPolicy.MIN_DAYS)
    values = {
        "days": days,
        "status_family": proposal["status_family"],
        "track": proposal["track"],
        "source": proposal["source"],
        "paused": bool(proposal["paused"]),
        "changed_at": timezone.now(),
        "changed_by": request.user.get_username(),
    }
    with transaction.atomic():
        if proposal.get("policy"):
            policy = _policy(credential, proposal["policy"])
            was = _describe(policy)
            RetentionPolicy.objects.filter(pk=policy.pk).update(**values)
            policy.refresh_from_db()
            words = f"Policy #{policy.pk}: {_describe(policy)} (was: {was})"
        else:
            policy = RetentionPolicy.objects.create(credential=credential, **values)
            words = f"Policy #{policy.pk} added: {_describe(policy)}"
        audit.record(request, audit.Action.RETENTION_CHANGE, credential=credential, detail=words)
    messages.success(request, f"Retention policy saved: {_describe(policy)}.")
    return redirect("retention_policies", pk=credential.pk)


@require_POST
@login_required
def retention_pause(request: LoggedInRequest, pk: int, policy_pk: int):
    """Pause at once (it only stops deleting). Resuming is a change: it goes through the
    confirmation with its dry run (the list's Resume button posts to propose)."""
    credential = _credential(request, pk)
    policy = _policy(credential, policy_pk)
    RetentionPolicy.objects.filter(pk=policy.pk).update(
        paused=True, changed_at=timezone.now(), changed_by=request.user.get_username()
    )
    policy.refresh_from_db()
    audit.record(
        request,
        audit.Action.RETENTION_CHANGE,
        credential=credential,
        detail=f"Policy #{policy.pk} paused: {_describe(policy)}",
    )
    messages.success(request, f"Retention policy paused: {_describe(policy)}.")
    return redirect("retention_policies", pk=credential.pk)


@require_POST
@login_required
def retention_remove(request: LoggedInRequest, pk: int, policy_pk: int):
    credential = _credential(request, pk)
    policy = _policy(credential, policy_pk)
    words = f"Policy #{policy.pk} removed: {_describe(policy)}"
    policy.delete()
    audit.record(request, audit.Action.RETENTION_CHANGE, credential=credential, detail=words)
    messages.success(request, "Retention policy removed.")
    return redirect("retention_policies", pk=credential.pk)


@require_GET
@login_required
def retention_dry_run(request: LoggedInRequest, pk: int, policy_pk: int):
    """What the policy's next run would delete, as it stands."""
    credential = _credential(request, pk)
    policy = _policy(credential, policy_pk)
    return render(
        request,
        "retention/dry_run.html",
        {
            "credential": credential,
            "policy": policy,
            "description": _describe(policy),
            "dry_run": deletions.dry_run(deletions.policy_rows(policy), policy.days),
        },
    )


def _describe(policy: RetentionPolicy) -> str:
    words = deletions.describe_policy(
        policy.days, policy.status_family, policy.track, policy.source
    )
    return words + (" · paused" if policy.paused else "")


def _describe_proposal(proposal: dict) -> str:
    words = deletions.describe_policy(
        proposal["days"], proposal["status_family"], proposal["track"], proposal["source"]
    )
    return words + (" · paused" if proposal["paused"] else "")
