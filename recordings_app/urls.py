from django.urls import path

from recordings_app import activity, costs, index_views, views

urlpatterns = [
    path("recordings/", views.recordings_list, name="recordings_list"),
    path("recordings/go/", views.jump_to_recording, name="jump_to_recording"),
    path("recordings/export.csv", index_views.recordings_csv, name="recordings_csv"),
    path("index/status/", index_views.index_status, name="index_status"),
    path("index/refresh/", index_views.index_refresh, name="index_refresh"),
    path("costs/", costs.costs_report, name="costs"),
    path("costs/daily.csv", costs.daily_csv, name="costs_daily_csv"),
    path("costs/recordings.csv", costs.recordings_csv, name="costs_recordings_csv"),
    path("recordings/<str:recording_id>/", views.recording_detail, name="recording_detail"),
    path(
        "recordings/<str:recording_id>/audio/",
        views.stream_recording_audio,
        name="recording_audio",
    ),
    path(
        "recordings/<str:recording_id>/peaks/",
        views.recording_peaks,
        name="recording_peaks",
    ),
    path("recordings/<str:recording_id>/delete/", views.delete_recording, name="recording_delete"),
    path("profile/", views.profile, name="profile"),
    path("activity/", activity.activity, name="activity"),
    path("activity/export.csv", activity.activity_csv, name="activity_csv"),
    path("credentials/", views.credential_list, name="credential_list"),
    path("credentials/add/", views.credential_add, name="credential_add"),
    path("credentials/<int:pk>/activate/", views.credential_activate, name="credential_activate"),
    path("credentials/<int:pk>/delete/", views.credential_delete, name="credential_delete"),
]
