"""Share links (issue 15): a Supervisor makes a link to one recording (or a moment in it)
for a chosen time of at most 7 days; colleagues who log in listen through the sharer's
credential, anyone holding it only with SHARE_LINKS_PUBLIC=1; listening only unless
download was allowed; revocable; every use audited with its address; rate-limited.

Users: conftest's alice (Supervisor, demo project), bob (no group, another project) and
carol (no credentials, no group)."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from demo_space import DEMO_PROJECT_ID
from recordings_app import sharing
from recordings_app.models import AuditEvent, Credential, ShareLink
from tests.conftest import body, text

Action = AuditEvent.Action


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_link(client, recording, **fields) -> str:
    """What the "Share a link" form sends; the link the page shows, as a local URL."""
    data = {"hours": "24", "at": "", **fields}
    response = client.post(f"/recordings/{recording['id']}/share/", data)
    assert response.status_code == 200, text(response)
    found = re.search(r'value="(http://testserver/shared/\?token=[^"]+)"', text(response))
    assert found, "the page shows the link"
    url = found.group(1)
    return url.removeprefix("http://testserver")


def audio_url(link: str) -> str:
    return link.replace("/shared/?", "/shared/audio/?")


# ------------------------------------------------------------------------ making links


def test_a_supervisor_makes_a_link_shown_once_and_kept_only_as_a_hash(alice_client, playable):
    link = make_link(alice_client, playable, at="0:07", allow_download="1")
    token = link.split("token=", 1)[1]
    assert len(token) >= 43  # 32 random bytes
    stored = ShareLink.objects.get()
    assert stored.token_hash == sharing.token_hash(token) and token not in stored.token_hash
    assert (stored.recording_id, stored.at_seconds, stored.allow_download) == (
        playable["id"],
        7,
        True,
    )
    assert (
        timedelta(hours=23, minutes=59) < stored.expires_at - timezone.now() <= timedelta(hours=24)
    )
    for row in ShareLink.objects.values_list():
        assert token not in " ".join(str(value) for value in row)
    for event in AuditEvent.objects.values_list("detail", flat=True):
        assert token not in event
    (made,) = AuditEvent.objects.filter(action=Action.SHARE_CREATE)
    assert made.recording_id == playable["id"] and "download allowed" in made.detail
    assert token not in text(alice_client.get("/shares/"))


def test_without_the_permission_there_is_no_form_no_menu_and_no_link(
    alice_client, bob, playable, alice
):
    """bob is no Supervisor: even on alice's credentials, shared with him, he cannot."""
    Credential.objects.get(user=alice).shared_with_users.add(bob)
    Credential.objects.filter(user=bob).delete()
    bob_client = browser_of(bob)
    page = text(bob_client.get(f"/recordings/{playable['id']}/"))
    assert "Share a link" not in page and 'href="/shares/"' not in page
    response = bob_client.post(f"/recordings/{playable['id']}/share/", {"hours": "24"})
    assert response.status_code == 403 and not ShareLink.objects.exists()
    page = text(alice_client.get(f"/recordings/{playable['id']}/"))
    assert "Share a link" in page and 'href="/shares/"' in page


@pytest.mark.parametrize("hours", ["169", "720", "0", "-1", "x"])
def test_a_link_is_valid_for_at_most_7_days(alice_client, playable, hours):
    response = alice_client.post(f"/recordings/{playable['id']}/share/", {"hours": hours})
    assert response.status_code == 400 and "not made" in text(response)
    assert not ShareLink.objects.exists()


def test_a_link_for_7_days_lasts_7_days(alice_client, playable):
    make_link(alice_client, playable, hours="168")
    left = ShareLink.objects.get().expires_at - timezone.now()
    assert timedelta(days=6, hours=23) < left <= timedelta(days=7)


def test_a_link_to_a_recording_the_sharer_cannot_see_is_not_made(alice_client):
    response = alice_client.post(
        "/recordings/3f1c2a9e-8b7d-4e21-9a55-0c6d2b1e7f40/share/", {"hours": "24"}
    )
    assert response.status_code == 404 and not ShareLink.objects.exists()


def test_a_recording_without_audio_is_not_shared(alice_client, demo_space):
    failed = demo_space.add_recording(DEMO_PROJECT_ID, status="failed", error_code="x")
    assert "Share a link" not in text(alice_client.get(f"/recordings/{failed['id']}/"))
    response = alice_client.post(f"/recordings/{failed['id']}/share/", {"hours": "24"})
    assert response.status_code == 400 and "no audio" in text(response)
    assert not ShareLink.objects.exists()


# ---------------------------------------------------------------------- opening links


def test_a_colleague_listens_through_the_sharers_credential(alice_client, bob, playable):
    link = make_link(alice_client, playable, at="7")
    bob_client = browser_of(bob)  # his own credentials open another project
    page = bob_client.get(link, REMOTE_ADDR="198.51.100.4")
    assert page.status_code == 200
    assert "Shared by alice" in text(page) and playable["id"] in text(page)
    assert "#t=7" in text(page) and 'controlslist="nodownload"' in text(page)
    audio = bob_client.get(audio_url(link), headers={"Range": "bytes=0-999"})
    assert audio.status_code == 206 and len(body(audio)) == 1000
    assert audio["Cache-Control"] == "private, no-store"
    (opened,) = AuditEvent.objects.filter(action=Action.SHARE_OPEN)
    assert (opened.username, opened.remote_addr, opened.recording_id) == (
        "bob",
        "198.51.100.4",
        playable["id"],
    )
    assert opened.credential_label == "Acme production" and "of alice" in opened.detail


def test_the_link_opens_that_recording_only(alice_client, bob, playable, demo_space):
    """Opening the link lends bob nothing else of alice's credentials: her recordings,
    this one included, stay out of reach of his own pages."""
    link = make_link(alice_client, playable)
    bob_client = browser_of(bob)
    assert bob_client.get(link).status_code == 200
    assert bob_client.get(f"/recordings/{playable['id']}/").status_code == 404
    assert bob_client.get(f"/recordings/{playable['id']}/audio/").status_code == 404
    listing = text(bob_client.get("/recordings/"))
    assert playable["id"] not in listing


def test_fetching_the_audio_alone_is_audited_as_a_listen_once_per_address(
    alice_client, bob, playable
):
    """Whoever fetches the audio URL without opening the page is in the trail too;
    seeking and replaying within half an hour are the same listen."""
    link = make_link(alice_client, playable)
    bob_client = browser_of(bob)
    for wanted in ("bytes=0-", "bytes=5000-5999", "bytes=0-99"):
        response = bob_client.get(
            audio_url(link), headers={"Range": wanted}, REMOTE_ADDR="198.51.100.6"
        )
        assert response.status_code == 206
        body(response)
    bob_client.get(audio_url(link), headers={"Range": "bytes=0-"}, REMOTE_ADDR="198.51.100.9")
    listens = AuditEvent.objects.filter(action=Action.SHARE_LISTEN).order_by("id")
    assert [(e.username, e.remote_addr) for e in listens] == [
        ("bob", "198.51.100.6"),
        ("bob", "198.51.100.9"),
    ]
    assert not AuditEvent.objects.filter(action=Action.SHARE_OPEN).exists()


def test_by_default_the_link_needs_a_log_in(alice_client, playable, client):
    link = make_link(alice_client, playable)
    anonymous = Client()
    page = anonymous.get(link)
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/?next=")
    assert anonymous.get(audio_url(link)).status_code == 403
    assert not AuditEvent.objects.filter(action=Action.SHARE_OPEN).exists()


def test_with_share_links_public_anyone_holding_the_link_listens(alice_client, playable, settings):
    settings.SHARE_LINKS_PUBLIC = True
    link = make_link(alice_client, playable)
    anonymous = Client()
    page = anonymous.get(link, REMOTE_ADDR="203.0.113.9")
    assert page.status_code == 200 and "Shared by alice" in text(page)
    audio = anonymous.get(audio_url(link), headers={"Range": "bytes=0-99"})
    assert audio.status_code == 206 and len(body(audio)) == 100
    (opened,) = AuditEvent.objects.filter(action=Action.SHARE_OPEN)
    assert opened.username == "" and opened.remote_addr == "203.0.113.9"
    assert opened.detail.startswith("someone not logged in")


def test_listening_only_refuses_the_download(alice_client, bob, playable):
    link = make_link(alice_client, playable)
    bob_client = browser_of(bob)
    assert "download=1" not in text(bob_client.get(link))
    response = bob_client.get(audio_url(link) + "&download=1")
    assert response.status_code == 403 and "Listening only" in text(response)
    (refused,) = AuditEvent.objects.filter(action=Action.SHARE_REFUSED)
    assert "Download not allowed" in refused.detail and refused.username == "bob"


def test_allow_download_delivers_the_file_as_an_attachment(alice_client, bob, playable):
    link = make_link(alice_client, playable, allow_download="on")
    bob_client = browser_of(bob)
    assert "download=1" in text(bob_client.get(link))
    response = bob_client.get(audio_url(link) + "&download=1", REMOTE_ADDR="198.51.100.8")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="')
    assert len(body(response)) == playable["byte_size"]
    (download,) = AuditEvent.objects.filter(action=Action.SHARE_DOWNLOAD)
    assert download.username == "bob" and download.remote_addr == "198.51.100.8"


# ------------------------------------------------------------- links that stop working


def test_an_expired_link_says_so_with_410(alice_client, bob, playable):
    link = make_link(alice_client, playable)
    ShareLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    bob_client = browser_of(bob)
    for url in (link, audio_url(link)):
        response = bob_client.get(url, REMOTE_ADDR="198.51.100.5")
        assert response.status_code == 410 and "It has expired" in text(response)
    refused = AuditEvent.objects.filter(action=Action.SHARE_REFUSED)
    assert refused.count() == 2 and {e.remote_addr for e in refused} == {"198.51.100.5"}
    assert "You have no live share links." in text(alice_client.get("/shares/"))


def test_a_revoked_link_says_so_with_410(alice_client, bob, playable):
    link = make_link(alice_client, playable)
    listing = text(alice_client.get("/shares/"))
    assert playable["id"] in listing and "Revoke" in listing
    pk = ShareLink.objects.get().pk
    assert alice_client.post(f"/shares/{pk}/revoke/").status_code == 302
    response = browser_of(bob).get(link)
    assert response.status_code == 410 and "revoked" in text(response)
    assert playable["id"] not in text(alice_client.get("/shares/"))
    assert AuditEvent.objects.filter(action=Action.SHARE_REVOKE).count() == 1


def test_nobody_revokes_anothers_link(alice_client, bob, playable):
    make_link(alice_client, playable)
    pk = ShareLink.objects.get().pk
    assert browser_of(bob).post(f"/shares/{pk}/revoke/").status_code == 404
    assert ShareLink.objects.get().revoked_at is None


def test_a_link_stops_when_its_sharer_loses_the_permission(alice, alice_client, bob, playable):
    link = make_link(alice_client, playable)
    alice.groups.remove(Group.objects.get(name="Supervisor"))
    response = browser_of(bob).get(link)
    assert response.status_code == 410 and "may no longer share" in text(response)


def test_a_made_up_token_is_a_404(bob):
    response = browser_of(bob).get("/shared/?token=" + "A" * 43)
    assert response.status_code == 404 and "not one the dashboard made" in text(response)


# ----------------------------------------------------------------------- rate limiting


def test_each_address_is_rate_limited_good_tokens_or_bad(alice_client, bob, playable, settings):
    settings.SHARE_LINKS_PUBLIC = True
    link = make_link(alice_client, playable)
    guesser = Client()
    for _ in range(sharing.RATE_LIMIT):
        assert guesser.get("/shared/?token=guess", REMOTE_ADDR="192.0.2.66").status_code == 404
    response = guesser.get(link, REMOTE_ADDR="192.0.2.66")
    assert response.status_code == 429 and "Wait a minute" in text(response)
    assert 0 < int(response["Retry-After"]) <= sharing.RATE_WINDOW
    assert guesser.get(link, REMOTE_ADDR="192.0.2.67").status_code == 200  # another address
