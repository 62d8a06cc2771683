"""The log-in and log-out pages, and the company log-in (OpenID Connect): its start and the
provider's way back. Django's and mozilla-django-oidc's views, with what
recordings_app.oidc adds: discovery, the checks, and a readable sentence for a refusal.

LOCAL_LOGIN=0 switches password log-in off: the log-in page then shows only the company
button and refuses a posted password (settings also drops Django's password backend, so
the admin's log-in form refuses it too).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import LoginView, LogoutView
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.debug import sensitive_post_parameters
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from recordings_app import oidc

SESSION_NEXT = "oidc_login_next"  # mozilla-django-oidc's name for it


def login_page_url(next_url: str | None) -> str:
    url = reverse("login")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def safe_next(request, next_url: str | None) -> str | None:
    """`next` if it points into this site (as Django's LoginView checks it), else None."""
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return None


class LogIn(LoginView):
    """Django's log-in page, with the company button when OIDC_ISSUER is set."""

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            local_login=settings.LOCAL_LOGIN,
            company_login=oidc.is_enabled(),
            provider_name=oidc.provider_name(),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if not settings.LOCAL_LOGIN:
            messages.error(
                request,
                f"Logging in with a password is switched off here: use {oidc.provider_name()}.",
            )
            return self.render_to_response(self.get_context_data(), status=403)
        return super().post(request, *args, **kwargs)


class LogOut(LogoutView):
    """Django's log-out; after a company log-in, on to the provider's log-out as well
    when OIDC_LOGOUT_AT_PROVIDER is on (it comes back to the log-in page)."""

    def post(self, request, *args, **kwargs):
        back = request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL))
        at_provider = oidc.provider_logout_url(request, back)  # before the session ends
        response = super().post(request, *args, **kwargs)
        return HttpResponseRedirect(at_provider) if at_provider else response


# The log-in form posts here with whatever is in its password field: keep it out of error reports.
@method_decorator(sensitive_post_parameters(), name="dispatch")
class StartCompanyLogin(OIDCAuthenticationRequestView):
    """Sends the browser to the provider. The log-in page posts here (with its `next`,
    fragment and all: the browser does not send a #t=95 in a URL, so app.js adds it to
    the form); a plain GET with ?next= works too."""

    http_method_names = ["get", "post"]

    def __init__(self, *args, **kwargs):
        # The endpoint comes from discovery, per request (recordings_app.oidc.endpoints).
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    def get(self, request):
        return self.start(request, request.GET.get("next"))

    def post(self, request):
        return self.start(request, request.POST.get("next"))

    def start(self, request, next_url: str | None):
        if not oidc.is_enabled():
            raise Http404("Company log-in is not configured.")
        next_url = safe_next(request, next_url)
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc.endpoints().authorization
        except oidc.LoginRefused as refusal:
            messages.error(request, str(refusal))
            return HttpResponseRedirect(login_page_url(next_url))
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        response = super().get(request)
        request.session[SESSION_NEXT] = next_url
        return response


class CompanyLoginCallback(OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back. A refusal goes back to the log-in page
    with its sentence; the person's `next` is kept for another try."""

    def get(self, request):
        if not oidc.is_enabled():
            raise Http404("Company log-in is not configured.")
        self.refusal = None
        if request.GET.get("error"):
            self.refusal = f"{oidc.provider_name()} did not log you in. Please try again."
        try:
            return super().get(request)
        except oidc.LoginRefused as refusal:
            self.refusal = str(refusal)
            return self.login_failure()

    def login_failure(self):
        messages.error(
            self.request,
            self.refusal
            or f"The log-in with {oidc.provider_name()} did not complete. Please try again.",
        )
        return HttpResponseRedirect(login_page_url(self.request.session.get(SESSION_NEXT)))
