"""The production server's worker: uvicorn inside gunicorn (gunicorn.conf.py).

Why ASGI: an audio listener reads for minutes at the speed it plays. Under threaded
WSGI each listener held one of a worker's few threads for all that time, so 40 slow or
paused listeners left no thread for anyone else, /healthz included. Under uvicorn the
stream is sent from the event loop (recordings_app/views/audio.py) and a listener costs
a coroutine and a socket; pages are still ordinary sync views, each run in a thread.
"""

from uvicorn_worker import UvicornWorker


class Worker(UvicornWorker):
    # Our middleware logs one JSON line per request (recordings_app/request_log.py);
    # uvicorn's access log would repeat it.
    CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, "access_log": False}
