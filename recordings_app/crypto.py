"""Encryption at rest for the API tokens users store.

MultiFernet over settings.CREDENTIALS_KEYS: the first key encrypts, every key decrypts,
so a new key can be put in front and old rows re-encrypted later without loss.
"""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


@cache
def _fernet() -> MultiFernet:
    keys = list(settings.CREDENTIALS_KEYS)
    if not keys:
        # Development default: a key derived from SECRET_KEY (settings refuse this with DEBUG=0).
        digest = hashlib.sha256(b"credentials-key:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """The same secret, encrypted again with the first key (any key may have made it)."""
    return _fernet().rotate(token.encode()).decode()
