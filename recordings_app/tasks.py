"""Work for the task queue (Django's Tasks API; `manage.py db_worker` runs it)."""

from django_tasks import task

from recordings_app import index
from recordings_app.models import Credential


@task()
def sync_credential(credential_id: int, full: bool = False) -> None:
    """Sync one credential's index; a credential deleted meanwhile is nothing to do."""
    credential = Credential.objects.filter(pk=credential_id).first()
    if credential is not None:
        index.run_sync(credential, full=full)
