from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from recordings_app.views.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="recordings_list"), name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("recordings_app.urls")),
]
