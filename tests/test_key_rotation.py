"""Rotating the encryption key of stored API tokens loses none of them."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from demo_space import DEMO_API_TOKEN, OTHER_API_TOKEN
from recordings_app import crypto
from recordings_app.models import Credential

pytestmark = pytest.mark.no_upstream

OLD, NEW, UNRELATED = (Fernet.generate_key().decode() for _ in range(3))


@pytest.fixture
def keys(settings):
    """Set CREDENTIALS_KEYS; crypto caches its MultiFernet, so clear it around each change."""

    def use(*keys):
        settings.CREDENTIALS_KEYS = list(keys)
        crypto._fernet.cache_clear()

    yield use
    crypto._fernet.cache_clear()


def tokens() -> dict[str, str]:
    return {c.label: c.fresh_client()._auth[1] for c in Credential.objects.order_by("label")}


def store_token(user, token: str) -> Credential:
    """The user's credential, its token encrypted with the keys set now."""
    credential = Credential.objects.get(user=user)
    credential.set_token(token)
    credential.save()
    return credential


def test_rotation_reencrypts_every_token_with_the_new_key(keys, alice, bob, capsys):
    keys(OLD)
    for credential in Credential.objects.all():  # stored under the old key
        credential.set_token(DEMO_API_TOKEN if credential.user == alice else OTHER_API_TOKEN)
        credential.save()
    before = {c.pk: c.encrypted_token for c in Credential.objects.all()}

    keys(NEW, OLD)
    assert tokens() == {"Acme production": DEMO_API_TOKEN, "Bob's project": OTHER_API_TOKEN}
    call_command("rotate_credentials_key")
    assert "Re-encrypted 2 stored tokens" in capsys.readouterr().out
    after = {c.pk: c.encrypted_token for c in Credential.objects.all()}
    assert all(after[pk] != before[pk] for pk in before)

    keys(NEW)  # the old key is gone: everything still decrypts
    assert tokens() == {"Acme production": DEMO_API_TOKEN, "Bob's project": OTHER_API_TOKEN}


def test_without_the_old_key_rotation_changes_nothing_and_says_which(keys, alice, bob):
    keys(OLD)
    alices = store_token(alice, DEMO_API_TOKEN)
    keys(UNRELATED)
    store_token(bob, OTHER_API_TOKEN)
    before = dict(Credential.objects.values_list("pk", "encrypted_token"))

    keys(NEW, UNRELATED)  # OLD forgotten
    with pytest.raises(CommandError, match=f"credentials {alices.pk}; nothing was changed"):
        call_command("rotate_credentials_key")
    assert dict(Credential.objects.values_list("pk", "encrypted_token")) == before

    keys(NEW, UNRELATED, OLD)
    call_command("rotate_credentials_key")
    keys(NEW)
    assert tokens() == {"Acme production": DEMO_API_TOKEN, "Bob's project": OTHER_API_TOKEN}


def test_the_command_never_prints_a_token(keys, alice, capsys):
    keys(NEW)
    store_token(alice, DEMO_API_TOKEN)
    call_command("rotate_credentials_key")
    out = capsys.readouterr()
    assert DEMO_API_TOKEN not in out.out + out.err
