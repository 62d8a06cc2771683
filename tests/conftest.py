"""The demo space runs on loopback for the whole session; the dashboard talks HTTP to it.

Users, as in every test here:
- alice: a Supervisor whose active credentials open the demo project;
- bob: no group, whose credentials open another project (his own recordings);
- carol: has no credentials at all.
"""

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
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
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
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
