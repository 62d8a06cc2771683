from django.contrib import admin
from django.contrib.auth import urls as auth_urls
from django.http import HttpResponseBadRequest, HttpResponseServerError
from django.template import loader
from django.urls import URLPattern, include, path
from django.views.decorators.csrf import requires_csrf_token
from django.views.generic import RedirectView

from recordings_app.views.accounts import only_with_mail
from recordings_app.views.health import healthz, healthz_live
from recordings_app.views.metrics import prometheus_metrics
from recordings_app.views.oidc import CompanyLoginCallback, LogIn, LogOut, StartCompanyLogin

# Password reset mails a link: where this instance cannot send mail (no EMAIL_URL or
# EMAIL_HOST), its pages answer 404 rather than say a mail was sent.
PASSWORD_RESET_ROUTES = {
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}
# Log-in and log-out know the company log-in (OpenID Connect) and LOCAL_LOGIN.
OWN_ACCOUNT_VIEWS = {"login": LogIn.as_view(), "logout": LogOut.as_view()}
account_urls = [
    path(str(route.pattern), only_with_mail(route.callback), name=route.name)
    if isinstance(route, URLPattern) and route.name in PASSWORD_RESET_ROUTES
    else path(str(route.pattern), OWN_ACCOUNT_VIEWS[route.name], name=route.name)
    if isinstance(route, URLPattern) and route.name in OWN_ACCOUNT_VIEWS
    else route
    for route in auth_urls.urlpatterns
]
# The company log-in. The routes are always there; without OIDC_ISSUER they answer 404.
# Register {this site}/oidc/callback/ as the redirect URI at the provider.
oidc_urls = [
    path("authenticate/", StartCompanyLogin.as_view(), name="oidc_authentication_init"),
    path("callback/", CompanyLoginCallback.as_view(), name="oidc_authentication_callback"),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="recordings_list"), name="home"),
    path("accounts/", include(account_urls)),
    path("oidc/", include(oidc_urls)),
    path("admin/", admin.site.urls),
    # Probes: answered before the Host and HTTPS checks (recordings_app.middleware.probes).
    path("healthz", healthz, name="healthz"),
    path("healthz/live", healthz_live, name="healthz_live"),
    # For Prometheus; off unless METRICS_TOKEN or METRICS_ALLOWED_ADDRESSES is set. Also
    # answered before the Host and HTTPS checks.
    path("metrics", prometheus_metrics, name="metrics"),
    path("", include("recordings_app.urls")),
]


# Django renders 400.html and 500.html without the request; these pass it along, for
# the reference (the request id) a user can quote. Nothing else: the 500 page must not
# depend on the database or the session, which may be what failed.
@requires_csrf_token
def bad_request(request, exception):
    page = loader.get_template("400.html").render({"request": request})
    return HttpResponseBadRequest(page)


@requires_csrf_token
def server_error(request):
    page = loader.get_template("500.html").render({"request": request})
    return HttpResponseServerError(page)


handler400 = bad_request
handler500 = server_error
