"""The Activity page: the audit trail for Supervisors, filtered, paged, and as CSV."""

import csv
from datetime import datetime, time

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from recordings_app.errors import Problem
from recordings_app.models import AuditEvent
from recordings_app.signalwire import is_uuid

PER_PAGE = 100
CSV_COLUMNS = (
    "at",
    "username",
    "action",
    "recording_id",
    "credential_label",
    "space",
    "detail",
    "remote_addr",
    "user_agent",
)


class ActivityFilter(forms.Form):
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


def _filtered(request: HttpRequest) -> ActivityFilter:
    form = ActivityFilter(request.GET)
    if not form.is_valid():
        errors = "; ".join(
            f"{form.fields[name].label if name in form.fields else 'Filter'}: {' '.join(errs)}"
            for name, errs in form.errors.items()
        )
        raise Problem(400, "Those filters do not work", errors)
    return form


@require_GET
@login_required
@permission_required("recordings_app.view_activity", raise_exception=True)
def activity(request: HttpRequest):
    form = _filtered(request)
    page_number = request.GET.get("page") or "1"
    paginator = Paginator(form.events(), PER_PAGE)
    if not page_number.isdigit() or not 1 <= int(page_number) <= paginator.num_pages:
        raise Problem(400, "No such page", f"Choose a page from 1 to {paginator.num_pages}.")
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "activity/list.html",
        {
            "form": form,
            "page": paginator.page(int(page_number)),
            "query": query.urlencode(),
        },
    )


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula (user agents are the client's
    own words)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@require_GET
@login_required
@permission_required("recordings_app.view_activity", raise_exception=True)
def activity_csv(request: HttpRequest):
    """Every matching event as CSV, streamed row by row in constant memory."""
    events = _filtered(request).events()
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(CSV_COLUMNS)
        for event in events.iterator(chunk_size=1000):
            values = [getattr(event, column) for column in CSV_COLUMNS]
            values[0] = event.at.isoformat()
            yield writer.writerow([_cell(value) for value in values])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="activity.csv"'
    return response
