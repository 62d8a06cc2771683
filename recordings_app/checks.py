"""System checks (`manage.py check`, also run by runserver, migrate and `check --deploy`):
settings that would otherwise pass and then fail every page."""

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, register

MAKE_A_KEY = (
    'Make one with: python -c "from cryptography.fernet import Fernet; '
    'print(Fernet.generate_key().decode())"'
)


@register()
def credentials_keys_are_fernet_keys(app_configs, **kwargs):
    """Every key in CREDENTIALS_KEYS must be a Fernet key, or no stored token decrypts.
    The message says which (by position, never the key itself) and how to make one."""
    keys = list(settings.CREDENTIALS_KEYS)
    if not keys:
        return [Error("CREDENTIALS_KEYS is empty.", hint=MAKE_A_KEY, id="recordings_app.E001")]
    errors = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            errors.append(
                Error(
                    f"Key {position} of {len(keys)} in CREDENTIALS_KEYS is not a Fernet key "
                    "(32 url-safe base64-encoded bytes, 44 characters).",
                    hint=MAKE_A_KEY + "; list keys comma-separated, newest first.",
                    id="recordings_app.E001",
                )
            )
    return errors
