"""`manage.py worker`: django-tasks-db's `db_worker`, plus the sync scheduler.

The worker runs queued tasks exactly as `db_worker` does (same options); beside it a
thread asks, every `tasks.schedule_interval()` seconds, for a sync of each credential
whose index is older than SYNC_EVERY_MINUTES, and a full one once a day (see tasks.py).
Run one or several next to the app servers: however many run, each credential gets one
sync at a time.
"""

import os
import threading

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from recordings_app import tasks


class Command(db_worker.Command):
    help = (
        "Run the task worker (as db_worker does) and the scheduler that keeps every "
        "credential's index within SYNC_EVERY_MINUTES of SignalWire, with a full pass "
        "once a day."
    )

    def handle(self, *args, **options):
        # --batch drains the queue and exits: nothing to schedule for. With --reload the
        # command runs twice, a watcher and the worker it restarts; only the worker
        # schedules.
        watcher = options["reload"] and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true"
        if not options["batch"] and not watcher:
            # A daemon thread: it dies with the worker, whichever way the worker stops.
            threading.Thread(
                target=tasks.run_scheduler,
                args=(threading.Event(),),
                name="sync-scheduler",
                daemon=True,
            ).start()
        super().handle(*args, **options)
