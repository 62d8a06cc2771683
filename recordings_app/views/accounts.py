"""What someone sees once django-axes has locked their log-in out (log-in and log-out
themselves are Django's own views)."""

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
