"""Encryption at rest for the API tokens users store, and keeping them off error pages.

MultiFernet over settings.CREDENTIALS_KEYS: the first key encrypts, every key decrypts,
so a new key can be put in front and old rows re-encrypted later without loss.
"""

import re
from functools import cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.views.debug import SafeExceptionReporterFilter
from django.views.decorators.debug import sensitive_variables


@cache
def _fernet() -> MultiFernet:
    keys = list(settings.CREDENTIALS_KEYS)
    if not keys:  # settings always fill it (from the environment or DATA_DIR)
        raise ImproperlyConfigured("CREDENTIALS_KEYS is empty")
    return MultiFernet([Fernet(key) for key in keys])


@sensitive_variables()
def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


@sensitive_variables()
def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


@sensitive_variables()
def rotate(token: str) -> str:
    """The same secret, encrypted again with the first key (any key may have made it)."""
    return _fernet().rotate(token.encode()).decode()


class SecretsHidingFilter(SafeExceptionReporterFilter):
    """What error reports (the DEBUG page, the mails to ADMINS) show of a failure: never
    an API token. Unlike Django's own filter it also works with DEBUG on (the default),
    and besides the @sensitive_variables it hides every local variable, dictionary key
    and form field whose name says it holds a secret (`api_token`, `encrypted_token`,
    `auth`, `_auth`, `headers["Authorization"]`, ...)."""

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|CREDENTIAL", flags=re.IGNORECASE
    )

    def is_active(self, request):
        return True

    def get_post_parameters(self, request):
        parameters = super().get_post_parameters(request)
        if not any(self.hidden_settings.search(name) for name in parameters):
            return parameters
        cleansed = parameters.copy()
        for name in cleansed:
            if self.hidden_settings.search(name):
                cleansed[name] = self.cleansed_substitute
        return cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (name, self.cleanse_setting(name, value) if isinstance(value, dict) else value)
            if not self.hidden_settings.search(name)
            else (name, self.cleansed_substitute)
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]
