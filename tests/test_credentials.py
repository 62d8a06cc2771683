import logging

import pytest
from django.contrib.auth.models import User

from demo_space import (
    DEMO_API_TOKEN,
    DEMO_PROJECT_ID,
    NO_VOICE_API_TOKEN,
    NO_VOICE_PROJECT_ID,
)
from recordings_app import crypto
from recordings_app.models import Credential
from recordings_app.request_log import JsonFormatter


def form(label="Acme", space="demo", project_id=DEMO_PROJECT_ID, token=DEMO_API_TOKEN):
    return {"label": label, "space": space, "project_id": project_id, "api_token": token}


@pytest.fixture
def carol_client(client, carol):
    client.force_login(carol)
    return client


def test_the_form_labels_its_fields_plainly(carol_client):
    page = carol_client.get("/credentials/add/").content.decode()
    for label in (">Label<", ">Space<", ">Project ID<", ">API token<"):
        assert label in page


def test_a_user_without_credentials_is_sent_to_add_them(carol_client):
    response = carol_client.get("/recordings/", follow=True)
    assert response.redirect_chain[-1][0] == "/credentials/add/"
    assert "Add your SignalWire credentials" in response.content.decode()


def test_good_credentials_are_checked_saved_encrypted_and_made_active(carol_client, carol):
    response = carol_client.post("/credentials/add/", form(space="https://demo.signalwire.com/x"))
    assert response.status_code == 302 and response["Location"] == "/recordings/"
    credential = Credential.objects.get(user=carol)
    assert credential.is_active and credential.space == "demo"
    assert DEMO_API_TOKEN not in credential.encrypted_token
    assert crypto.decrypt(credential.encrypted_token) == DEMO_API_TOKEN
    assert carol_client.get("/recordings/").status_code == 200


def test_the_token_is_shown_only_as_its_last_four_characters(carol_client):
    carol_client.post("/credentials/add/", form())
    page = carol_client.get("/credentials/").content.decode()
    assert "••••" + DEMO_API_TOKEN[-4:] in page
    assert DEMO_API_TOKEN not in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (form(token="PTwrong-token-0000"), "project ID or API token is wrong"),
        (form(project_id="00000000-0000-4000-8000-000000000000"), "project ID or API token"),
        (form(project_id=NO_VOICE_PROJECT_ID, token=NO_VOICE_API_TOKEN), "Voice scope"),
        (form(space="not a space!"), "Enter the space name"),
        (form(project_id="not-a-uuid"), "Enter a valid UUID"),
    ],
)
def test_bad_credentials_say_what_is_wrong_and_are_not_saved(carol_client, carol, data, message):
    response = carol_client.post("/credentials/add/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Credential.objects.filter(user=carol).exists()


def test_a_space_with_no_api_says_so(carol_client, carol, settings, demo_space):
    settings.SIGNALWIRE_BASE_URL = demo_space.base_url + "/nothing-here"
    response = carol_client.post("/credentials/add/", form(space="acme"))
    assert "No SignalWire space answers at" in response.content.decode()
    assert not Credential.objects.filter(user=carol).exists()


def test_an_unreachable_space_says_so(carol_client, carol, settings):
    settings.SIGNALWIRE_BASE_URL = "http://127.0.0.1:9"
    response = carol_client.post("/credentials/add/", form())
    assert "could not connect to SignalWire" in response.content.decode()
    assert not Credential.objects.filter(user=carol).exists()


def test_a_slow_space_says_so(carol_client, carol, demo_space):
    demo_space.add_fault(delay=2.0)
    response = carol_client.post("/credentials/add/", form())
    assert "did not answer within 1 second." in response.content.decode()
    assert not Credential.objects.filter(user=carol).exists()


def test_the_token_is_never_sent_back_in_the_form_after_an_error(carol_client):
    response = carol_client.post("/credentials/add/", form(label="", token="PTsecret-typed-1234"))
    assert "PTsecret-typed-1234" not in response.content.decode()


def test_the_token_never_appears_in_logs(carol_client, caplog, settings):
    caplog.set_level(logging.DEBUG)
    request_log = logging.getLogger("dashboard.requests")
    request_log.addHandler(caplog.handler)  # it does not propagate to the root logger
    try:
        carol_client.post("/credentials/add/", form(token=DEMO_API_TOKEN + "x"))
        carol_client.post("/credentials/add/", form())
        carol_client.get("/recordings/")
        settings.SIGNALWIRE_BASE_URL = "http://127.0.0.1:9"
        carol_client.get("/recordings/?size=25")
    finally:
        request_log.removeHandler(caplog.handler)
    logged = caplog.text + "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert '"path": "/credentials/add/"' in logged and "Service Unavailable" in logged
    assert DEMO_API_TOKEN not in logged


def test_switching_the_active_credentials(alice_client, alice, bob):
    from demo_space import OTHER_API_TOKEN, OTHER_PROJECT_ID
    from tests.conftest import make_credential

    other = make_credential(alice, "Second", OTHER_PROJECT_ID, OTHER_API_TOKEN, active=False)
    response = alice_client.post(f"/credentials/{other.pk}/activate/")
    assert response.status_code == 302
    assert list(Credential.objects.filter(user=alice, is_active=True)) == [other]


def test_nobody_can_use_or_remove_anothers_credentials(alice_client, bob):
    bobs = Credential.objects.get(user=bob)
    assert alice_client.post(f"/credentials/{bobs.pk}/activate/").status_code == 404
    assert alice_client.post(f"/credentials/{bobs.pk}/delete/").status_code == 404
    assert Credential.objects.filter(pk=bobs.pk, is_active=True).exists()
    assert "Bob's project" not in alice_client.get("/credentials/").content.decode()


def test_removing_the_active_credentials_falls_back_to_another(alice_client, alice):
    from demo_space import OTHER_API_TOKEN, OTHER_PROJECT_ID
    from tests.conftest import make_credential

    spare = make_credential(alice, "Spare", OTHER_PROJECT_ID, OTHER_API_TOKEN, active=False)
    active = Credential.objects.get(user=alice, is_active=True)
    alice_client.post(f"/credentials/{active.pk}/delete/")
    assert list(Credential.objects.filter(user=alice, is_active=True)) == [spare]


def test_logging_in_with_a_password(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice-password"})
    assert response.status_code == 302
    assert User.objects.get(username="alice").last_login is not None


def test_a_space_whose_host_does_not_exist_says_so(carol_client, carol, settings):
    # .invalid never resolves (RFC 6761), so this is a real name-resolution failure.
    settings.SIGNALWIRE_BASE_URL = "http://no-such-space.invalid"
    response = carol_client.post("/credentials/add/", form(space="acme"))
    assert "No SignalWire space answers at no-such-space.invalid" in response.content.decode()
    assert not Credential.objects.filter(user=carol).exists()
