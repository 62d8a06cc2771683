"""Log-in throttling: django-axes' lockout check for log-ins from the web."""

from axes.backends import AxesStandaloneBackend


class LoginThrottle(AxesStandaloneBackend):
    """django-axes' lockout check, for every log-in that comes through a web request.

    Code that calls authenticate() without a request (Django's test `Client.login`, a
    script) is not an attempt from outside: it passes to ModelBackend unchecked instead
    of failing, as django-axes' own backend would."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
