"""One settings module, driven by the environment.

With nothing set it runs locally on SQLite with DEBUG on. `DEBUG=0` switches on the
production hardening; there is no second settings file to keep in sync.
"""

import base64
import hashlib
import ipaddress
import os
import secrets
import tempfile
from datetime import timedelta
from email.utils import getaddresses
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from csp.constants import NONCE, Nonce
from django.core.exceptions import ImproperlyConfigured

from dashboard.json_logging import json_logging

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str) -> bool:
    value = os.environ.get(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0/true/false), not {value!r}")


def envfloat(name: str, default: str) -> float:
    value = os.environ.get(name, default)
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None
    if number <= 0:
        raise ImproperlyConfigured(f"{name} must be positive, not {value!r}")
    return number


def envint(name: str, default: str) -> int:
    value = os.environ.get(name, default)
    if not value.strip().isdigit():
        raise ImproperlyConfigured(f"{name} must be a whole number >= 0, not {value!r}")
    return int(value)


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def envsecret(name: str) -> str:
    """The secret in the variable `name`, or else in the file `name`_FILE names (Docker
    and systemd secrets), without its trailing newline. Both set is refused rather than
    one silently ignored: after a rotation the stale one could be the one in use."""
    value = os.environ.get(name, "")
    path = os.environ.get(f"{name}_FILE", "")
    if value and path:
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both")
    if not path:
        return value
    try:
        return Path(path).read_text().rstrip("\r\n")
    except OSError as error:
        raise ImproperlyConfigured(f"{name}_FILE: cannot read {path}: {error.strerror}") from None


def secretlist(name: str) -> list[str]:
    """A list secret (comma-separated; in a file, one a line will do too)."""
    return [item.strip() for item in envsecret(name).replace("\n", ",").split(",") if item.strip()]


DEBUG = envbool("DEBUG", "1")

# Files this instance keeps for itself: the keys it makes when SECRET_KEY or
# CREDENTIALS_KEYS is unset (development only). Keep it out of backups of the database.
DATA_DIR = Path(os.environ.get("DATA_DIR", "") or BASE_DIR / "data")


def kept_secret(name: str, make) -> str:
    """The secret in DATA_DIR/name; the first start makes it with `make()` and writes it
    there, readable by this user only. Written to a temporary file and linked into
    place, so processes starting together all end up with the one that got there first."""
    path = DATA_DIR / name
    if not path.exists():
        DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=DATA_DIR, prefix=f".{name}.")  # 0600
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(make() + "\n")
                file.flush()
                os.fsync(file.fileno())
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            os.unlink(temporary)
    return path.read_text().strip()


# Before keys were kept in DATA_DIR, development derived one from this public constant.
_OLD_DEVELOPMENT_SECRET_KEY = "django-insecure-local-development-key-do-not-deploy"  # noqa: S105

SECRET_KEY = _GIVEN_SECRET_KEY = envsecret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG=0")
    SECRET_KEY = kept_secret("secret_key", lambda: secrets.token_urlsafe(50))

# Keys SECRET_KEY had before: what they signed (sessions, password reset links) stays
# valid, so rotating SECRET_KEY logs nobody out. Drop them once sessions have expired.
SECRET_KEY_FALLBACKS = secretlist("SECRET_KEY_FALLBACKS")

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
# Origins (scheme and host) a form may be posted from when it is not this host itself,
# e.g. "https://dashboard.example.com" behind a proxy that rewrites Host.
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "csp",
    "axes",
    "recordings_app",
]

MIDDLEWARE = [
    # Outermost: every streamed answer (audio, CSV, static) is sent from the event loop
    # under ASGI, not read whole into memory first.
    "recordings_app.streaming.stream_from_the_loop",
    "recordings_app.request_log.log_requests",
    # Health probes are answered here, before the HTTPS redirect and the Host check.
    "recordings_app.middleware.answer_probes",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "recordings_app.middleware.keep_sessions_alive",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "recordings_app.middleware.user_preferences",
    "recordings_app.middleware.UpstreamErrorMiddleware",
    "csp.middleware.CSPMiddleware",
    # Inside the CSP middleware: the pages it renders get the policy (and its nonce) too.
    "recordings_app.middleware.refuse_oversized_query",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        envsecret("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # No persistent connections: served over ASGI (gunicorn.conf.py) each request runs
        # in a thread of its own, so a connection kept for "the thread" would serve
        # nobody. PostgreSQL connections come from a pool instead (below); SQLite's cost
        # microseconds to open.
        conn_max_age=0,
        conn_health_checks=True,
    )
}
# A database that does not answer must not hold a page (or /healthz) for good: give up
# connecting after DATABASE_CONNECT_TIMEOUT seconds, and have PostgreSQL cancel any
# statement after DATABASE_STATEMENT_TIMEOUT_MS (0: no limit, e.g. for a long migration).
DATABASE_CONNECT_TIMEOUT = envint("DATABASE_CONNECT_TIMEOUT", "5")
DATABASE_STATEMENT_TIMEOUT_MS = envint("DATABASE_STATEMENT_TIMEOUT_MS", "30000")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
    _options["options"] = " ".join(
        filter(
            None, [_options.get("options"), f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}"]
        )
    )
    # psycopg's pool, per server process: up to DATABASE_POOL_SIZE connections (README,
    # "Deploying", has the arithmetic against PostgreSQL's max_connections). Under ASGI
    # a worker takes every request it is sent, each in a thread of its own, so in a
    # burst more requests than connections may want one: they queue for up to
    # DATABASE_POOL_TIMEOUT seconds (a page waits, as it would for a thread), instead of
    # failing after the connect timeout (the cluster load test met that at 5 s).
    DATABASE_POOL_SIZE = envint("DATABASE_POOL_SIZE", "10")
    DATABASE_POOL_TIMEOUT = envint("DATABASE_POOL_TIMEOUT", "30")
    if DATABASE_POOL_SIZE:
        _options["pool"] = {
            "min_size": 1,
            "max_size": DATABASE_POOL_SIZE,
            "timeout": DATABASE_POOL_TIMEOUT,
        }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The worker writes the index while app servers read it: WAL lets readers go on
    # during a write, and IMMEDIATE transactions wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        init_command="PRAGMA journal_mode=WAL;", transaction_mode="IMMEDIATE", timeout=20
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis is the shared cache (upstream answers, sessions) when several app servers run
# behind a load balancer; without it each process keeps its own in memory.
REDIS_URL = os.environ.get("REDIS_URL", "")
REDIS_TIMEOUT = envfloat("REDIS_TIMEOUT", "1")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis backend, answering misses while Redis is down.
            "BACKEND": "recordings_app.redis_cache.ForgivingRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "dashboard"),
            # Every call gives up after REDIS_TIMEOUT seconds, without retrying; after a
            # failure the backend leaves Redis alone for a few seconds (redis_cache.py).
            "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
        }
    }
    # Sessions are kept in the database and read through the cache: a Redis outage
    # costs a database read, not everybody's log-in.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background work (the index sync) goes through Django's Tasks API into the database;
# `manage.py worker` runs it. No threads in the web process.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# `manage.py worker` (db_worker plus a scheduler) asks for a sync of every credential
# whose index is older than this, in minutes (a fraction is fine), and for a full one
# once a day.
SYNC_EVERY_MINUTES = envfloat("SYNC_EVERY_MINUTES", "10")

# Retention (recordings_app/retention.py), run once a day by the worker's scheduler and by
# `manage.py prune`; days, 0 keeps for ever. The audit table's trigger never lets a row
# younger than four weeks go, so the audit trail is kept at least 30 days; log-in
# attempts at least as long as a lockout lasts.
AUDIT_RETENTION_DAYS = envint("AUDIT_RETENTION_DAYS", "365")
LOGIN_ATTEMPT_RETENTION_DAYS = envint("LOGIN_ATTEMPT_RETENTION_DAYS", "30")
TASK_RESULT_RETENTION_DAYS = envint("TASK_RESULT_RETENTION_DAYS", "7")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes checks the lockout before any password; ModelBackend then checks the password.
AUTHENTICATION_BACKENDS = [
    "recordings_app.lockout.LoginThrottle",
    "django.contrib.auth.backends.ModelBackend",
]
# Five wrong passwords for one username from one address lock that pair out for 15
# minutes; a right password resets the count. Attempts live in the database, so each
# test starts with none.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", "5")
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", "15"))
if 0 < AUDIT_RETENTION_DAYS < 30:
    raise ImproperlyConfigured(
        f"AUDIT_RETENTION_DAYS must be 0 (keep for ever) or at least 30, not {AUDIT_RETENTION_DAYS}"
    )
if LOGIN_ATTEMPT_RETENTION_DAYS > 0 and timedelta(days=LOGIN_ATTEMPT_RETENTION_DAYS) < (
    AXES_COOLOFF_TIME
):
    raise ImproperlyConfigured(
        "LOGIN_ATTEMPT_RETENTION_DAYS must be 0 (keep for ever) or at least as long as "
        "LOGIN_LOCKOUT_MINUTES, or pruning would lift lockouts early"
    )
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "recordings_app.views.accounts.locked_out"
# How many reverse proxies (load balancers) stand in front and append to
# X-Forwarded-For. 0: the client is REMOTE_ADDR. Behind one load balancer, set 1, or
# every user shares the balancer's address for throttling and the audit trail.
TRUSTED_PROXIES = envint("TRUSTED_PROXIES", "0")
AXES_CLIENT_IP_CALLABLE = "recordings_app.access.client_address"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "recordings_list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Fernet keys for the API tokens stored at rest, newest first (comma-separated). Old
# keys keep decrypting; the first one encrypts (a system check refuses malformed ones).
# Without it (development), a random key made once and kept in DATA_DIR, so a copy of
# the database alone decrypts nothing; the key development used to derive from
# SECRET_KEY still decrypts tokens stored with it (rotate_credentials_key moves them).
CREDENTIALS_KEYS = secretlist("CREDENTIALS_KEYS")
if not CREDENTIALS_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured("CREDENTIALS_KEYS must be set when DEBUG=0")
    _old_secret = _GIVEN_SECRET_KEY or _OLD_DEVELOPMENT_SECRET_KEY
    _old_digest = hashlib.sha256(b"credentials-key:" + _old_secret.encode()).digest()
    CREDENTIALS_KEYS = [
        kept_secret("credentials_key", lambda: base64.urlsafe_b64encode(os.urandom(32)).decode()),
        base64.urlsafe_b64encode(_old_digest).decode(),
    ]

# When set, every API and media call for every space goes to this base URL instead of
# https://{space}.signalwire.com: the demo space, the tests, a mock or a staging server.
SIGNALWIRE_BASE_URL = os.environ.get("SIGNALWIRE_BASE_URL", "").rstrip("/")
# Where requests for https://files.signalwire.com (recording media) go instead; empty
# means SIGNALWIRE_BASE_URL. The demo space serves its files host on a second port.
SIGNALWIRE_FILES_URL = os.environ.get("SIGNALWIRE_FILES_URL", "").rstrip("/")
# Off (the default): every host but those of the two URLs above must resolve to public
# addresses, so a space name or a media URL cannot make the server call into the private
# network. On only where SignalWire really is on a private network (a lab, a mock).
SIGNALWIRE_ALLOW_PRIVATE_ADDRESSES = envbool("SIGNALWIRE_ALLOW_PRIVATE_ADDRESSES", "0")
SIGNALWIRE_CONNECT_TIMEOUT = envfloat("SIGNALWIRE_CONNECT_TIMEOUT", "3.05")
SIGNALWIRE_READ_TIMEOUT = envfloat("SIGNALWIRE_READ_TIMEOUT", "10")
# Retries of GETs (429 and 5xx) stop once this many seconds have gone by in total.
SIGNALWIRE_RETRY_BUDGET = envfloat("SIGNALWIRE_RETRY_BUDGET", "6")
# How long list pages and recording details are reused per credential; 0 turns it off.
SIGNALWIRE_CACHE_SECONDS = envint("SIGNALWIRE_CACHE_SECONDS", "30")

# Phone numbers of this region are shown in national form ((415) 555-0100) and typed
# ones without a country code are read as its; a user can choose their own on Profile.
PHONE_REGION = os.environ.get("PHONE_REGION", "US").strip().upper()
if not (len(PHONE_REGION) == 2 and PHONE_REGION.isascii() and PHONE_REGION.isalpha()):
    raise ImproperlyConfigured(f"PHONE_REGION must be a two-letter region, not {PHONE_REGION!r}")

# Share links (recordings_app/sharing.py): off, a link plays only for someone logged in
# to the dashboard; on, for anyone who holds it.
SHARE_LINKS_PUBLIC = envbool("SHARE_LINKS_PUBLIC", "0")

# Upstream deadlines. The read timeout counts per socket read, so an answer that trickles
# a byte at a time never trips it: every API call also ends within this many seconds,
# retries included (connecting, the headers and the whole JSON body). A media stream's
# deadline ends at its headers; the audio then plays as long as it takes, and stops only
# when no byte comes for SIGNALWIRE_READ_TIMEOUT.
SIGNALWIRE_TOTAL_TIMEOUT = envfloat("SIGNALWIRE_TOTAL_TIMEOUT", "20")
# Drawing a waveform stops reading the media after this many seconds: the answer is then
# "no waveform" with the reason, and it is not cached.
PEAKS_TIMEOUT = envfloat("PEAKS_TIMEOUT", "30")

# /metrics (recordings_app/views/metrics.py), for Prometheus: off unless one of these is
# set. METRICS_TOKEN: a scrape must send `Authorization: Bearer <it>`. METRICS_ALLOWED_
# ADDRESSES: comma-separated addresses or networks (CIDR) a scrape must come from, the
# client address taken as for log-in throttling (TRUSTED_PROXIES). Both set: both needed.
METRICS_TOKEN = envsecret("METRICS_TOKEN")
METRICS_ALLOWED_ADDRESSES = envlist("METRICS_ALLOWED_ADDRESSES", "")
for _network in METRICS_ALLOWED_ADDRESSES:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_ADDRESSES: {_network!r} is not an address or a network"
        ) from None

# Errors (and their log lines as breadcrumbs) to Sentry when SENTRY_DSN is set, scrubbed
# of tokens, cookies, sessions and passwords before they leave (dashboard/sentry.py).
SENTRY_DSN = envsecret("SENTRY_DSN")
if SENTRY_DSN:
    from dashboard.sentry import start_sentry

    start_sentry(SENTRY_DSN, environment=os.environ.get("SENTRY_ENVIRONMENT", "") or None)

# Error reports (the DEBUG page, mails to ADMINS) never show an API token.
DEFAULT_EXCEPTION_REPORTER_FILTER = "recordings_app.crypto.SecretsHidingFilter"

# Every logger (Django's, the worker's, ours; gunicorn's through gunicorn.conf.py) writes
# the same JSON lines on stderr, each with the id of the request it belongs to, if any.
LOGGING = json_logging(
    {
        # Django's own loggers: to the root's JSON handler (instead of Django's plain
        # console handler), and errors mailed to ADMINS as well.
        "django": {"handlers": ["mail_admins"], "level": "INFO", "propagate": True},
        # Our JSON line replaces runserver's and Django's per-request lines.
        "django.server": {"level": "WARNING"},
        # urllib3 logs full URLs at DEBUG; the token never goes in a URL, but keep it quiet.
        "urllib3": {"level": "WARNING"},
        # django-axes logs every log-in at INFO; lockouts are WARNING and still show.
        "axes": {"level": "WARNING"},
    }
)
LOGGING["handlers"]["mail_admins"] = {
    # Errors (with DEBUG off) go to ADMINS as well, when mail and ADMINS are set.
    "level": "ERROR",
    "filters": ["require_debug_false"],
    "class": "django.utils.log.AdminEmailHandler",
}
LOGGING["filters"] = {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}}

# Who gets error mails: "Ann <ann@example.com>,bob@example.com".
ADMINS = [
    (name or address, address)
    for name, address in getaddresses(envlist("ADMINS", ""))
    if "@" in address
]
SERVER_EMAIL = DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", "recordings-dashboard@localhost"
)
# Mail: EMAIL_URL (smtp://user:password@host:587/?tls=1, smtps://... for TLS from the
# start), or the usual EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD,
# EMAIL_USE_TLS. Without either, nothing is mailed and password reset is switched off.
_email_url = urlsplit(envsecret("EMAIL_URL"))
if _email_url.scheme and _email_url.scheme not in ("smtp", "smtps"):
    raise ImproperlyConfigured(f"EMAIL_URL must be smtp:// or smtps://, not {_email_url.scheme}:")
_email_query = {key: values[-1] for key, values in parse_qs(_email_url.query).items()}
EMAIL_HOST = _email_url.hostname or os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = _email_url.port or envint(
    "EMAIL_PORT", "465" if _email_url.scheme == "smtps" else "587"
)
EMAIL_HOST_USER = unquote(_email_url.username or "") or os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = unquote(_email_url.password or "") or envsecret("EMAIL_HOST_PASSWORD")
EMAIL_USE_SSL = _email_url.scheme == "smtps"
EMAIL_USE_TLS = not EMAIL_USE_SSL and (
    _email_query.get("tls", "") in ("1", "true", "yes", "on")
    if _email_url.scheme
    else envbool("EMAIL_USE_TLS", "1")
)
EMAIL_TIMEOUT = 10
# Whether this instance can send mail at all: password reset exists only then.
EMAIL_CONFIGURED = bool(EMAIL_HOST)
if not EMAIL_CONFIGURED:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"

# A session ends after this many minutes without a request (keep_sessions_alive moves
# the expiry on as requests come, without a write on every one), and closing the
# browser has no effect: the cookie has a max-age, so the idle limit is what counts.
SESSION_COOKIE_AGE = 60 * envint("SESSION_IDLE_MINUTES", "30")
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads nothing from it: the token is in hx-headers
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Longest query string we read (bytes); past it the answer is a 414 with a message.
MAX_QUERY_STRING = 2048

# Content-Security-Policy (django-csp): scripts and styles only from our own origin, no
# inline script or style (htmx's own indicator <style> is off in _base.html; the
# waveform's <style> carries the per-response nonce), audio only through our own URL, no
# framing, forms post only to us.
CONTENT_SECURITY_POLICY: dict[str, dict[str, list[str | Nonce]]] = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # The nonce is for the one <style> the waveform library (wavesurfer) adds.
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "media-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Company log-in (OpenID Connect, recordings_app/oidc.py), on when OIDC_ISSUER is set: the
# provider's issuer URL, whose /.well-known/openid-configuration names its endpoints.
# Register the dashboard there as a confidential client with the redirect URI
# https://<this site>/oidc/callback/. The first log-in creates the user, named by
# OIDC_USERNAME_CLAIM; OIDC_GROUPS_CLAIM (e.g. "groups") sets the user's groups to the
# dashboard groups it names at every log-in. LOCAL_LOGIN=0 switches password log-in off.
OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").strip().rstrip("/")
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = envsecret("OIDC_CLIENT_SECRET")
# The button says "Log in with <this>".
OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME", "") or "your company account"
OIDC_RP_SCOPES = os.environ.get("OIDC_SCOPES", "") or "openid email profile"
OIDC_USERNAME_CLAIM = os.environ.get("OIDC_USERNAME_CLAIM", "") or "preferred_username"
OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM", "")
# Log-out also ends the session at the provider (its end_session_endpoint), when it has one.
OIDC_LOGOUT_AT_PROVIDER = envbool("OIDC_LOGOUT_AT_PROVIDER", "0")
# Seconds for each call to the provider (discovery, keys, token, userinfo).
OIDC_TIMEOUT = envfloat("OIDC_TIMEOUT", "5")
OIDC_USE_PKCE = True
OIDC_TOKEN_USE_BASIC_AUTH = True  # client_secret_basic: the default every provider takes
LOCAL_LOGIN = envbool("LOCAL_LOGIN", "1")
if OIDC_ISSUER:
    if not (OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET):
        raise ImproperlyConfigured("OIDC_ISSUER needs OIDC_CLIENT_ID and OIDC_CLIENT_SECRET")
    if not DEBUG and urlsplit(OIDC_ISSUER).scheme != "https":
        raise ImproperlyConfigured("OIDC_ISSUER must be an https:// URL when DEBUG=0")
    AUTHENTICATION_BACKENDS.append("recordings_app.oidc.CompanyAccounts")
    # The log-in form's company button (and log-out, with OIDC_LOGOUT_AT_PROVIDER) ends in a
    # redirect to the provider, which browsers check against form-action as well.
    _issuer = urlsplit(OIDC_ISSUER)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(
        f"{_issuer.scheme}://{_issuer.netloc}"
    )
if not LOCAL_LOGIN:
    if not OIDC_ISSUER:
        raise ImproperlyConfigured("LOCAL_LOGIN=0 needs OIDC_ISSUER: nobody could log in")
    # Without Django's password backend no form takes a password, the admin's included;
    # sessions from password log-ins end.
    AUTHENTICATION_BACKENDS.remove("django.contrib.auth.backends.ModelBackend")

if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "1")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
