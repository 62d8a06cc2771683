"""A benchmark's own PostgreSQL database on loopback, and its one account: what the
PostgreSQL benchmarks (numbers_search, costs_year, csv_export, search_scale) share."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit


@contextmanager
def own_database(url: str, keep: bool = False) -> Iterator[bool]:
    """Makes the database `url` names afresh (with `keep`, reuses it if it is there),
    sets Django up on it and migrates it; drops it at the end unless `keep`. Yields
    whether a kept database was reused, its rows and all."""
    if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("loopback only")
    name = urlsplit(url).path.lstrip("/")
    if name == "test":
        raise SystemExit("Not the database named `test`: that one is CI's.")

    import psycopg

    server = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as conn:
        there = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        kept = keep and there is not None
        if not kept:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    # Millions of rows in one statement take longer than the app's statement timeout.
    os.environ["DATABASE_STATEMENT_TIMEOUT_MS"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    try:
        yield kept
    finally:
        connections.close_all()
        if not keep:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def account(user, number: int = 0, active: bool = True):
    """A stored credential of `user` for the demo space (project ids ...0, ...1, ...)."""
    from recordings_app.models import Credential

    credential = Credential(user=user, label=f"bench {number}", space="demo", is_active=active)
    credential.project_id = f"00000000-0000-4000-8000-{number:012d}"
    credential.set_token("bench-token")
    credential.save()
    return credential
