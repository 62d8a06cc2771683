import os
import signal
import subprocess
import sys
import warnings

import uvicorn
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.asgi import get_asgi_application
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from demo_space import DEMO_API_TOKEN, DEMO_PROJECT_ID, DemoSpace
from recordings_app import tasks
from recordings_app.models import Credential


class Command(BaseCommand):
    help = "Run the dashboard against a local demo space, with a ready-made demo user."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="dashboard port (8000)")
        parser.add_argument("--space-port", type=int, default=0, help="demo space port (any)")
        parser.add_argument("--count", type=int, default=2000, help="recordings to seed")
        parser.add_argument(
            "--kind",
            action="store_true",
            help="a demo space kinder than SignalWire: media on the space's host, WAV only, "
            "the old status words (the real-space behaviours are on by default)",
        )

    def handle(self, *args, port, space_port, count, kind, **options):
        call_command("migrate", interactive=False, verbosity=0)
        # Like a real space unless asked otherwise: media on files.signalwire.com (a
        # second port here), public media, SignalWire's status words, WAV, MP3 and MP4,
        # cXML recordings in the Compatibility API.
        space = DemoSpace(host="127.0.0.1", port=space_port, count=count, realistic=not kind)
        space.start()
        # Every SignalWire host now resolves to the demo space, for this process only.
        settings.SIGNALWIRE_BASE_URL = space.base_url
        settings.SIGNALWIRE_FILES_URL = space.files_url
        settings.SIGNALWIRE_ALLOW_PRIVATE_ADDRESSES = False  # the demo space's hosts are exempt
        # Show the pages a user would see (friendly 404s, never a debug traceback);
        # whitenoise then serves static files straight from the source folders.
        settings.DEBUG = False
        settings.WHITENOISE_USE_FINDERS = True
        # ...and so has no collected STATIC_ROOT to warn a newcomer about.
        warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
        user = create_demo_user()
        # SIGTERM leaves through the same clean path as Ctrl-C, stopping the worker too.
        signal.signal(signal.SIGTERM, _interrupt)
        worker = start_worker(space)
        tasks.request_sync(Credential.objects.get(user=user, is_active=True))
        self.stdout.write(
            self.style.SUCCESS(
                f"\n  Dashboard:  http://127.0.0.1:{port}/\n"
                "  Log in as:  demo / demo\n"
                f"  Demo space: {space.base_url} ({count} RELAY recordings and cXML ones; "
                f"media at {space.files_url})\n"
                f"              space demo, project ID {DEMO_PROJECT_ID},\n"
                f"              API token {DEMO_API_TOKEN} (to try the credentials form)\n"
                f"  Worker:     manage.py worker (pid {worker.pid}), syncing the index every "
                f"{settings.SYNC_EVERY_MINUTES:g} min\n"
                "  Ctrl-C stops all three.\n"
            )
        )
        try:
            # The production server's kind (gunicorn.conf.py), in this process: uvicorn,
            # so audio streams are sent from its event loop as they are when deployed.
            uvicorn.run(
                get_asgi_application(),
                host="127.0.0.1",
                port=port,
                log_config=None,  # Django's logging, as configured
                access_log=False,  # our middleware logs each request
                timeout_graceful_shutdown=5,  # Ctrl-C does not wait for a long listen
            )
        finally:
            stop_worker(worker)
            space.stop()


@transaction.atomic
def create_demo_user() -> User:
    user, _ = User.objects.get_or_create(username="demo")
    user.set_password("demo")
    user.save()
    user.groups.add(Group.objects.get(name="Supervisor"))
    credential, _ = Credential.objects.get_or_create(
        user=user,
        label="Demo space",
        defaults={"space": "demo", "project_id": DEMO_PROJECT_ID},
    )
    credential.space, credential.project_id = "demo", DEMO_PROJECT_ID
    credential.set_token(DEMO_API_TOKEN)
    Credential.objects.filter(user=user).exclude(pk=credential.pk).update(is_active=False)
    credential.is_active = True
    credential.save()
    return user


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def start_worker(space: DemoSpace) -> subprocess.Popen:
    """The task worker and its sync scheduler in a process of their own, pointed at the
    demo space (the settings above changed only this process). It shares the database
    with the dashboard."""
    manage = str(settings.BASE_DIR / "manage.py")
    env = {
        **os.environ,
        "SIGNALWIRE_BASE_URL": space.base_url,
        "SIGNALWIRE_FILES_URL": space.files_url,
    }
    return subprocess.Popen(  # noqa: S603 - our own manage.py, no shell
        [sys.executable, manage, "worker", "--no-reload", "--no-startup-delay"], env=env
    )


def stop_worker(worker: subprocess.Popen) -> None:
    # Ctrl-C reaches the worker too (same process group); this covers other exits.
    if worker.poll() is None:
        worker.terminate()
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
