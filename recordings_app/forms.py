import zoneinfo
from datetime import datetime, time
from functools import cache

import phonenumbers
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from recordings_app.errors import explain
from recordings_app.models import AuditEvent, Credential, Profile
from recordings_app.signalwire import (
    SignalWireClient,
    SignalWireError,
    SpaceNotFound,
    is_uuid,
    normalize_space,
)


class SharingFields(forms.Form):
    """Who credentials are shared with: groups, and users by name. Only for a user with
    the `manage_shared_credentials` permission (CredentialForm keeps these fields for
    them alone; SharingForm changes them later)."""

    share_with = forms.ModelMultipleChoiceField(
        label="Share with",
        queryset=Group.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Everyone in these groups can use these credentials. Nobody they are "
        "shared with sees the token, changes or removes them.",
    )
    share_with_users = forms.CharField(
        label="Named users",
        required=False,
        max_length=2000,
        help_text="Usernames, separated by commas, to share with one by one.",
    )

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner

    def clean_share_with_users(self):
        names = {name.strip() for name in self.cleaned_data["share_with_users"].split(",")}
        names.discard("")
        users = list(get_user_model().objects.filter(username__in=names).order_by("username"))
        unknown = sorted(names - {user.get_username() for user in users})
        if unknown:
            raise forms.ValidationError(f"No user is called {', '.join(unknown)}.")
        return [user for user in users if user.pk != self.owner.pk]

    def share(self, credential: Credential) -> None:
        credential.shared_with_groups.set(self.cleaned_data["share_with"])
        credential.shared_with_users.set(self.cleaned_data["share_with_users"])


class SharingForm(SharingFields):
    """Changing who an existing credential is shared with (its owner, with the
    permission)."""

    def __init__(self, *args, credential: Credential, **kwargs):
        initial = {
            "share_with": list(credential.shared_with_groups.all()),
            "share_with_users": ", ".join(
                user.get_username() for user in credential.shared_with_users.order_by("username")
            ),
        }
        super().__init__(*args, owner=credential.user, initial=initial, **kwargs)


class CredentialForm(SharingFields):
    label = forms.CharField(label="Label", max_length=80, help_text="Your name for this set.")
    space = forms.CharField(
        label="Space",
        max_length=200,
        help_text="acme, acme.signalwire.com, or any URL of your space.",
    )
    project_id = forms.UUIDField(label="Project ID")
    api_token = forms.CharField(
        label="API token",
        max_length=200,
        strip=True,
        # Write-only: never sent back to the browser, not even after an error.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )

    field_order = ["label", "space", "project_id", "api_token"]  # then the sharing fields

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, owner=user, **kwargs)
        self.user = user
        self.may_share = user.has_perm("recordings_app.manage_shared_credentials")
        if not self.may_share:
            for name in SharingFields.base_fields:
                del self.fields[name]

    def clean_label(self):
        label = self.cleaned_data["label"].strip()
        if Credential.objects.filter(user=self.user, label=label).exists():
            raise forms.ValidationError("You already have credentials with this label.")
        return label

    def clean_space(self):
        try:
            return normalize_space(self.cleaned_data["space"])
        except ValueError:
            raise forms.ValidationError(
                "Enter the space name (acme), its host (acme.signalwire.com) or its URL."
            ) from None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        # Check the credentials against the API before storing them.
        client = SignalWireClient(data["space"], str(data["project_id"]), data["api_token"])
        try:
            client.list_recordings(page_size=1)
        except SpaceNotFound as error:
            self.add_error("space", explain(error).message)
        except SignalWireError as error:
            explanation = explain(error)
            raise forms.ValidationError(f"{explanation.title}. {explanation.message}") from None
        return data

    def save(self) -> Credential:
        data = self.cleaned_data
        credential = Credential(
            user=self.user, label=data["label"], space=data["space"], project_id=data["project_id"]
        )
        credential.set_token(data["api_token"])
        credential.save()
        if self.may_share:
            self.share(credential)
        return credential


@cache
def _timezone_choices() -> list[tuple[str, str]]:
    zones = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})
    return [("", "My browser's time zone"), *((zone, zone.replace("_", " ")) for zone in zones)]


@cache
def _region_choices() -> list[tuple[str, str]]:
    """Every region `phonenumbers` knows, as "GB (+44)", by code."""
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    return [
        (region, f"{region} (+{phonenumbers.country_code_for_region(region)})")
        for region in regions
    ]


class ProfileForm(forms.ModelForm):
    timezone = forms.ChoiceField(
        label="Time zone",
        required=False,
        help_text="Times on every page are shown in this zone, with UTC on hover.",
    )
    phone_region = forms.ChoiceField(
        label="Phone number region",
        required=False,
        help_text="Numbers of this region are shown without their country code, and numbers "
        "you type without one are read as this region's.",
    )

    class Meta:
        model = Profile
        fields = ["timezone", "phone_region"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = _timezone_choices()
        default = settings.PHONE_REGION
        self.fields["phone_region"].choices = [
            ("", f"The dashboard's ({default})"),
            *_region_choices(),
        ]


class ActivityFilter(forms.Form):
    """The Activity page's filters; `events()` is the audit trail they select."""

    user = forms.CharField(label="User", required=False, max_length=150)
    recording = forms.CharField(label="Recording ID", required=False, max_length=40)
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any")] + AuditEvent.Action.choices
    )
    since = forms.DateField(label="From", required=False, widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput({"type": "date"}))

    def clean_recording(self):
        value = self.cleaned_data["recording"].strip().lower()
        if value and not is_uuid(value):
            raise forms.ValidationError("A recording ID looks like 3f1c2a9e-8b7d-4e21-…")
        return value

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("“From” is after “To”.")
        return data

    def events(self):
        events = AuditEvent.objects.all()
        data = self.cleaned_data
        if data["user"]:
            events = events.filter(username=data["user"].strip())
        if data["recording"]:
            events = events.filter(recording_id=data["recording"])
        if data["action"]:
            events = events.filter(action=data["action"])
        zone = timezone.get_current_timezone()
        if data["since"]:
            events = events.filter(at__gte=datetime.combine(data["since"], time.min, zone))
        if data["until"]:
            events = events.filter(at__lte=datetime.combine(data["until"], time.max, zone))
        return events
