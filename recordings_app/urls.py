"""Every URL's name is its view's name."""

from django.urls import path

from recordings_app.views import (
    activity,
    audio,
    bulk_download,
    costs,
    credentials,
    deletions,
    notes,
    profile,
    recordings,
    retention,
    shares,
    sync,
)

urlpatterns = [
    path("recordings/", recordings.recordings_list, name="recordings_list"),
    path("recordings/go/", recordings.jump_to_recording, name="jump_to_recording"),
    path("recordings/delete-matching/", deletions.bulk_delete, name="bulk_delete"),
    path("deletions/<int:pk>/", deletions.deletion_job, name="deletion_job"),
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
        "recordings/<str:recording_id>/talk-time/",
        recordings.recording_talk_time,
        name="recording_talk_time",
    ),
    path(
        "recordings/<str:recording_id>/delete/",
        recordings.recording_delete,
        name="recording_delete",
    ),
    path("recordings/<str:recording_id>/notes/", notes.note_add, name="note_add"),
    path("recordings/<str:recording_id>/notes/<int:pk>/", notes.note_edit, name="note_edit"),
    path("recordings/<str:recording_id>/tags/", notes.tag_add, name="tag_add"),
    path(
        "recordings/<str:recording_id>/tags/<str:name>/remove/",
        notes.tag_remove,
        name="tag_remove",
    ),
    path("recordings/<str:recording_id>/share/", shares.share_create, name="share_create"),
    path("shares/", shares.share_list, name="share_list"),
    path("shares/<int:pk>/revoke/", shares.share_revoke, name="share_revoke"),
    # The token is in the query string (?token=), never the path: see views/shares.py.
    path("shared/", shares.shared_recording, name="shared_recording"),
    path("shared/audio/", shares.shared_audio, name="shared_audio"),
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
    path(
        "credentials/<int:pk>/retention/", retention.retention_policies, name="retention_policies"
    ),
    path(
        "credentials/<int:pk>/retention/propose/",
        retention.retention_propose,
        name="retention_propose",
    ),
    path(
        "credentials/<int:pk>/retention/confirm/",
        retention.retention_confirm,
        name="retention_confirm",
    ),
    path(
        "credentials/<int:pk>/retention/<int:policy_pk>/",
        retention.retention_edit,
        name="retention_edit",
    ),
    path(
        "credentials/<int:pk>/retention/<int:policy_pk>/dry-run/",
        retention.retention_dry_run,
        name="retention_dry_run",
    ),
    path(
        "credentials/<int:pk>/retention/<int:policy_pk>/pause/",
        retention.retention_pause,
        name="retention_pause",
    ),
    path(
        "credentials/<int:pk>/retention/<int:policy_pk>/remove/",
        retention.retention_remove,
        name="retention_remove",
    ),
]
