"""What someone sees once django-axes has locked their log-in out."""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.shortcuts import render


def locked_out(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: a readable page, 429 with Retry-After, and no hint of whether
    the username exists."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    response = render(
        request,
        "registration/locked_out.html",
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": seconds // 60},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


class LoginThrottle(AxesStandaloneBackend):
    """django-axes' lockout check, for every log-in that comes through a web request.

    Code that calls authenticate() without a request (Django's test `Client.login`, a
    script) is not an attempt from outside: it passes to ModelBackend unchecked instead
    of failing, as django-axes' own backend would."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
