"""Shared credentials in a real browser (issue 13): an Admin shares a credential with
the Support group, an agent with none of his own uses it, the Admin takes it back."""

import re

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from demo_space import DEMO_API_TOKEN, DEMO_PROJECT_ID
from tests.browser.conftest import log_in
from tests.conftest import make_credential


@pytest.fixture
def ada(db):
    """An Admin with the team's credentials, shared with nobody yet."""
    user = User.objects.create_user("ada", password="ada-password")
    user.groups.add(Group.objects.get(name="Admin"))
    make_credential(user, "Team line", DEMO_PROJECT_ID, DEMO_API_TOKEN)
    return user


@pytest.fixture
def sam(db):
    """A Support agent with no credentials of his own."""
    user = User.objects.create_user("sam", password="sam-password")
    user.groups.add(Group.objects.get(name="Support"))
    return user


def set_sharing(page, support: bool) -> None:
    page.goto("/credentials/")
    page.get_by_role("link", name="Share Team line").click()
    share_with = page.get_by_role("group", name="Share with")
    checkbox = share_with.get_by_label("Support", exact=True)
    checkbox.check() if support else checkbox.uncheck()
    page.get_by_role("button", name="Save sharing").click()
    page.wait_for_url("**/credentials/")


def test_an_admin_shares_with_support_an_agent_plays_then_the_admin_revokes(
    page, browser, live_server, ada, sam, stereo_recording, axe
):
    log_in(page, "ada", "ada-password")
    page.wait_for_url("**/recordings/")
    page.get_by_role("link", name="Credentials").click()
    page.get_by_role("link", name="Share Team line").click()
    expect(page.get_by_role("group", name="Share with")).to_be_visible()
    assert axe(page) == []
    set_sharing(page, support=True)
    expect(page.get_by_text("Credentials “Team line” are shared with Support.")).to_be_visible()
    expect(page.get_by_role("cell", name="Support", exact=True)).to_be_visible()

    agent_context = browser.new_context(base_url=live_server.url, timezone_id="Europe/Berlin")
    agent = agent_context.new_page()
    try:
        # sam has no credentials of his own and exactly one shared: straight to the list.
        log_in(agent, "sam", "sam-password")
        agent.wait_for_url("**/recordings/")
        expect(agent.get_by_text("Team line · space demo")).to_be_visible()
        rows = agent.locator("#recordings-table tbody tr")
        link = f"a[href='/recordings/{stereo_recording['id']}/']"
        expect(rows.first.locator(link)).to_have_count(1)
        rows.first.get_by_role("button", name=re.compile("^Play the recording")).click()
        agent.wait_for_function(
            "() => { const p = window.recordingsPlayer.state();"
            " return !p.paused && p.currentTime > 1 }"
        )

        # His picker: the shared credential, marked so, without its project or token.
        agent.get_by_role("link", name="Credentials").click()
        shared_row = agent.get_by_role("row", name=re.compile("Team line"))
        expect(shared_row).to_contain_text("shared")
        expect(shared_row).to_contain_text("ada")
        expect(agent.get_by_text(DEMO_PROJECT_ID)).to_have_count(0)
        expect(agent.get_by_text(DEMO_API_TOKEN[-4:])).to_have_count(0)
        expect(agent.get_by_role("button", name=re.compile("Remove"))).to_have_count(0)
        assert axe(agent) == []

        set_sharing(page, support=False)
        expect(page.get_by_text("no longer shared with anyone")).to_be_visible()

        # His next page load: nothing of that credential's any more.
        agent.goto("/recordings/")
        expect(agent).to_have_url(re.compile(r"/credentials/add/$"))
        expect(agent.get_by_text("“Team line” is no longer shared with you.")).to_be_visible()
        expect(agent.locator(link)).to_have_count(0)
        agent.goto(f"/recordings/{stereo_recording['id']}/")
        expect(agent).to_have_url(re.compile(r"/credentials/add/$"))
        agent.goto("/credentials/")
        expect(agent.get_by_text("Team line")).to_have_count(0)
    finally:
        agent_context.close()
