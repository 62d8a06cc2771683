"""Notes and tags on a recording (issue 15): written on the recording's page, kept per
credential (everyone on a shared credential sees them), editable by their author for
15 minutes, searchable from the list, audited.

Users: conftest's alice (Supervisor, demo project), bob (another project), carol (no
credentials); sam, a Support agent using alice's credentials, shared with him by name."""

import html
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from demo_space import DEMO_API_TOKEN, DEMO_PROJECT_ID
from recordings_app import index
from recordings_app.models import AuditEvent, Credential, RecordingNote, RecordingTag
from tests.conftest import make_credential, text

Action = AuditEvent.Action


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def sam(alice):
    """A Support agent who uses alice's credentials, shared with him by name."""
    user = User.objects.create_user("sam", password="sam-password")
    user.groups.add(Group.objects.get(name="Support"))
    Credential.objects.get(user=alice).shared_with_users.add(user)
    return user


def page_of(client, recording) -> str:
    response = client.get(f"/recordings/{recording['id']}/")
    assert response.status_code == 200
    return text(response)


def add_note(client, recording, note, at="", **headers):
    return client.post(f"/recordings/{recording['id']}/notes/", {"text": note, "at": at}, **headers)


@pytest.fixture
def clock(monkeypatch):
    """Moves the dashboard's clock on: `clock(minutes=16)`."""
    real_now = timezone.now

    def move(**delta):
        monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(**delta))

    return move


# ---------------------------------------------------------------------- writing them


def test_a_note_at_a_moment_shows_in_the_list_beside_the_player(alice_client, playable):
    response = add_note(alice_client, playable, "The caller gives the order number", at="0:05")
    assert response.status_code == 302
    assert response["Location"] == f"/recordings/{playable['id']}/#notes"
    page = page_of(alice_client, playable)
    assert "The caller gives the order number" in page
    assert 'data-note-at="5"' in page and 'data-note-seek="5"' in page
    assert ">0:00:05</button>" in page
    note = RecordingNote.objects.get()
    assert (note.author_name, note.at_seconds, note.recording_id) == ("alice", 5, playable["id"])


def test_htmx_gets_the_notes_panel_back_alone(alice_client, playable):
    response = add_note(alice_client, playable, "Refund promised", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = text(response)
    assert page.lstrip().startswith('<section class="notes-panel"')
    assert "Refund promised" in page and "<html" not in page


def test_note_text_is_escaped_and_its_length_limited(alice_client, playable):
    add_note(alice_client, playable, '<script>alert("x")</script> & more')
    page = page_of(alice_client, playable)
    assert "<script>alert" not in page
    assert html.escape('<script>alert("x")</script> & more') in page
    response = add_note(alice_client, playable, "x" * 2001, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "at most 2000 characters" in text(response)
    assert RecordingNote.objects.count() == 1


@pytest.mark.parametrize(
    ("typed", "seconds"), [("151", 151), ("2:31", 151), ("1:02:31", 3751), ("", None)]
)
def test_a_moment_is_typed_as_seconds_or_minutes_and_seconds(
    alice_client, playable, typed, seconds
):
    add_note(alice_client, playable, "here", at=typed)
    assert RecordingNote.objects.get().at_seconds == seconds


def test_a_moment_that_is_no_time_is_refused_with_the_reason(alice_client, playable):
    response = add_note(alice_client, playable, "here", at="2:75", HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "go up to 59" in text(response)
    response = add_note(alice_client, playable, "here", at="soon", HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "2:31" in text(response)
    assert not RecordingNote.objects.exists()


def test_tags_are_words_kept_once_and_removable(alice_client, playable):
    url = f"/recordings/{playable['id']}/tags/"
    assert alice_client.post(url, {"tags": "Refund, #escalated refund"}).status_code == 302
    assert sorted(RecordingTag.objects.values_list("name", flat=True)) == ["escalated", "refund"]
    page = page_of(alice_client, playable)
    assert 'href="/recordings/?tag=refund"' in page and "#escalated" in page
    response = alice_client.post(url, {"tags": "no spaces<>"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "A tag is a word" in text(response)
    alice_client.post(f"/recordings/{playable['id']}/tags/refund/remove/")
    assert list(RecordingTag.objects.values_list("name", flat=True)) == ["escalated"]


# ------------------------------------------------------------------------ who sees them


def test_notes_are_only_for_recordings_the_users_credential_holds(bob_client, carol, playable):
    response = add_note(bob_client, playable, "not mine")
    assert response.status_code == 404  # SignalWire: bob's project has no such recording
    response = add_note(browser_of(carol), playable, "no credentials")
    assert response.status_code == 302 and response["Location"] == "/credentials/add/"
    assert not RecordingNote.objects.exists()


def test_everyone_on_a_shared_credential_sees_the_same_notes_and_tags(alice_client, sam, playable):
    sam_client = browser_of(sam)
    add_note(sam_client, playable, "Sam was here", at="3")
    sam_client.post(f"/recordings/{playable['id']}/tags/", {"tags": "billing"})
    page = page_of(alice_client, playable)
    assert "Sam was here" in page and "#billing" in page
    assert "sam, " in page  # the author


def test_another_credential_of_the_same_project_has_its_own_notes(alice, alice_client, playable):
    add_note(alice_client, playable, "On the production credentials")
    Credential.objects.filter(user=alice).update(is_active=False)
    make_credential(alice, "Acme staging", DEMO_PROJECT_ID, DEMO_API_TOKEN)
    page = page_of(alice_client, playable)
    assert "On the production credentials" not in page and "No notes yet." in page


def test_a_note_of_another_credential_cannot_be_edited_through_this_one(
    alice, alice_client, playable
):
    add_note(alice_client, playable, "First")
    note = RecordingNote.objects.get()
    Credential.objects.filter(user=alice).update(is_active=False)
    make_credential(alice, "Acme staging", DEMO_PROJECT_ID, DEMO_API_TOKEN)
    response = alice_client.post(
        f"/recordings/{playable['id']}/notes/{note.pk}/", {"text": "Changed"}
    )
    assert response.status_code == 404
    assert RecordingNote.objects.get().text == "First"


# ------------------------------------------------------------------------ editing them


def test_the_author_edits_a_note_within_15_minutes_and_never_after(alice_client, playable, clock):
    add_note(alice_client, playable, "First words", at="4")
    note = RecordingNote.objects.get()
    edit = f"/recordings/{playable['id']}/notes/{note.pk}/"
    clock(minutes=14, seconds=50)
    assert 'class="note-edit"' in page_of(alice_client, playable)
    assert alice_client.post(edit, {"text": "Better words", "at": "6"}).status_code == 302
    note.refresh_from_db()
    assert (note.text, note.at_seconds) == ("Better words", 6) and note.edited_at
    assert "(edited)" in page_of(alice_client, playable)
    clock(minutes=15, seconds=1)
    assert 'class="note-edit"' not in page_of(alice_client, playable)
    response = alice_client.post(edit, {"text": "Too late"})
    assert response.status_code == 403 and "no longer be changed" in text(response)
    note.refresh_from_db()
    assert note.text == "Better words"


def test_only_the_author_may_edit_a_note(alice_client, sam, playable):
    add_note(alice_client, playable, "alice's note")
    note = RecordingNote.objects.get()
    sam_client = browser_of(sam)
    assert 'class="note-edit"' not in page_of(sam_client, playable)
    response = sam_client.post(f"/recordings/{playable['id']}/notes/{note.pk}/", {"text": "sam's"})
    assert response.status_code == 403 and "Only the author" in text(response)
    assert RecordingNote.objects.get().text == "alice's note"


# ----------------------------------------------------------------------------- audited


def test_adding_editing_and_tagging_are_audited(alice_client, playable):
    add_note(alice_client, playable, "Noted", at="2", REMOTE_ADDR="192.0.2.7")
    note = RecordingNote.objects.get()
    alice_client.post(f"/recordings/{playable['id']}/notes/{note.pk}/", {"text": "Noted again"})
    alice_client.post(f"/recordings/{playable['id']}/tags/", {"tags": "vip"})
    alice_client.post(f"/recordings/{playable['id']}/tags/vip/remove/")
    events = AuditEvent.objects.exclude(action=Action.VIEW).order_by("id")
    assert [(e.action, e.detail) for e in events] == [
        (Action.NOTE_ADD, f"Note {note.pk} at 2 s"),
        (Action.NOTE_EDIT, f"Note {note.pk}"),
        (Action.TAG_ADD, "vip"),
        (Action.TAG_REMOVE, "vip"),
    ]
    assert {e.recording_id for e in events} == {playable["id"]}
    assert events[0].remote_addr == "192.0.2.7" and events[0].credential_label == "Acme production"


# -------------------------------------------------------------------------- searching


@pytest.fixture
def indexed(alice):
    index.run_sync(Credential.objects.get(user=alice))


def shown(response) -> list[str]:
    return [r.id for r in response.context["table"].recordings]


def test_the_search_box_finds_a_recording_by_its_notes_words(alice_client, indexed, playable):
    add_note(alice_client, playable, "At 2:31 the caller gives the ORDER number")
    response = alice_client.get("/recordings/", {"q": "order number"})
    assert response.status_code == 200 and shown(response) == [playable["id"]]


def test_the_search_box_and_the_tag_filter_find_tagged_recordings(alice_client, indexed, playable):
    alice_client.post(f"/recordings/{playable['id']}/tags/", {"tags": "refund"})
    for query in ({"q": "refund"}, {"q": "#refund"}, {"tag": "refund"}, {"tag": "Refund"}):
        response = alice_client.get("/recordings/", query)
        assert response.status_code == 200 and shown(response) == [playable["id"]], query
    assert 'value="refund"' in text(alice_client.get("/recordings/", {"tag": "refund"}))


def test_words_in_no_note_or_tag_are_refused_with_the_reason(alice_client, indexed, playable):
    add_note(alice_client, playable, "order number")
    response = alice_client.get("/recordings/", {"q": "invoice"})
    assert response.status_code == 400
    assert "no note or tag of Acme production has “invoice”" in text(response)


def test_another_credentials_notes_are_never_searched(alice_client, sam, playable, indexed):
    """bob's own notes on his project never make alice's search find anything, and vice
    versa: notes are read through the searching user's credential only."""
    add_note(alice_client, playable, "secret words")
    bob = User.objects.create_user("bob2")
    make_credential(bob, "Bob's copy", DEMO_PROJECT_ID, DEMO_API_TOKEN)
    index.run_sync(Credential.objects.get(user=bob))
    response = browser_of(bob).get("/recordings/", {"q": "secret words"})
    assert response.status_code == 400
    sam_response = browser_of(sam).get("/recordings/", {"q": "secret words"})
    assert sam_response.status_code == 200 and shown(sam_response) == [playable["id"]]


def test_a_bad_tag_filter_is_marked(alice_client, indexed):
    response = alice_client.get("/recordings/", {"tag": "<b>"})
    assert response.status_code == 400 and "A tag is a word" in text(response)
