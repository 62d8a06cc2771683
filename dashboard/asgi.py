"""ASGI entry point: what the production server runs (gunicorn.conf.py: uvicorn workers).

Pages are ordinary sync views, run in threads; audio streams are sent from the event
loop, so listeners do not hold threads (recordings_app/views/audio.py)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

application = get_asgi_application()
