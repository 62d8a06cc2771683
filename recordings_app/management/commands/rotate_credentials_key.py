"""Re-encrypt every stored API token with the first key in CREDENTIALS_KEYS.

Rotation, step by step (README.md, "Rotating the encryption key"):
1. put a new key in front: CREDENTIALS_KEYS=new,old  (restart: old rows still decrypt);
2. run this command: every row is now encrypted with the new key;
3. drop the old key: CREDENTIALS_KEYS=new.
"""

from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from recordings_app import crypto
from recordings_app.models import Credential


class Command(BaseCommand):
    help = "Re-encrypt every stored API token with the first key in CREDENTIALS_KEYS."

    def handle(self, *args, **options):
        with transaction.atomic():
            credentials = list(Credential.objects.select_for_update().order_by("pk"))
            unreadable = []
            for credential in credentials:
                try:
                    before = crypto.decrypt(credential.encrypted_token)
                    credential.encrypted_token = crypto.rotate(credential.encrypted_token)
                except InvalidToken:
                    unreadable.append(credential.pk)
                    continue
                # Never store what we cannot read back to the same token.
                if crypto.decrypt(credential.encrypted_token) != before:
                    raise CommandError(
                        f"Re-encryption check failed for credential {credential.pk}."
                    )
            if unreadable:
                # Nothing is changed: a key is missing from CREDENTIALS_KEYS.
                raise CommandError(
                    "No key in CREDENTIALS_KEYS decrypts the token of credentials "
                    f"{', '.join(map(str, unreadable))}; nothing was changed. Add the key "
                    "they were encrypted with (after the new one) and run this again."
                )
            Credential.objects.bulk_update(credentials, ["encrypted_token"])
        self.stdout.write(f"Re-encrypted {len(credentials)} stored tokens with the first key.")
