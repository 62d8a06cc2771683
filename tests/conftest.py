"""The demo space runs on loopback for the whole session; the dashboard talks HTTP to it.

Users, as in every test here:
- alice: a Supervisor whose active credentials open the demo project;
- bob: no group, whose credentials open another project (his own recordings);
- carol: has no credentials at all.

Helpers more than one test file needs live here too, once each; a test file imports them
with `from tests.conftest import ...`.
"""

import csv
import importlib
import io
import re
from datetime import datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.management.commands import flush
from django.db import connections, transaction
from django.test import Client

from demo_space import (
    DEMO_API_TOKEN,
    DEMO_PROJECT_ID,
    OTHER_API_TOKEN,
    OTHER_PROJECT_ID,
    DemoSpace,
)
from recordings_app.models import Credential


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    yield
    # On PostgreSQL the connections come from psycopg's pool (dashboard/settings.py),
    # which keeps some open: closed here, so the test database can be dropped.
    for connection in connections.all():
        if getattr(connection, "pool", None) is not None:
            connection.close_pool()


@pytest.fixture(scope="session", autouse=True)
def flush_empties_the_audit_trail():
    """A transactional test ends with `flush`, which the audit table's triggers refuse
    while it holds rows (migration 0010). Only tests flush: here flush first removes the
    audit rows, with the triggers lifted for that one transaction. In flush itself, so it
    runs when pytest-django empties the database, after the test's browser and live
    server requests are done, whatever order the test's fixtures were set up in."""
    triggers = importlib.import_module("recordings_app.migrations.0010_audit_append_only")
    original = flush.Command.handle

    def handle(self, **options):
        # The whole flush in one transaction with the triggers lifted: an audit row that a
        # live server's request wrote after the rows were removed (a browser's last "played"
        # beacon) once made the flush itself refused, and every later test fail.
        database = connections[options.get("database") or "default"]
        with transaction.atomic(using=database.alias):
            with database.cursor() as cursor:
                triggers.drop_triggers(cursor, database.vendor)
                cursor.execute("DELETE FROM recordings_app_auditevent")
            result = original(self, **options)
            with database.cursor() as cursor:
                triggers.create_triggers(cursor, database.vendor)
        return result

    flush.Command.handle = handle
    yield
    flush.Command.handle = original


@pytest.fixture(scope="session")
def demo_space():
    with DemoSpace(host="127.0.0.1", port=0) as space:
        yield space


@pytest.fixture(autouse=True)
def upstream(request, settings):
    """Point the client at the demo space, with short timeouts so fault tests are quick.
    Tests that touch no upstream do not start it."""
    settings.SIGNALWIRE_CONNECT_TIMEOUT = 1.0
    settings.SIGNALWIRE_READ_TIMEOUT = 1.0
    settings.SIGNALWIRE_RETRY_BUDGET = 1.5
    settings.SIGNALWIRE_TOTAL_TIMEOUT = 3.0  # above the browser tests' 2.6 s "slow, not failed"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SIGNALWIRE_ALLOW_PRIVATE_ADDRESSES = False  # as in production; guard tests rely on it
    cache.clear()  # cached upstream answers must not leak from one test into the next
    if "no_upstream" in request.keywords:
        settings.SIGNALWIRE_BASE_URL = "http://127.0.0.1:9"  # discard port: nothing answers
        yield None
        return
    space = request.getfixturevalue("demo_space")
    settings.SIGNALWIRE_BASE_URL = space.base_url
    yield space
    space.reset()


def pytest_configure(config):
    config.addinivalue_line("markers", "no_upstream: the test needs no demo space")
    config.addinivalue_line(
        "markers", "load: the one-minute load test on loopback (deselect with -m 'not load')"
    )


def make_credential(user, label, project_id, token, active=True) -> Credential:
    credential = Credential(user=user, label=label, space="demo", project_id=project_id)
    credential.set_token(token)
    credential.is_active = active
    credential.save()
    return credential


@pytest.fixture
def alice(db):
    user = User.objects.create_user("alice", password="alice-password")
    user.groups.add(Group.objects.get(name="Supervisor"))
    make_credential(user, "Acme production", DEMO_PROJECT_ID, DEMO_API_TOKEN)
    return user


@pytest.fixture
def bob(db):
    user = User.objects.create_user("bob", password="bob-password")
    make_credential(user, "Bob's project", OTHER_PROJECT_ID, OTHER_API_TOKEN)
    return user


@pytest.fixture
def carol(db):
    return User.objects.create_user("carol", password="carol-password")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob):
    """A browser of bob's own, so a test can hold alice's and bob's side by side."""
    client = Client()
    client.force_login(bob)
    return client


@pytest.fixture
def berlin_client(alice_client):
    """alice's browser, telling the dashboard it is in Europe/Berlin."""
    alice_client.cookies["tz"] = "Europe/Berlin"
    return alice_client


@pytest.fixture
def playable(demo_space):
    """A demo recording with audio to play: completed, longer than 5 s, of a known size."""
    return next(
        r
        for r in demo_space.recordings(DEMO_PROJECT_ID)
        if r["status"] == "completed" and r.get("byte_size") and r["duration_in_seconds"] > 5
    )


@pytest.fixture
def broken_cache(settings):
    """The cache is a Redis server that does not answer."""
    settings.CACHES = {
        "default": {
            "BACKEND": "recordings_app.redis_cache.ForgivingRedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }


def text(response) -> str:
    return response.content.decode()


def body(response) -> bytes:
    """All of a streamed response (audio, CSV), read to the end."""
    return b"".join(response.streaming_content)


def csv_lines(response) -> list[list[str]]:
    """A streamed CSV download as rows of cells, the header first."""
    return list(csv.reader(io.StringIO(body(response).decode())))


def page_link(html: str, rel: str) -> str | None:
    """The list page's "next" or "prev" link (a query string), or None if it has none."""
    match = re.search(rf'href="(\?[^"]+)"[^>]*rel="{rel}"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def upstream_gets(demo_space) -> int:
    """How many GET requests reached the demo space in this test so far."""
    return sum(1 for method, _, _ in demo_space.request_log if method == "GET")


def listed(demo_space, project_id) -> list[dict]:
    """Every recording of the project as the live list shows them: both API families,
    newest first (RELAY first at equal times), each as {"id", "family", "created",
    "seconds", "cost", "unit"}; a Compatibility price is negative for a cost."""
    rows = [
        {
            "id": r["id"],
            "family": "relay",
            "created": datetime.fromisoformat(r["created_at"].replace("Z", "+00:00")),
            "seconds": r["duration_in_seconds"],
            "cost": Decimal(str(r["price"])),
            "unit": r["price_unit"],
        }
        for r in demo_space.recordings(project_id)
    ] + [
        {
            "id": r["sid"],
            "family": "compat",
            "created": parsedate_to_datetime(r["date_created"]),
            "seconds": r["duration"],
            "cost": None if r["price"] is None else -Decimal(r["price"]),
            "unit": r["price_unit"],
        }
        for r in demo_space.compat_recordings(project_id)
    ]
    # A stable sort: within a family, the order each list is served in.
    return sorted(rows, key=lambda row: (-row["created"].timestamp(), row["family"] != "relay"))
