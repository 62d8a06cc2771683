"""A person logs in with the company's identity provider, in a real browser: the button
on the dashboard's log-in page, the provider's own sign-in page (panva's oidc-provider on
loopback, tests/oidc_provider/), and back on the dashboard under their own name."""

import re

import pytest
from playwright.sync_api import expect

from demo_space import DEMO_API_TOKEN, DEMO_PROJECT_ID
from tests.conftest import make_credential
from tests.oidc_provider.loopback import PEOPLE, LoopbackProvider, set_up_company_login


@pytest.fixture(scope="module")
def provider(live_server):
    with LoopbackProvider(redirect_uris=[f"{live_server.url}/oidc/callback/"]) as running:
        yield running


@pytest.fixture
def company_login(settings, provider):
    set_up_company_login(settings, provider)
    return provider


def sign_in_at_the_provider(page, person):
    expect(page).to_have_title("Example Corp sign-in")
    page.get_by_label("Company username").fill(person)
    page.get_by_label("Company password").fill(PEOPLE[person])
    page.get_by_role("button", name="Sign in").click()


def test_a_person_logs_in_with_the_company_account_and_sees_their_name(page, company_login):
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Log in with Example Corp").click()
    sign_in_at_the_provider(page, "erin")
    # New here: the dashboard asks for SignalWire credentials first, under erin's name.
    expect(page).to_have_url(re.compile(r"/credentials/add/$"))
    expect(page.locator(".topbar .who")).to_have_text("erin")
    expect(page.get_by_role("link", name="Costs")).to_be_visible()  # a Supervisor


def test_a_link_to_a_moment_survives_the_company_log_in(page, company_login, demo_space, db):
    from django.contrib.auth.models import User

    dana = User.objects.create_user("dana")  # a company account: no password here
    make_credential(dana, "Acme production", DEMO_PROJECT_ID, DEMO_API_TOKEN)
    recording = demo_space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=300)
    page.goto(f"/recordings/{recording['id']}/#t=95")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.get_by_role("button", name="Log in with Example Corp").click()
    sign_in_at_the_provider(page, "dana")
    expect(page).to_have_url(re.compile(rf"/recordings/{recording['id']}/#t=95$"))
    expect(page.locator(".topbar .who")).to_have_text("dana")
    expect(page.locator("[data-show='current']")).to_have_text("0:01:35")


def test_a_refused_sign_in_is_explained_on_the_log_in_page(page, company_login):
    company_login.next_id_token(aud="another-application")
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Log in with Example Corp").click()
    sign_in_at_the_provider(page, "dana")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(
        page.get_by_text("Example Corp sent a sign-in meant for another application")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Log in with Example Corp")).to_be_visible()
