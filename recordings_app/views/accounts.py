"""What someone sees once django-axes has locked their log-in out (log-in and log-out
themselves are Django's own views), and password reset's guard."""

from functools import wraps

from django.conf import settings
from django.http import Http404
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


def only_with_mail(view):
    """Password reset's pages exist only where this instance can send mail: otherwise
    they answer 404, rather than tell someone a mail is on its way when none can be."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not settings.EMAIL_CONFIGURED:
            raise Http404("Password reset needs mail, and none is configured.")
        return view(request, *args, **kwargs)

    return guarded
