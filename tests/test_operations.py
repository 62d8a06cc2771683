"""What an operator sets and reads: secrets and hosts from the environment (or files),
the same JSON log lines from every logger, the private-address guard's own switch, and
mail (password reset exists only where mail can be sent)."""

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import User
from django.core import mail

from recordings_app import signalwire as sw

ROOT = Path(__file__).resolve().parent.parent
SECRET = "a-long-random-production-secret-" + "x7Qp2#9Lm" * 6


def production_settings(*names, **environment) -> dict:
    """The named settings as a DEBUG=0 process with `environment` sees them (and not the
    database and cache this test run itself uses, which CI sets for its second pass)."""
    ignored = (
        "DJANGO_SETTINGS_MODULE",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
    )
    env = {k: v for k, v in os.environ.items() if k not in ignored and "_FILE" not in k}
    env.update(
        DEBUG="0",
        CREDENTIALS_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="example.com",
        DJANGO_SETTINGS_MODULE="dashboard.settings",
    )
    env.update(environment)
    script = (
        "import json, sys; from django.conf import settings as s; "
        "print(json.dumps({n: getattr(s, n) for n in sys.argv[1:]}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *names],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode:
        return {"error": result.stderr.strip().splitlines()[-1]}
    return json.loads(result.stdout)


# ----------------------------------------------------------------- secrets and hosts


def test_secret_key_fallbacks_and_csrf_origins_come_from_the_environment():
    seen = production_settings(
        "SECRET_KEY_FALLBACKS",
        "CSRF_TRUSTED_ORIGINS",
        SECRET_KEY=SECRET,
        SECRET_KEY_FALLBACKS="old-key-one, old-key-two",
        CSRF_TRUSTED_ORIGINS="https://dashboard.example.com,https://*.example.org",
    )
    assert seen["SECRET_KEY_FALLBACKS"] == ["old-key-one", "old-key-two"]
    assert seen["CSRF_TRUSTED_ORIGINS"] == [
        "https://dashboard.example.com",
        "https://*.example.org",
    ]


def test_secrets_can_be_read_from_files(tmp_path):
    key, credentials = tmp_path / "secret_key", tmp_path / "credentials_keys"
    database = tmp_path / "database_url"
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    key.write_text(SECRET + "\n")
    credentials.write_text(f"{first}\n{second}\n")
    database.write_text("postgres://dashboard:p%40ss@db.internal:5432/dashboard\n")
    seen = production_settings(
        "SECRET_KEY",
        "CREDENTIALS_KEYS",
        "DATABASES",
        SECRET_KEY_FILE=str(key),
        CREDENTIALS_KEYS_FILE=str(credentials),
        DATABASE_URL_FILE=str(database),
        CREDENTIALS_KEYS="",
    )
    assert seen["SECRET_KEY"] == SECRET  # no trailing newline
    assert seen["CREDENTIALS_KEYS"] == [first, second]
    assert seen["DATABASES"]["default"]["HOST"] == "db.internal"
    assert seen["DATABASES"]["default"]["PASSWORD"] == "p@ss"


def test_a_secret_set_both_ways_is_refused(tmp_path):
    (tmp_path / "key").write_text(SECRET)
    seen = production_settings(
        "SECRET_KEY", SECRET_KEY=SECRET, SECRET_KEY_FILE=str(tmp_path / "key")
    )
    assert "Set SECRET_KEY or SECRET_KEY_FILE, not both" in seen["error"]


def test_a_secret_file_that_cannot_be_read_is_refused_by_name(tmp_path):
    seen = production_settings("SECRET_KEY", SECRET_KEY_FILE=str(tmp_path / "missing"))
    assert "SECRET_KEY_FILE: cannot read" in seen["error"]


@pytest.mark.django_db
def test_rotating_the_secret_key_logs_nobody_out(alice, client, settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "the-old-key-" + "o" * 40, []
    client.force_login(alice)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = (
        "the-new-key-" + "n" * 40,
        ["the-old-key-" + "o" * 40],
    )
    assert client.get("/profile/").status_code == 200


# ----------------------------------------------------------------- mail and admins


def test_mail_comes_from_email_url():
    seen = production_settings(
        "EMAIL_HOST",
        "EMAIL_PORT",
        "EMAIL_HOST_USER",
        "EMAIL_HOST_PASSWORD",
        "EMAIL_USE_TLS",
        "EMAIL_CONFIGURED",
        "ADMINS",
        "DEFAULT_FROM_EMAIL",
        SECRET_KEY=SECRET,
        EMAIL_URL="smtp://mailer:s%3Acret@smtp.example.com:587/?tls=1",
        ADMINS="Ann Admin <ann@example.com>,bob@example.com",
        DEFAULT_FROM_EMAIL="dashboard@example.com",
    )
    assert seen == {
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "s:cret",
        "EMAIL_USE_TLS": True,
        "EMAIL_CONFIGURED": True,
        "ADMINS": [["Ann Admin", "ann@example.com"], ["bob@example.com", "bob@example.com"]],
        "DEFAULT_FROM_EMAIL": "dashboard@example.com",
    }


def test_mail_comes_from_the_usual_email_variables():
    seen = production_settings(
        "EMAIL_HOST",
        "EMAIL_PORT",
        "EMAIL_USE_TLS",
        "EMAIL_CONFIGURED",
        SECRET_KEY=SECRET,
        EMAIL_HOST="smtp.example.com",
        EMAIL_PORT="2525",
        EMAIL_USE_TLS="0",
    )
    assert seen == {
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 2525,
        "EMAIL_USE_TLS": False,
        "EMAIL_CONFIGURED": True,
    }


def test_without_mail_nothing_is_configured_to_send():
    seen = production_settings("EMAIL_CONFIGURED", "EMAIL_BACKEND", SECRET_KEY=SECRET)
    assert seen["EMAIL_CONFIGURED"] is False
    assert seen["EMAIL_BACKEND"] == "django.core.mail.backends.dummy.EmailBackend"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/accounts/password_reset/", "/accounts/password_reset/done/", "/accounts/reset/MQ/x-y/"],
)
def test_without_mail_password_reset_is_not_there(client, settings, path):
    settings.EMAIL_CONFIGURED = False
    assert client.get(path).status_code == 404


@pytest.mark.django_db
def test_with_mail_password_reset_sends_the_link(client, settings):
    settings.EMAIL_CONFIGURED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    User.objects.create_user("dana", email="dana@example.com", password="dana-password")
    response = client.post("/accounts/password_reset/", {"email": "dana@example.com"})
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["dana@example.com"] and "/accounts/reset/" in message.body


# ----------------------------------------------------------------- logs


def test_every_logger_writes_json_lines():
    script = (
        "import django, logging; django.setup(); "
        "logging.getLogger('django').warning('from django'); "
        "logging.getLogger('django.request').error('from django.request'); "
        "logging.getLogger('django_tasks_db.worker').warning('from the worker'); "
        "logging.getLogger('recordings_app.tasks').warning('from ours')"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env["DJANGO_SETTINGS_MODULE"] = "dashboard.settings"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("django", "from django"),
        ("django.request", "from django.request"),
        ("django_tasks_db.worker", "from the worker"),
        ("recordings_app.tasks", "from ours"),
    ]


def test_gunicorn_writes_the_same_json_lines():
    script = (
        "import runpy; from gunicorn.config import Config; from gunicorn.glogging import "
        "Logger; c = Config(); c.set('logconfig_dict', "
        "runpy.run_path('gunicorn.conf.py')['logconfig_dict']); "
        "Logger(c).error('Worker %s timed out', 42)"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    [line] = [json.loads(line) for line in result.stderr.splitlines()]
    assert line["logger"] == "gunicorn.error" and line["message"] == "Worker 42 timed out"
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["accesslog"] is None


# ----------------------------------------------------------------- the address guard


def test_the_private_address_guard_is_on_by_default_even_with_debug(settings):
    settings.DEBUG = True
    settings.SIGNALWIRE_BASE_URL = "https://api.example.test"
    assert production_settings("SIGNALWIRE_ALLOW_PRIVATE_ADDRESSES", SECRET_KEY=SECRET) == {
        "SIGNALWIRE_ALLOW_PRIVATE_ADDRESSES": False
    }
    settings.SIGNALWIRE_ALLOW_PRIVATE_ADDRESSES = False
    assert sw.transport._must_be_public("127.0.0.1")
    assert not sw.transport._must_be_public("api.example.test")  # the stand-in's host


def test_the_private_address_guard_is_switched_off_by_its_own_setting(settings):
    settings.DEBUG = False
    settings.SIGNALWIRE_BASE_URL = "https://api.example.test"
    settings.SIGNALWIRE_ALLOW_PRIVATE_ADDRESSES = True
    assert not sw.transport._must_be_public("10.1.2.3")
