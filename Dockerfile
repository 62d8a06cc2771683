# The dashboard's image: one image, two commands. The web server is the default command
# (gunicorn reads gunicorn.conf.py); the task worker is `python manage.py worker
# --no-reload` (compose.yaml runs both, and `manage.py migrate` once before them).
#
# Settings come from the environment at run time (.env.example lists them all): DEBUG is
# 0 here, so SECRET_KEY and CREDENTIALS_KEYS (or their *_FILE) and ALLOWED_HOSTS must be
# given. Nothing secret is in the image.

# --- build: the virtual environment from the lock file, and the static files ---
FROM python:3.11-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /venv
# Only the lock file first, so the dependencies stay a cached layer while the code changes.
# Exactly the releases and files the lock names (hashes), wheels only: nothing compiles.
COPY requirements.lock /tmp/requirements.lock
RUN /venv/bin/pip install --require-hashes --no-deps --only-binary=:all: \
        -r /tmp/requirements.lock

WORKDIR /app
COPY . .
# whitenoise's compressed, content-hashed files (DEBUG=0 picks that storage). Settings
# refuse to load with DEBUG=0 and no keys, so this one command gets throwaway ones; they
# are not in any layer's environment and nothing is signed or encrypted with them.
RUN DEBUG=0 SECRET_KEY=collectstatic-only \
        CREDENTIALS_KEYS=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
        /venv/bin/python manage.py collectstatic --noinput \
    && /venv/bin/python -m compileall -q dashboard recordings_app demo_space

# --- runtime: Python, the virtual environment and the app; no pip cache, no compilers ---
FROM python:3.11-slim-bookworm

ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DEBUG=0 \
    DATA_DIR=/data \
    PORT=8000

# The app runs as an unprivileged user that owns nothing but /data; the code is root's,
# read-only to it. For SQLite in one container: DATABASE_URL=sqlite:////data/db.sqlite3.
RUN groupadd --system --gid 10001 recordings \
    && useradd --system --uid 10001 --gid recordings --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin recordings \
    && install -d -o recordings -g recordings -m 0700 /data

COPY --from=build /venv /venv
COPY --from=build /app /app
WORKDIR /app
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000

# Liveness: /healthz/live answers plain HTTP on any Host, DEBUG=0 or not (README,
# "Running it for a team"). Readiness (/healthz: database and cache) is the load
# balancer's or the orchestrator's to ask; compose.yaml's worker turns this check off.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz/live\", timeout=4).status != 200)"]

# gunicorn.conf.py: uvicorn workers, one JSON log line per request on stderr. Set
# GUNICORN_WORKERS: a container sees the host's CPU count. The heartbeat files go to
# memory (/dev/shm), not the container's overlay filesystem, which can stall them.
CMD ["gunicorn", "--worker-tmp-dir", "/dev/shm"]
