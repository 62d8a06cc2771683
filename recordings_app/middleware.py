import time
import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import resolve, reverse
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

from recordings_app.errors import Explanation, NoActiveCredential, Problem, explain
from recordings_app.fragments import wants_fragment
from recordings_app.models import Profile
from recordings_app.signalwire import SignalWireError


def user_preferences(get_response):
    """The user's profile, read once a request: show times in the zone they chose, else
    the one the browser reported (cookie `tz`, set by app.js); read and type phone
    numbers in their region (`request.phone_region`), else the dashboard's."""

    def middleware(request):
        chosen_zone, region = None, None
        if request.user.is_authenticated:
            chosen = Profile.objects.filter(user=request.user).values_list(
                "timezone", "phone_region"
            )
            chosen_zone, region = chosen.first() or (None, None)
        request.phone_region = region or settings.PHONE_REGION
        try:
            zone = zoneinfo.ZoneInfo(chosen_zone or request.COOKIES["tz"])
        except (KeyError, ValueError, zoneinfo.ZoneInfoNotFoundError):
            timezone.deactivate()
        else:
            timezone.activate(zone)
        return get_response(request)

    return middleware


class UpstreamErrorMiddleware:
    """Turns SignalWire failures and the dashboard's own refusals into a readable page
    with a fitting status. htmx requests get only the message, swapped in place."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, NoActiveCredential):
            messages.info(request, exception.message)
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(reverse(exception.page))
            return redirect(exception.page)
        if isinstance(exception, SignalWireError):
            explanation = explain(exception)
        elif isinstance(exception, Problem):
            explanation = exception.explanation
        else:
            return None
        template = (
            "errors/problem.html#message" if wants_fragment(request) else "errors/problem.html"
        )
        response = render(request, template, {"problem": explanation}, status=explanation.status)
        if explanation.retry_after:
            response["Retry-After"] = str(explanation.retry_after)
        return response


def refuse_oversized_query(get_response):
    """A query string longer than settings.MAX_QUERY_STRING is refused with a message
    (414) before any view parses it: no page here needs one that long. A method a page
    does not take (405) gets a message too, not Django's empty answer."""

    def middleware(request):
        if len(request.META.get("QUERY_STRING", "")) > settings.MAX_QUERY_STRING:
            problem = Explanation(
                414,
                "That address is too long",
                "The address has far more in it than any page here uses. Start again "
                "from the recordings list.",
            )
            return render(request, "errors/problem.html", {"problem": problem}, status=414)
        response = get_response(request)
        if response.status_code == 405 and not response.content:
            problem = Explanation(
                405,
                "This page cannot do that",
                f"This address does not take {request.method} requests; use the page's "
                "own links and buttons.",
            )
            refused = render(request, "errors/problem.html", {"problem": problem}, status=405)
            refused["Allow"] = response["Allow"]
            return refused
        return response

    return middleware


def keep_sessions_alive(get_response):
    """Sessions end after SESSION_COOKIE_AGE without a request. Saving the session on
    every request would move the expiry on, but costs a write to the session store on
    every page and every audio Range request; moving it on at most every thirtieth of
    the idle limit (a minute, for 30 minutes) costs one write a minute at most."""

    def middleware(request):
        response = get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = int(time.time())
            if now - session.get("_kept_alive", 0) >= settings.SESSION_COOKIE_AGE // 30:
                session["_kept_alive"] = now  # marks it modified: saved, cookie renewed
        return response

    return middleware


# Answered before the Host check and the HTTPS redirect (see answer_probes).
# /metrics (issue #14, metrics): a scraper also comes by address, over plain HTTP; the
# view checks its own token or address list (recordings_app/views/metrics.py).
PROBE_PATHS = frozenset({"/healthz", "/healthz/live", "/metrics"})


def answer_probes(get_response):
    """Health probes come over plain HTTP with whatever Host the prober has: an IP
    address from Kubernetes or a load balancer, never the public name. This answers
    them itself, ahead of SecurityMiddleware (the HTTPS redirect) and CommonMiddleware
    (where ALLOWED_HOSTS is enforced), by calling the view the URLconf names. Those
    checks stay on for every other path, unchanged: one exemption, by exact path, seen
    in one place. The probes build no URL from Host and say nothing about the instance,
    which is what the Host check protects."""

    def middleware(request):
        if request.path_info in PROBE_PATHS:
            match = resolve(request.path_info)
            return match.func(request, *match.args, **match.kwargs)
        return get_response(request)

    return middleware
