"""The recording page. Malformed IDs, other projects' recordings and markup from upstream
are in test_bad_input.py; upstream failures in test_upstream_faults.py."""

import pytest

from demo_space import DEMO_PROJECT_ID


def first_of_kind(demo_space, kind):
    for raw in demo_space.recordings(DEMO_PROJECT_ID):
        legs = [key for key in raw if key.endswith("_leg_id")]
        if kind == "conference" and not legs:
            return raw
        if legs == [f"relay_{kind}_leg_id"]:
            return raw
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("kind", "label"),
    [("pstn", "PSTN"), ("sip", "SIP"), ("webrtc", "WebRTC"), ("conference", "Conference")],
)
def test_the_detail_page_of_every_source_kind(alice_client, demo_space, kind, label):
    raw = first_of_kind(demo_space, kind)
    html = alice_client.get(f"/recordings/{raw['id']}/").content.decode()
    assert f"<dt>Source</dt><dd>{label}</dd>" in html
    leg_or_conference = raw.get(f"relay_{kind}_leg_id") or raw["relay_conference_id"]
    assert leg_or_conference in html
    for label_text in (
        "Created",
        "Updated",
        "Duration",
        "Price",
        "Status",
        "Track",
        "Channels",
        "Size",
        "Project ID",
    ):
        assert f"<dt>{label_text}</dt>" in html


def test_the_player_plays_through_the_dashboard_not_upstream(alice_client, demo_space, playable):
    html = alice_client.get(f"/recordings/{playable['id']}/").content.decode()
    audio = f"/recordings/{playable['id']}/audio/"
    assert f'<audio controls preload="metadata" src="{audio}">' in html
    assert playable["url"] not in html and demo_space.base_url not in html
    assert f'href="{audio}?download=1"' in html


def test_a_failed_recording_says_why_instead_of_a_dead_player(alice_client, demo_space):
    raw = demo_space.add_recording(DEMO_PROJECT_ID, status="failed", error_code="media_timeout")
    html = alice_client.get(f"/recordings/{raw['id']}/").content.decode()
    assert "<audio" not in html
    assert "The recording failed with error code <code>media_timeout</code>" in html


def test_an_unknown_recording_is_a_friendly_404(alice_client):
    response = alice_client.get("/recordings/00000000-0000-4000-8000-000000000000/")
    assert response.status_code == 404
    assert "Recording not found" in response.content.decode()
