"""/profile/: what a user chose for themselves (their time zone, their phone region)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from recordings_app.access import LoggedInRequest
from recordings_app.forms import ProfileForm
from recordings_app.models import Profile


@require_http_methods(["GET", "POST"])
@login_required
def profile(request: LoggedInRequest):
    instance = Profile.objects.filter(user=request.user).first() or Profile(user=request.user)
    form = ProfileForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        form.save()
        zone = form.instance.timezone or "your browser's time zone"
        messages.success(request, f"Times are now shown in {zone}.")
        if "phone_region" in form.changed_data:
            region = form.instance.phone_region or f"the dashboard's ({settings.PHONE_REGION})"
            messages.success(request, f"Phone numbers are now read for region {region}.")
        return redirect("profile")
    return render(request, "profile.html", {"form": form})
