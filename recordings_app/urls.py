"""Every URL's name is its view's name."""

from django.urls import path

from recordings_app.views import (
    activity,
    audio,
    bulk_download,
    costs,
    credentials,
    profile,
    recordings,
    sync,
)

urlpatterns = [
    path("recordings/", recordings.recordings_list, name="recordings_list"),
    path("recordings/go/", recordings.jump_to_recording, name="jump_to_recording"),
    path("recordings/export.csv", recordings.recordings_csv, name="recordings_csv"),
    path("recordings/download.zip", bulk_download.recordings_zip, name="recordings_zip"),
    path("recordings/<str:recording_id>/", recordings.recording_detail, name="recording_detail"),
    path(
        "recordings/<str:recording_id>/audio/",
        audio.recording_audio,
        name="recording_audio",
    ),
    path(
        "recordings/<str:recording_id>/played/",
        recordings.recording_played,
        name="recording_played",
    ),
    path(
        "recordings/<str:recording_id>/peaks/",
        recordings.recording_peaks,
        name="recording_peaks",
    ),
    path(
        "recordings/<str:recording_id>/delete/",
        recordings.recording_delete,
        name="recording_delete",
    ),
    path("index/status/", sync.index_status, name="index_status"),
    path("index/refresh/", sync.index_refresh, name="index_refresh"),
    path("costs/", costs.costs_report, name="costs_report"),
    path("costs/daily.csv", costs.costs_daily_csv, name="costs_daily_csv"),
    path("costs/recordings.csv", costs.costs_recordings_csv, name="costs_recordings_csv"),
    path("profile/", profile.profile, name="profile"),
    path("activity/", activity.activity, name="activity"),
    path("activity/export.csv", activity.activity_csv, name="activity_csv"),
    path("credentials/", credentials.credential_list, name="credential_list"),
    path("credentials/add/", credentials.credential_add, name="credential_add"),
    path(
        "credentials/<int:pk>/activate/",
        credentials.credential_activate,
        name="credential_activate",
    ),
    path(
        "credentials/<int:pk>/sharing/",
        credentials.credential_sharing,
        name="credential_sharing",
    ),
    path("credentials/<int:pk>/delete/", credentials.credential_delete, name="credential_delete"),
]
