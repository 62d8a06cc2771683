"""A share link in a real browser (issue 15): alice, a Supervisor, makes a link to a
moment of a recording; bob, logged in with credentials of another project, opens it
and it plays from that moment."""

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from demo_space import DEMO_PROJECT_ID, OTHER_API_TOKEN, OTHER_PROJECT_ID
from tests.conftest import make_credential


@pytest.fixture
def bob(db):
    user = User.objects.create_user("bob", password="bob-password")
    make_credential(user, "Bob's project", OTHER_PROJECT_ID, OTHER_API_TOKEN)
    return user


def test_a_link_made_by_alice_plays_for_bob_from_its_moment(
    demo_space, alice_page, bob, browser, live_server, axe
):
    call = demo_space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=60, stereo=False)
    page = alice_page
    page.goto(f"/recordings/{call['id']}/")
    page.get_by_text("Share a link…").click()
    page.get_by_label("Valid for").select_option(label="1 hour")
    page.get_by_label("From the moment (optional)").fill("0:20")
    page.get_by_role("button", name="Make link").click()
    expect(page.get_by_role("heading", name="Share link made")).to_be_visible()
    url = page.get_by_label("Link").input_value()
    assert re.fullmatch(re.escape(live_server.url) + r"/shared/\?token=[\w-]{43}", url)
    page.get_by_role("link", name="Share links", exact=True).first.click()
    expect(page.get_by_role("button", name=re.compile("^Revoke"))).to_have_count(1)

    context = browser.new_context(base_url=live_server.url, timezone_id="Europe/Berlin")
    other = context.new_page()
    try:
        other.goto(url)
        other.wait_for_url("**/accounts/login/**")  # for colleagues who log in
        other.get_by_label("Username").fill("bob")
        other.get_by_label("Password").fill("bob-password")
        other.get_by_role("button", name="Log in").click()
        other.wait_for_url(re.compile(r"/shared/\?token="))
        expect(other.get_by_text("Shared by alice")).to_be_visible()
        audio = other.locator("audio[data-shared-audio]")
        expect(audio).to_have_attribute("controlslist", "nodownload")
        audio.evaluate("a => a.play()")
        other.wait_for_function(
            "() => { const a = document.querySelector('audio[data-shared-audio]');"
            " return !a.paused && a.currentTime > 20.5 }"
        )
        assert axe(other) == []
    finally:
        context.close()
