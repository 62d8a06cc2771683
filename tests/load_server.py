"""The dashboard behind a threaded WSGI server, for the load test (tests/test_load.py).

    python tests/load_server.py USERS

Runs in its own process, against the SQLite file in DATABASE_URL and the SignalWire
space in SIGNALWIRE_BASE_URL (both set by the test). It migrates, makes USERS users
with the demo project's credentials and a logged-in session each, prints one JSON line
{"port": ..., "sessions": [...]}, and serves on a free loopback port until SIGTERM.
"""

import importlib
import json
import os
import signal
import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

from demo_space import DEMO_API_TOKEN, DEMO_PROJECT_ID  # noqa: E402
from recordings_app.models import Credential  # noqa: E402


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def make_users(count: int) -> list[str]:
    sessions = []
    for number in range(count):
        user = User.objects.create_user(f"load{number}")  # no password: sessions only
        credential = Credential(
            user=user, label="Demo", space="demo", project_id=DEMO_PROJECT_ID, is_active=True
        )
        credential.set_token(DEMO_API_TOKEN)
        credential.save()
        session = importlib.import_module(settings.SESSION_ENGINE).SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        sessions.append(session.session_key)
    return sessions


def main() -> None:
    call_command("migrate", interactive=False, verbosity=0)
    sessions = make_users(int(sys.argv[1]))
    server = make_server(
        "127.0.0.1",
        0,
        get_wsgi_application(),
        server_class=ThreadingServer,
        handler_class=QuietHandler,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(json.dumps({"port": server.server_address[1], "sessions": sessions}), flush=True)
    server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
