"""The audit trail: what is recorded, what Supervisors see, and that it cannot be changed."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from demo_space import DEMO_API_TOKEN, DEMO_PROJECT_ID
from recordings_app.models import AuditEvent, Credential

Action = AuditEvent.Action


def events(**filters):
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


def audio(client, recording_id, **headers):
    response = client.get(f"/recordings/{recording_id}/audio/", headers=headers)
    b"".join(response.streaming_content)
    return response


def played(client, recording_id):
    """What the player sends when someone presses play."""
    return client.post(f"/recordings/{recording_id}/played/")


def test_viewing_a_recording_records_who_when_where_and_with_which_credentials(
    alice_client, playable
):
    before = timezone.now()
    alice_client.get(
        f"/recordings/{playable['id']}/",
        REMOTE_ADDR="192.0.2.10",
        headers={"User-Agent": "Firefox/130"},
    )
    (event,) = events()
    assert (event.username, event.action, event.recording_id) == (
        "alice",
        Action.VIEW,
        playable["id"],
    )
    assert event.credential_label == "Acme production" and event.space == "demo"
    assert event.remote_addr == "192.0.2.10" and event.user_agent == "Firefox/130"
    assert before <= event.at <= timezone.now()


def test_no_audit_row_ever_holds_the_token(alice_client, alice, playable):
    alice_client.get(f"/recordings/{playable['id']}/")
    played(alice_client, playable["id"])
    alice_client.post(f"/recordings/{playable['id']}/delete/")
    credential = Credential.objects.get(user=alice)
    alice_client.post(f"/credentials/{credential.pk}/delete/")
    rows = list(AuditEvent.objects.values_list())
    assert len(rows) == 4
    assert DEMO_API_TOKEN not in repr(rows) and DEMO_API_TOKEN[-8:] not in repr(rows)


def test_a_failed_page_is_not_a_view(alice_client, demo_space, playable):
    demo_space.add_fault(status=404, body={"error": "Not Found"}, path_prefix="/api/")
    alice_client.get(f"/recordings/{playable['id']}/")
    assert events() == []


def test_opening_a_page_and_fetching_its_audio_is_a_view_not_a_play(alice_client, playable):
    # What a browser does for a page with a player: the page, then the audio's start (to
    # read its length), then more of it; nobody pressed play.
    alice_client.get(f"/recordings/{playable['id']}/")
    audio(alice_client, playable["id"], Range="bytes=0-")
    audio(alice_client, playable["id"])
    audio(alice_client, playable["id"], Range="bytes=1000-")
    alice_client.head(f"/recordings/{playable['id']}/audio/")
    assert [e.action for e in events()] == [Action.VIEW]
    page = alice_client.get(f"/recordings/{playable['id']}/")
    assert "Nobody has played it here yet." in page.content.decode()


def test_pressing_play_is_a_play_and_a_listening_session_is_one(alice_client, playable):
    assert played(alice_client, playable["id"]).status_code == 204
    played(alice_client, playable["id"])  # pause and play again within the session
    played(alice_client, playable["id"])
    assert [e.action for e in events()] == [Action.PLAY]
    page = alice_client.get(f"/recordings/{playable['id']}/").content.decode()
    assert "Nobody has played it here yet." not in page
    assert "alice, <time" in page


def test_who_listened_shows_local_time_with_utc_on_hover(berlin_client, alice, playable):
    alice_client = berlin_client
    # Audit rows are never changed (not even by a test): the play is recorded as of then.
    AuditEvent.objects.create(
        user=alice,
        username="alice",
        action=Action.PLAY,
        recording_id=playable["id"],
        at=datetime(2026, 7, 1, 22, 30, tzinfo=UTC),
    )
    page = alice_client.get(f"/recordings/{playable['id']}/").content.decode()
    listened = page.split("Who listened")[1]
    assert 'title="2026-07-01 22:30:00 UTC">Jul 2, 2026 00:30</time>' in listened
    activity = alice_client.get("/activity/?action=play").content.decode()
    assert 'title="2026-07-01 22:30:00 UTC">Jul 2, 2026 00:30:00 CEST</time>' in activity


def test_coming_back_after_30_minutes_is_a_new_play(alice_client, alice, playable):
    AuditEvent.objects.create(
        user=alice,
        username="alice",
        action=Action.PLAY,
        recording_id=playable["id"],
        at=timezone.now() - timedelta(minutes=31),
    )
    played(alice_client, playable["id"])
    assert [e.action for e in events()] == [Action.PLAY, Action.PLAY]


def test_a_play_is_reported_by_post_only(alice_client, playable):
    assert alice_client.get(f"/recordings/{playable['id']}/played/").status_code == 405
    assert events() == []


def test_each_user_has_their_own_listening_session(alice_client, alice, playable):
    carol = User.objects.create_user("carol2", password="x")
    credential = Credential(user=carol, label="Acme", space="demo", project_id=DEMO_PROJECT_ID)
    credential.set_token(DEMO_API_TOKEN)
    credential.is_active = True
    credential.save()
    other = Client()
    other.force_login(carol)
    played(alice_client, playable["id"])
    played(other, playable["id"])
    assert [e.username for e in events(action=Action.PLAY)] == ["alice", "carol2"]


def test_every_download_is_recorded_but_not_its_resumption(alice_client, playable):
    url = f"/recordings/{playable['id']}/audio/?download=1"
    b"".join(alice_client.get(url).streaming_content)
    b"".join(alice_client.get(url).streaming_content)
    b"".join(alice_client.get(url, headers={"Range": "bytes=4000-"}).streaming_content)
    assert [e.action for e in events()] == [Action.DOWNLOAD, Action.DOWNLOAD]


def test_a_failed_fetch_is_not_a_play_nor_a_download_but_a_failed_one(
    alice_client, demo_space, playable
):
    demo_space.add_fault(status=503, body="", path_prefix="/media/")
    audio_response = alice_client.get(f"/recordings/{playable['id']}/audio/?download=1")
    assert audio_response.status_code == 502
    assert played(alice_client, "00000000-0000-4000-8000-000000000000").status_code == 404
    # The player's own fetch of the audio failing is no attempt to play or download.
    assert alice_client.get(f"/recordings/{playable['id']}/audio/").status_code == 502
    assert [e.action for e in events()] == [Action.DOWNLOAD_FAILED, Action.PLAY_FAILED]


def test_deletes_are_recorded_done_or_failed(alice_client, demo_space, playable):
    demo_space.add_fault(status=500, body={}, method="DELETE", times=1)
    alice_client.post(f"/recordings/{playable['id']}/delete/")
    alice_client.post(f"/recordings/{playable['id']}/delete/")
    alice_client.post(f"/recordings/{playable['id']}/delete/")
    assert [(e.action, e.detail) for e in events()] == [
        (Action.DELETE_FAILED, "SignalWire had a problem"),
        (Action.DELETE, ""),
        (Action.DELETE_FAILED, "Already deleted (SignalWire answered 404)"),
    ]
    assert {e.recording_id for e in events()} == {playable["id"]}


def test_credential_changes_are_recorded(alice_client, alice):
    first = Credential.objects.get(user=alice)
    spare = Credential(user=alice, label="Spare", space="demo", project_id=DEMO_PROJECT_ID)
    spare.set_token(DEMO_API_TOKEN)
    spare.save()
    alice_client.post(f"/credentials/{spare.pk}/activate/")
    alice_client.post(f"/credentials/{spare.pk}/delete/")
    alice_client.post(
        "/credentials/add/",
        {
            "label": "New one",
            "space": "demo",
            "project_id": DEMO_PROJECT_ID,
            "api_token": DEMO_API_TOKEN,
        },
    )
    assert [(e.action, e.credential_label) for e in events()] == [
        (Action.CREDENTIAL_ACTIVATE, "Spare"),
        (Action.CREDENTIAL_REMOVE, "Spare"),
        (Action.CREDENTIAL_ACTIVATE, first.label),
        (Action.CREDENTIAL_ADD, "New one"),
    ]


# ---------------------------------------------------------------------- who listened


def test_the_recording_page_shows_who_listened_and_when(alice_client, bob, playable):
    AuditEvent.objects.create(
        username="dave", action=Action.PLAY, recording_id=playable["id"], at=timezone.now()
    )
    AuditEvent.objects.create(username="erin", action=Action.VIEW, recording_id=playable["id"])
    html = alice_client.get(f"/recordings/{playable['id']}/").content.decode()
    section = html.split("Who listened", 1)[1]
    assert "dave" in section and "erin" not in section
    assert "<time datetime=" in section


def test_a_recording_nobody_played_says_so(alice_client, playable):
    html = alice_client.get(f"/recordings/{playable['id']}/").content.decode()
    assert "Nobody has played it here yet." in html


# --------------------------------------------------------------------- Activity page


@pytest.fixture
def trail(alice, bob):
    now = timezone.now()
    rows = [
        ("alice", Action.PLAY, "11111111-1111-4111-8111-111111111111", now - timedelta(days=3)),
        ("alice", Action.DELETE, "22222222-2222-4222-8222-222222222222", now - timedelta(days=1)),
        ("bob", Action.VIEW, "11111111-1111-4111-8111-111111111111", now),
        ("bob", Action.CREDENTIAL_ADD, "", now),
    ]
    for username, action, recording_id, at in rows:
        AuditEvent.objects.create(
            username=username,
            user=User.objects.get(username=username),
            action=action,
            recording_id=recording_id,
            at=at,
            user_agent='=HYPERLINK("http://evil.example")',
        )


def activity_rows(html: str) -> int:
    return (
        html.split("<tbody>", 1)[1].split("</tbody>", 1)[0].count("<tr>")
        if "<tbody>" in html
        else 0
    )


@pytest.mark.no_upstream
@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("", 4),
        ("?user=bob", 2),
        ("?recording=11111111-1111-4111-8111-111111111111", 2),
        ("?action=delete", 1),
        ("?action=play&user=alice", 1),
        ("?since={two_days_ago}", 3),
        ("?until={two_days_ago}", 1),
    ],
)
def test_supervisors_filter_the_activity(alice_client, trail, query, count):
    two_days_ago = (timezone.now() - timedelta(days=2)).date().isoformat()
    response = alice_client.get("/activity/" + query.format(two_days_ago=two_days_ago))
    assert response.status_code == 200
    assert activity_rows(response.content.decode()) == count


@pytest.mark.no_upstream
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?action=explode", "Select a valid choice"),
        ("?recording=not-an-id", "A recording ID looks like"),
        ("?since=yesterday", "Enter a valid date"),
        ("?since=2026-02-30", "Enter a valid date"),
        ("?since=2026-05-02&until=2026-05-01", "“From” is after “To”"),
        ("?page=0", "Choose a page from 1 to"),
        ("?page=99", "Choose a page from 1 to"),
        ("?page=abc", "Choose a page from 1 to"),
        ("?user=" + "x" * 300, "at most 150 characters"),
    ],
)
def test_garbage_filters_are_a_400_with_a_message(alice_client, trail, query, message):
    response = alice_client.get("/activity/" + query)
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.no_upstream
def test_the_csv_export_streams_the_filtered_events(alice_client, trail):
    response = alice_client.get("/activity/export.csv?user=alice")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="activity.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["username"], r["action"]) for r in rows] == [("alice", "delete"), ("alice", "play")]


@pytest.mark.no_upstream
def test_only_supervisors_see_the_activity(bob_client, alice_client, trail):
    assert bob_client.get("/activity/").status_code == 403
    assert bob_client.get("/activity/export.csv").status_code == 403
    assert "Activity" not in bob_client.get("/credentials/").content.decode().split("</nav>")[0]
    assert 'href="/activity/"' in alice_client.get("/credentials/").content.decode()


@pytest.mark.no_upstream
def test_the_supervisor_group_grants_the_activity_permission(db):
    codenames = Group.objects.get(name="Supervisor").permissions.values_list("codename", flat=True)
    assert "view_activity" in codenames
    assert "view_activity" not in Group.objects.get(name="Support").permissions.values_list(
        "codename", flat=True
    )


# ------------------------------------------------------------------ cannot be changed


@pytest.mark.no_upstream
def test_audit_rows_cannot_be_changed_or_deleted_through_the_model(trail):
    event = AuditEvent.objects.first()
    event.detail = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    assert AuditEvent.objects.filter(detail="rewritten").count() == 0


@pytest.fixture
def admin_client_(trail):
    admin = User.objects.create_superuser("root", password="root-password")
    client = Client()
    client.force_login(admin)
    return client


@pytest.mark.no_upstream
def test_the_admin_shows_the_trail_read_only(admin_client_):
    event = AuditEvent.objects.first()
    base = "/admin/recordings_app/auditevent/"
    listing = admin_client_.get(base)
    assert listing.status_code == 200 and "alice" in listing.content.decode()
    assert admin_client_.get(base + "add/").status_code == 403
    assert admin_client_.get(f"{base}{event.pk}/delete/").status_code == 403
    change = admin_client_.post(f"{base}{event.pk}/change/", {"detail": "rewritten"})
    assert change.status_code == 403
    bulk = admin_client_.post(
        base, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)
    assert AuditEvent.objects.count() == 4
    assert not AuditEvent.objects.filter(detail="rewritten").exists()
    model_admin = site._registry[AuditEvent]
    assert "delete_selected" not in model_admin.get_actions(listing.wsgi_request)
