"""Shared credentials (issue 13): an Admin stores a token once and shares it with groups
and named users, who use it without ever seeing it; taking it back works from their
next request on.

Users here, besides conftest's alice, bob and carol:
- ada: an Admin, owner of "Team line" (the demo project), shared with Support;
- sam: a Support agent with no credentials of his own;
- victor: a Supervisor (may delete, see costs and activity) outside every grant.
"""

import re

import pytest
from django.contrib.auth.models import Group, User
from django.db.models import F
from django.test import Client
from django_tasks_db.models import DBTaskResult

from demo_space import DEMO_API_TOKEN, DEMO_PROJECT_ID, OTHER_API_TOKEN, OTHER_PROJECT_ID
from recordings_app import index
from recordings_app.models import AuditEvent, Credential, IndexedRecording, IndexSync
from tests.conftest import body, make_credential, text

Action = AuditEvent.Action


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def group(name) -> Group:
    return Group.objects.get(name=name)


@pytest.fixture
def ada(db):
    user = User.objects.create_user("ada", password="ada-password")
    user.groups.add(group("Admin"))
    return user


@pytest.fixture
def team_line(ada) -> Credential:
    """ada's credentials, not shared with anyone yet."""
    return make_credential(ada, "Team line", DEMO_PROJECT_ID, DEMO_API_TOKEN)


@pytest.fixture
def ada_client(ada):
    return browser_of(ada)


@pytest.fixture
def sam(db):
    user = User.objects.create_user("sam", password="sam-password")
    user.groups.add(group("Support"))
    return user


@pytest.fixture
def sam_client(sam):
    return browser_of(sam)


@pytest.fixture
def victor(db):
    user = User.objects.create_user("victor", password="victor-password")
    user.groups.add(group("Supervisor"))
    return user


def share(ada_client, credential, groups=(), users=""):
    """What ada's "Share" page sends."""
    return ada_client.post(
        f"/credentials/{credential.pk}/sharing/",
        {"share_with": [group(name).pk for name in groups], "share_with_users": users},
    )


@pytest.fixture
def shared(ada_client, team_line, sam):
    """Team line, shared with the Support group through ada's own page."""
    assert share(ada_client, team_line, groups=["Support"]).status_code == 302
    return team_line


def space_calls(demo_space) -> list:
    """Every request that reached the demo space (both hosts) so far."""
    return demo_space.request_log + demo_space.files_request_log


# ---------------------------------------------------------------- sharing, by whom


def test_an_admins_credentials_form_has_a_share_with_field_listing_the_groups(ada_client):
    page = text(ada_client.get("/credentials/add/"))
    assert "<legend>Share with</legend>" in page
    for name in ("Admin", "Supervisor", "Support"):
        assert re.search(rf'<input type="checkbox" name="share_with"[^>]*>\s*{name}</label>', page)
    assert ">Named users<" in page


def test_a_user_without_the_permission_gets_no_share_with_field(sam_client, alice_client):
    assert "Share with" not in text(sam_client.get("/credentials/add/"))
    assert "Share with" not in text(alice_client.get("/credentials/add/"))  # a Supervisor


def test_superusers_may_share(db):
    root = User.objects.create_superuser("root", password="root-password")
    assert "<legend>Share with</legend>" in text(browser_of(root).get("/credentials/add/"))


def test_adding_credentials_shares_them_with_the_groups_and_users_ticked(ada, ada_client, sam):
    named = User.objects.create_user("nora")
    response = ada_client.post(
        "/credentials/add/",
        {
            "label": "Team line",
            "space": "demo",
            "project_id": DEMO_PROJECT_ID,
            "api_token": DEMO_API_TOKEN,
            "share_with": [group("Support").pk],
            "share_with_users": " nora , ",
        },
    )
    assert response.status_code == 302
    credential = Credential.objects.get(user=ada)
    assert list(credential.shared_with_groups.all()) == [group("Support")]
    assert list(credential.shared_with_users.all()) == [named]
    (event,) = AuditEvent.objects.filter(action=Action.CREDENTIAL_SHARE)
    assert event.username == "ada" and event.detail == "Shared with Support; nora"


def test_sharing_with_a_user_nobody_is_called_says_so_and_shares_nothing(ada_client, team_line):
    response = share(ada_client, team_line, groups=["Support"], users="sam, nobody-here")
    assert response.status_code == 200
    assert "No user is called nobody-here, sam." in text(response)
    assert not team_line.shared_with_groups.exists()


def test_only_the_owner_with_the_permission_changes_the_sharing(shared, sam_client, ada):
    # sam may use it, but not share it: no permission.
    assert sam_client.get(f"/credentials/{shared.pk}/sharing/").status_code == 403
    # Another Admin may share their own credentials, not ada's.
    other_admin = User.objects.create_user("otto")
    other_admin.groups.add(group("Admin"))
    otto = browser_of(other_admin)
    assert otto.get(f"/credentials/{shared.pk}/sharing/").status_code == 404
    assert share(otto, shared, groups=["Supervisor"]).status_code == 404
    assert list(shared.shared_with_groups.all()) == [group("Support")]


def test_the_owners_page_says_who_it_is_shared_with(shared, ada_client):
    page = text(ada_client.get("/credentials/"))
    assert "<td>Support</td>" in page
    assert f'href="/credentials/{shared.pk}/sharing/"' in page


# ---------------------------------------------------------------- using it


def test_an_agent_with_exactly_one_shared_credential_lands_on_the_recordings_list(
    shared, sam, demo_space
):
    browser = Client()
    response = browser.post(
        "/accounts/login/", {"username": "sam", "password": "sam-password"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/recordings/"
    assert response.status_code == 200
    newest = demo_space.recordings(DEMO_PROJECT_ID)[0]["id"]
    assert newest in text(response)
    assert "Team line" in text(response)


def test_the_picker_shows_a_shared_credential_marked_shared_without_its_details(shared, sam_client):
    sam_client.get("/recordings/")
    page = text(sam_client.get("/credentials/"))
    assert "Shared with you" in page
    assert 'Team line <span class="badge">shared</span>' in page
    assert "in use" in page and "<td>demo</td>" in page and "<td>ada</td>" in page
    assert DEMO_PROJECT_ID not in page
    assert DEMO_API_TOKEN[-4:] not in page and DEMO_API_TOKEN not in page
    assert f"/credentials/{shared.pk}/delete/" not in page
    assert f"/credentials/{shared.pk}/sharing/" not in page


def test_an_agent_can_neither_remove_nor_change_a_shared_credential(shared, sam_client):
    assert sam_client.post(f"/credentials/{shared.pk}/delete/").status_code == 404
    assert sam_client.post(f"/credentials/{shared.pk}/sharing/").status_code == 403
    assert Credential.objects.filter(pk=shared.pk).exists()


def test_a_credential_shared_with_a_named_user_is_theirs_to_use(ada_client, team_line, bob):
    share(ada_client, team_line, users="bob")
    bob_client = browser_of(bob)
    page = text(bob_client.get("/credentials/"))
    assert "Bob&#x27;s project" in page and "Team line" in page
    # bob keeps his own in use until he picks the shared one.
    assert "Bob&#x27;s project" in text(bob_client.get("/recordings/"))
    response = bob_client.post(f"/credentials/{team_line.pk}/activate/")
    assert response.status_code == 302
    listing = text(bob_client.get("/recordings/"))
    assert "Team line" in listing and "Bob&#x27;s project" not in listing
    # His own stays his own; picking the shared one changed nothing of ada's.
    assert not Credential.objects.get(user=bob).is_active
    assert Credential.objects.get(pk=team_line.pk).is_active  # still ada's choice
    bob_client.post(f"/credentials/{Credential.objects.get(user=bob).pk}/activate/")
    assert "Bob&#x27;s project" in text(bob_client.get("/recordings/"))


def test_with_several_shared_and_none_picked_the_agent_picks_on_the_credentials_page(
    ada, ada_client, shared, sam_client
):
    second = make_credential(ada, "Second line", OTHER_PROJECT_ID, OTHER_API_TOKEN, active=False)
    share(ada_client, second, groups=["Support"])
    response = sam_client.get("/recordings/", follow=True)
    assert response.redirect_chain[-1][0] == "/credentials/"
    assert "Pick the credentials to use." in text(response)
    sam_client.post(f"/credentials/{second.pk}/activate/")
    assert "Second line" in text(sam_client.get("/recordings/"))


def test_users_of_one_shared_credential_pick_independently(ada, ada_client, shared, sam):
    second = make_credential(ada, "Second line", OTHER_PROJECT_ID, OTHER_API_TOKEN, active=False)
    share(ada_client, second, groups=["Support"])
    tess = User.objects.create_user("tess")
    tess.groups.add(group("Support"))
    sam_client, tess_client = browser_of(sam), browser_of(tess)
    sam_client.post(f"/credentials/{shared.pk}/activate/")
    tess_client.post(f"/credentials/{second.pk}/activate/")
    assert "Team line" in text(sam_client.get("/recordings/"))
    assert "Second line" in text(tess_client.get("/recordings/"))
    assert "Team line" in text(ada_client.get("/recordings/"))


def test_audio_of_a_shared_credential_is_never_kept_by_the_browser(
    shared, sam_client, ada_client, playable
):
    url = f"/recordings/{playable['id']}/audio/"
    response = sam_client.get(url)
    assert response.status_code == 200 and body(response)
    assert response["Cache-Control"] == "private, no-store"
    assert sam_client.get(f"/recordings/{playable['id']}/peaks/")["Cache-Control"] == (
        "private, no-store"
    )
    # Its owner's own may be kept, as before: nobody can take it from them.
    response = ada_client.get(url)
    body(response)
    assert response["Cache-Control"] == "private, max-age=3600"


# ---------------------------------------------------------------- one index, who did what


def test_everyone_using_a_shared_credential_reads_one_index(shared, ada_client, sam_client):
    index.run_sync(shared)
    assert IndexSync.objects.count() == 1
    assert set(IndexedRecording.objects.values_list("credential", flat=True)) == {shared.pk}
    # A sorted list is answered from the index: the same rows for both.
    owners = text(ada_client.get("/recordings/?sort=-price"))
    agents = text(sam_client.get("/recordings/?sort=-price"))
    dearest = IndexedRecording.objects.order_by(F("price").desc(nulls_last=True), "-created_at")
    some = dearest.values_list("recording_id", flat=True)[:3]
    for recording_id in some:
        assert recording_id in owners and recording_id in agents
    rows = body(sam_client.get("/recordings/export.csv")).decode().splitlines()
    assert len(rows) == 1 + IndexedRecording.objects.filter(vanished_at=None).count()


def test_a_refresh_asked_for_by_two_users_is_one_sync(shared, ada_client, sam_client):
    sam_client.get("/recordings/")  # sam starts using it
    sam_client.post("/index/refresh/")
    ada_client.post("/index/refresh/")
    assert DBTaskResult.objects.count() == 1
    assert list(IndexSync.objects.values_list("credential", flat=True)) == [shared.pk]


def test_the_audit_trail_says_which_user_did_what_with_the_shared_credential(
    shared, ada_client, sam_client, playable
):
    sam_client.post(f"/credentials/{shared.pk}/activate/")
    sam_client.get(f"/recordings/{playable['id']}/")
    sam_client.post(f"/recordings/{playable['id']}/played/")
    ada_client.post(f"/recordings/{playable['id']}/played/")
    plays = AuditEvent.objects.filter(action=Action.PLAY).order_by("id")
    assert [(e.username, e.credential_label) for e in plays] == [
        ("sam", "Team line"),
        ("ada", "Team line"),
    ]
    switched = AuditEvent.objects.get(action=Action.CREDENTIAL_ACTIVATE)
    assert (switched.username, switched.detail) == ("sam", "Shared by ada")
    (shared_event,) = AuditEvent.objects.filter(action=Action.CREDENTIAL_SHARE)
    assert shared_event.username == "ada"
    assert shared_event.detail == "Shared with Support (was nobody)"
    assert AuditEvent.objects.filter(username="sam", action=Action.VIEW).count() == 1


# ---------------------------------------------------------------- revoking


def test_revoking_takes_effect_on_the_agents_next_request(shared, ada_client, sam_client):
    assert "Team line" in text(sam_client.get("/recordings/"))
    share(ada_client, shared, groups=[])
    response = sam_client.get("/recordings/", follow=True)
    assert response.redirect_chain[-1][0] == "/credentials/add/"
    assert "“Team line” is no longer shared with you." in text(response)
    assert "Team line" not in text(sam_client.get("/credentials/"))
    (event,) = AuditEvent.objects.filter(action=Action.CREDENTIAL_SHARE).order_by("-id")[:1]
    assert event.detail == "Shared with nobody (was Support)"


def test_a_revoked_user_with_credentials_of_their_own_falls_back_to_them(
    ada_client, team_line, bob
):
    share(ada_client, team_line, users="bob")
    bob_client = browser_of(bob)
    bob_client.post(f"/credentials/{team_line.pk}/activate/")
    share(ada_client, team_line, users="")
    response = bob_client.get("/recordings/")
    assert response.status_code == 200
    page = text(response)
    assert "Bob&#x27;s project" in page
    assert "“Team line” is no longer shared with you. Now showing recordings for" in page
    assert Credential.objects.get(user=bob).is_active


def test_the_owner_removing_a_shared_credential_takes_it_from_everyone(
    shared, ada_client, sam_client
):
    sam_client.get("/recordings/")
    ada_client.post(f"/credentials/{shared.pk}/delete/")
    response = sam_client.get("/recordings/", follow=True)
    assert response.redirect_chain[-1][0] == "/credentials/add/"


def test_a_user_in_two_granted_groups_keeps_it_until_both_are_revoked(
    ada_client, team_line, sam_client, sam
):
    sam.groups.add(group("Supervisor"))
    share(ada_client, team_line, groups=["Support", "Supervisor"])
    share(ada_client, team_line, groups=["Supervisor"])
    assert sam_client.get("/recordings/").status_code == 200
    sam.groups.remove(group("Supervisor"))  # leaving the group is a revocation too
    assert sam_client.get("/recordings/").status_code == 302


def outsider_urls(recording_id: str) -> list[tuple[str, str]]:
    """Every URL that reaches a credential's recordings, index, reports or choice."""
    r = recording_id
    return [
        ("get", "/recordings/"),
        ("get", "/recordings/?sort=-price"),
        ("get", "/recordings/export.csv"),
        ("get", f"/recordings/go/?id={r}"),
        ("get", f"/recordings/{r}/"),
        ("get", f"/recordings/{r}/audio/"),
        ("get", f"/recordings/{r}/audio/?download=1"),
        ("get", f"/recordings/{r}/peaks/"),
        ("post", f"/recordings/{r}/played/"),
        ("get", f"/recordings/{r}/delete/"),
        ("post", f"/recordings/{r}/delete/"),
        ("get", "/costs/"),
        ("get", "/costs/daily.csv"),
        ("get", "/costs/recordings.csv"),
        ("get", "/index/status/"),
        ("post", "/index/refresh/"),
    ]


def use_everything(client, credential, playable):
    """A user of the credential opens every page of it, so everything cacheable about it
    (its pages, the recording, audio, peaks, the index) is there to be served."""
    index.run_sync(credential)
    for method, url in outsider_urls(playable["id"]):
        if url.endswith("/delete/") or url == "/index/refresh/":
            continue  # deleting is not using it; a refresh only queues a sync
        response = getattr(client, method)(url)
        if response.streaming:
            body(response)
        if url.startswith("/recordings/go/"):
            assert response["Location"] == f"/recordings/{playable['id']}/"
        else:
            assert response.status_code in (200, 204), url
    DBTaskResult.objects.all().delete()


def assert_refused_everywhere(client, credential, recording_id, demo_space):
    """Each URL is refused (sent to the credentials pages, 403 or 404), shows nothing
    of the credential's, and asks SignalWire nothing, cached or not."""
    demo_space.clear_request_log()
    for method, url in outsider_urls(recording_id):
        response = getattr(client, method)(url)
        content = body(response) if response.streaming else response.content
        assert response.status_code in (302, 403, 404), (url, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith("/credentials/"), url
        assert recording_id.encode() not in content, url
        assert b"Team line" not in content, url
    for url in (
        f"/credentials/{credential.pk}/activate/",
        f"/credentials/{credential.pk}/delete/",
        f"/credentials/{credential.pk}/sharing/",
    ):
        assert client.post(url).status_code in (403, 404), url
    assert space_calls(demo_space) == []
    assert Credential.objects.filter(pk=credential.pk).exists()
    assert DBTaskResult.objects.count() == 0


def test_a_user_outside_the_grant_reaches_nothing_of_the_credential_by_id(
    shared, sam_client, sam, victor, playable, demo_space
):
    sam.groups.add(group("Supervisor"))  # so he opens the costs pages too
    use_everything(sam_client, shared, playable)
    assert_refused_everywhere(browser_of(victor), shared, playable["id"], demo_space)


def test_a_revoked_agent_gets_nothing_cached_of_the_credential(
    shared, ada_client, sam_client, sam, playable, demo_space
):
    sam.groups.add(group("Supervisor"))  # so costs and deletes are refused for the grant
    use_everything(sam_client, shared, playable)
    share(ada_client, shared, groups=[])
    assert_refused_everywhere(sam_client, shared, playable["id"], demo_space)


def test_a_user_outside_the_grant_is_refused_the_activity_trail(shared, sam_client, carol):
    carol_client = browser_of(carol)
    assert carol_client.get("/activity/").status_code == 403
    assert carol_client.get("/activity/export.csv").status_code == 403
