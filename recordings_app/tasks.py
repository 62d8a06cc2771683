"""Work for the task queue (Django's Tasks API; `manage.py db_worker` runs it)."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from recordings_app import index
from recordings_app.models import Credential, IndexSync

# A queued sync that no worker picked up within this time is queued again on request.
QUEUE_PATIENCE = timedelta(minutes=10)


@task()
def sync_credential(credential_id: int, full: bool = False) -> None:
    """Sync one credential's index; a credential deleted meanwhile is nothing to do."""
    credential = Credential.objects.filter(pk=credential_id).first()
    if credential is not None:
        index.run_sync(credential, full=full)


def request_sync(credential: Credential, full: bool = False) -> IndexSync:
    """Queue a sync on the task queue unless one is already queued or running."""
    state = index.sync_state(credential)
    now = timezone.now()
    if state.state == IndexSync.State.RUNNING and not index.is_stale(state, now):
        return state
    if state.state == IndexSync.State.QUEUED and state.queued_at > now - QUEUE_PATIENCE:
        return state
    # Only the request that flips the state enqueues: two app servers asking at once
    # queue one task.
    flipped = IndexSync.objects.filter(
        pk=state.pk, state=state.state, queued_at=state.queued_at
    ).update(state=IndexSync.State.QUEUED, queued_at=now)
    if flipped:
        sync_credential.enqueue(credential.pk, full)
    state.refresh_from_db()
    return state
