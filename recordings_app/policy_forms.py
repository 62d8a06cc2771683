"""The form of a retention policy: "delete recordings older than N days", optionally only
those of one status family, track or source (the words the list's filters use)."""

from django import forms

from recordings_app.models import RetentionPolicy
from recordings_app.search import TRACKS
from recordings_app.signalwire import SOURCE_LABELS, STATUS_FAMILIES

MAX_DAYS = 36_500  # a hundred years: past it a policy means nothing


class RetentionPolicyForm(forms.Form):
    days = forms.IntegerField(
        label="Delete recordings older than (days)",
        min_value=RetentionPolicy.MIN_DAYS,
        max_value=MAX_DAYS,
        error_messages={
            "min_value": "At least 1 day: a policy never deletes a recording younger than a day."
        },
    )
    status_family = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any"), *STATUS_FAMILIES.items()]
    )
    track = forms.ChoiceField(
        label="Track", required=False, choices=[("", "Any"), *((t, t) for t in TRACKS)]
    )
    source = forms.ChoiceField(
        label="Source", required=False, choices=[("", "Any"), *SOURCE_LABELS.items()]
    )
    # Editing or resuming an existing policy (empty: a new one).
    policy = forms.IntegerField(required=False, widget=forms.HiddenInput)
    paused = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def proposal(self) -> dict:
        data = self.cleaned_data
        return {
            "policy": data.get("policy"),
            "days": data["days"],
            "status_family": data.get("status_family", ""),
            "track": data.get("track", ""),
            "source": data.get("source", ""),
            "paused": bool(data.get("paused")),
        }
