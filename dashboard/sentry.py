"""Error reports to Sentry, on when SENTRY_DSN (or SENTRY_DSN_FILE) is set
(dashboard/settings.py). Nothing that opens anything goes with them.

sentry-sdk already leaves out what it calls personal data (its default, what was
`send_default_pii=False`: cookies, the user's address, request bodies) and masks some
keys by name. That is not trusted alone: every event and every breadcrumb goes through
`scrubbed` first, which walks all of it (the request, the frames' local variables, the
exception messages, the log lines and cache calls) and masks

- any value under a key that names a secret: cookies, Authorization, the session, the
  CSRF token, token, api_token, password, secret, key...;
- any SignalWire API token wherever it appears in a string (an exception message, a
  log line, a URL, a repr), however it is named;
- a session key inside a cache key (Redis breadcrumbs name the session's cache key);
- what looks like Basic credentials (the token's way to SignalWire) in a string, and
  the value of any name=value pair in a string whose name says secret.
"""

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any, TypeVar

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration

MASK = "[Filtered]"
# An event, a transaction or a breadcrumb: scrubbed gives back what it is given.
_Event = TypeVar("_Event", bound=Mapping[str, Any])
# Keys whose values are never sent, compared lower-case with "-" as "_": the request's
# headers and cookies, form fields, local variables, log record fields.
SECRET_KEY_PARTS = (
    "token",
    "password",
    "passwd",
    "secret",
    "authorization",
    "cookie",
    "session",
    "csrf",
    "api_key",
    "apikey",
    "credentials_key",
    "private_key",
    "dsn",
)
# SignalWire API tokens: "PT" then 40 or more letters and digits (project tokens are
# "PT" and 48 hex digits; the demo space's are of the same shape).
SIGNALWIRE_TOKEN = re.compile(r"\bPT[A-Za-z0-9]{40,}\b")
# HTTP Basic credentials as they appear in a header or a repr.
BASIC_CREDENTIALS = re.compile(r"(?i)\bbasic\s+[A-Za-z0-9+/=]{8,}")
# Django's session cache keys end with the session key itself.
SESSION_CACHE_KEY = re.compile(r"(django\.contrib\.sessions\.cache(?:d_db)?)[A-Za-z0-9]+")
# Base64 long enough to hold a token (Basic credentials without the word "Basic").
BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")
# name=value pairs inside a string (a query string, a Cookie header, a form body) whose
# name says secret; also URL-encoded inside another value (a share link's token in the
# log-in page's ?next=%2Fshared%2F%3Ftoken%3D...).
SECRET_PAIR = re.compile(
    r"(?i)\b([\w.-]*(?:token|password|secret|session|csrf|authorization)[\w.-]*"
    r"\s*(?:[=:]|%3D)\s*)"
    r"[^&;,\s]+"
)


def start_sentry(dsn: str, environment: str | None = None) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration()],
        # No send_default_pii (deprecated in sentry-sdk 2.5x, a warning) nor its
        # successor data_collection: unset, the SDK collects what send_default_pii=False
        # did (no cookies, no user, no bodies); a data_collection dict collects more.
        max_request_body_size="never",  # form posts carry API tokens and passwords
        before_send=scrubbed,
        before_send_transaction=scrubbed,
        before_breadcrumb=scrubbed,
        traces_sample_rate=0,  # errors only
    )


def scrubbed(event: _Event, hint: object = None) -> _Event:
    """The event (or breadcrumb) with every secret masked; changed in place too."""
    return _scrub(event)


def is_secret_key(key) -> bool:
    name = str(key).lower().replace("-", "_")
    return any(part in name for part in SECRET_KEY_PARTS)


def _scrub(value):
    if isinstance(value, dict):
        for key in list(value):
            if is_secret_key(key) and value[key] not in (None, "", [], {}):
                value[key] = MASK
            else:
                value[key] = _scrub(value[key])
        return value
    if isinstance(value, list):
        # Headers and query strings also come as [name, value] pairs.
        if len(value) == 2 and isinstance(value[0], str) and is_secret_key(value[0]):
            return [value[0], MASK]
        return [_scrub(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_scrub(list(value)))
    if isinstance(value, str):
        value = SIGNALWIRE_TOKEN.sub(MASK, value)
        value = BASIC_CREDENTIALS.sub(MASK, value)
        value = SESSION_CACHE_KEY.sub(rf"\g<1>{MASK}", value)
        value = BASE64_RUN.sub(_masked_if_it_holds_a_token, value)
        return SECRET_PAIR.sub(rf"\g<1>{MASK}", value)
    return value


def _masked_if_it_holds_a_token(match: re.Match) -> str:
    run = match.group(0)
    try:
        decoded = base64.b64decode(run + "=" * (-len(run) % 4), validate=True)
    except (binascii.Error, ValueError):
        return run
    return MASK if SIGNALWIRE_TOKEN.search(decoded.decode("latin-1")) else run
