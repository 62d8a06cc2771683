import zoneinfo
from functools import cache

from django import forms

from recordings_app.errors import explain
from recordings_app.models import Credential, Profile
from recordings_app.signalwire import (
    SignalWireClient,
    SignalWireError,
    SpaceNotFound,
    normalize_space,
)


class CredentialForm(forms.Form):
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

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

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
        return credential


@cache
def _timezone_choices() -> list[tuple[str, str]]:
    zones = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})
    return [("", "My browser's time zone"), *((zone, zone.replace("_", " ")) for zone in zones)]


class ProfileForm(forms.ModelForm):
    timezone = forms.ChoiceField(
        label="Time zone",
        required=False,
        help_text="Times on every page are shown in this zone, with UTC on hover.",
    )

    class Meta:
        model = Profile
        fields = ["timezone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = _timezone_choices()
