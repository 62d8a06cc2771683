"""Secrets at rest and on error pages: the API token never shows on Django's debug page,
a development run keeps a random key of its own rather than one anybody can derive, and
a malformed CREDENTIALS_KEYS is refused by `manage.py check` instead of failing every page."""

import base64
import hashlib
import os
import stat
import sys
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import RequestFactory
from django.views.debug import technical_500_response

from demo_space import DEMO_API_TOKEN
from recordings_app import crypto
from recordings_app.models import Credential
from recordings_app.signalwire import client as client_module
from tests.dashboard_processes import run_python

ROOT = Path(__file__).resolve().parent.parent


def debug_page(exc_info) -> str:
    request = RequestFactory().get("/recordings/")
    return technical_500_response(request, *exc_info).content.decode()


def assert_no_token(page: str) -> None:
    assert "Traceback" in page  # the page did render the frames
    assert DEMO_API_TOKEN not in page
    assert base64.b64encode(DEMO_API_TOKEN.encode()).decode() not in page


# ----------------------------------------------------------------- the debug page


@pytest.mark.no_upstream
def test_the_debug_page_of_a_failing_client_call_hides_the_token(alice, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("the connection broke in an unexpected way")

    monkeypatch.setattr(requests.Session, "send", fail)
    credential = Credential.objects.get(user=alice, is_active=True)
    try:
        credential.fresh_client().list_recordings()
    except RuntimeError:
        page = debug_page(sys.exc_info())
    else:
        pytest.fail("the client call did not fail")
    assert "list_recordings" in page
    assert_no_token(page)


@pytest.mark.no_upstream
def test_the_debug_page_of_a_failing_client_constructor_hides_the_token(alice, monkeypatch):
    def fail(space):
        raise RuntimeError("no base URL")

    monkeypatch.setattr(client_module, "space_base_url", fail)
    credential = Credential.objects.get(user=alice, is_active=True)
    try:
        credential.fresh_client()
    except RuntimeError:
        page = debug_page(sys.exc_info())
    else:
        pytest.fail("the constructor did not fail")
    assert "fresh_client" in page
    assert_no_token(page)


# ----------------------------------------------------------------- shared credentials


def test_a_shared_credentials_token_is_on_no_page_of_its_owner_or_those_it_is_shared_with(
    alice, carol, playable
):
    from django.contrib.auth.models import Group
    from django.test import Client

    credential = Credential.objects.get(user=alice, is_active=True)
    alice.groups.add(Group.objects.get(name="Admin"))
    carol.groups.add(Group.objects.get(name="Support"))
    owner, agent = Client(), Client()
    owner.force_login(alice)
    agent.force_login(carol)
    response = owner.post(
        f"/credentials/{credential.pk}/sharing/",
        {"share_with": [Group.objects.get(name="Support").pk], "share_with_users": ""},
    )
    assert response.status_code == 302
    pages = {
        "owner's credentials": owner.get("/credentials/"),
        "owner's sharing page": owner.get(f"/credentials/{credential.pk}/sharing/"),
        "owner's form": owner.get("/credentials/add/"),
        "agent's list": agent.get("/recordings/"),
        "agent's credentials": agent.get("/credentials/"),
        "agent's recording": agent.get(f"/recordings/{playable['id']}/"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        page = response.content.decode()
        assert DEMO_API_TOKEN not in page, name
        assert base64.b64encode(DEMO_API_TOKEN.encode()).decode() not in page, name
        assert credential.encrypted_token not in page, name
    # Its last four characters only on its owner's own list, as for any credential.
    assert "••••" + DEMO_API_TOKEN[-4:] in pages["owner's credentials"].content.decode()
    assert DEMO_API_TOKEN[-4:] not in pages["agent's credentials"].content.decode()


# ----------------------------------------------------------------- keys kept on disk


def development_settings(data_dir: Path, **extra) -> list[str]:
    """SECRET_KEY and the first CREDENTIALS_KEYS of a fresh process run with neither set
    (and DEBUG unset), keeping its data in `data_dir`."""
    ignored = ("DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "CREDENTIALS_KEYS")
    env = {k: v for k, v in os.environ.items() if k not in ignored}
    env.update(DATA_DIR=str(data_dir), **extra)
    script = (
        "from dashboard import settings as s; print(s.SECRET_KEY); print(s.CREDENTIALS_KEYS[0])"
    )
    return run_python(script, env).split()


def legacy_key(secret_key: str) -> bytes:
    """The key the dashboard used to derive from SECRET_KEY when CREDENTIALS_KEYS was unset."""
    digest = hashlib.sha256(b"credentials-key:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def test_a_development_run_makes_random_keys_once_and_keeps_them(tmp_path):
    data = tmp_path / "data"
    secret_key, credentials_key = development_settings(data)
    files = sorted(data.iterdir())
    assert files, "no key file was written"
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert "django-insecure" not in secret_key and len(secret_key) >= 50
    Fernet(credentials_key)  # a valid key
    assert development_settings(data) == [secret_key, credentials_key]
    assert development_settings(tmp_path / "elsewhere") != [secret_key, credentials_key]


def test_a_copied_database_does_not_decrypt_with_the_public_development_key(tmp_path):
    secret_key, credentials_key = development_settings(tmp_path)
    stored = Fernet(credentials_key).encrypt(b"the API token")
    public = "django-insecure-local-development-key-do-not-deploy"
    with pytest.raises(InvalidToken):
        Fernet(legacy_key(public)).decrypt(stored)
    with pytest.raises(InvalidToken):
        Fernet(legacy_key(secret_key)).decrypt(stored)


def test_tokens_stored_with_the_old_derived_key_still_decrypt():
    if os.environ.get("CREDENTIALS_KEYS"):
        pytest.skip("only development derived a key")
    public = "django-insecure-local-development-key-do-not-deploy"
    old_secret_key = os.environ.get("SECRET_KEY") or public
    old = Fernet(legacy_key(old_secret_key)).encrypt(b"an old token").decode()
    assert crypto.decrypt(old) == "an old token"


# ----------------------------------------------------------------- the system check


def test_check_refuses_a_malformed_credentials_key_and_says_how_to_make_one(settings):
    settings.CREDENTIALS_KEYS = [Fernet.generate_key().decode(), "not-a-fernet-key"]
    with pytest.raises(SystemCheckError) as refused:
        call_command("check")
    message = str(refused.value)
    assert "CREDENTIALS_KEYS" in message
    assert "Fernet.generate_key()" in message
    assert "not-a-fernet-key" not in message  # a key, even a broken one, is not printed


def test_check_accepts_well_formed_credentials_keys(settings):
    settings.CREDENTIALS_KEYS = [Fernet.generate_key().decode(), Fernet.generate_key().decode()]
    call_command("check")
