"""Company log-in (OpenID Connect) against a real provider on loopback: panva's
oidc-provider (tests/oidc_provider/), which the dashboard finds by discovery, signs in
with the authorization code flow and PKCE, and whose ID tokens it checks.

People at the provider: dana (groups Support and "Everyone at Example", which the
dashboard has no group for) and erin (Supervisor). The dashboard runs as the live
server; a `requests` session is the person's browser.
"""

import re
from urllib.parse import urljoin

import pytest
import requests
from django.contrib.auth.models import User

from tests.oidc_provider.loopback import PEOPLE, LoopbackProvider, set_up_company_login
from tests.test_operations import SECRET, production_settings

PASSWORD_BACKEND = "django.contrib.auth.backends.ModelBackend"
COMPANY_BACKEND = "recordings_app.oidc.CompanyAccounts"


@pytest.fixture(scope="module")
def provider(live_server):
    with LoopbackProvider(
        redirect_uris=[f"{live_server.url}/oidc/callback/"],
        post_logout_redirect_uris=[f"{live_server.url}/accounts/login/"],
    ) as running:
        yield running


@pytest.fixture
def company_login(settings, provider):
    set_up_company_login(settings, provider)
    return provider


@pytest.fixture
def browser():
    return requests.Session()


def log_in_at_company(browser, live_server, person, next_url="") -> requests.Response:
    """Press "Log in with Example Corp" on the log-in page, sign in on the provider's own
    page, and follow the redirects back: the page the person ends up on."""
    page = browser.get(f"{live_server.url}/accounts/login/", params={"next": next_url})
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert found is not None
    token = found.group(1)
    sign_in = browser.post(
        f"{live_server.url}/oidc/authenticate/",
        data={"csrfmiddlewaretoken": token, "next": next_url},
        headers={"Referer": page.url},
        timeout=10,
    )
    if "/interaction/" not in sign_in.url:
        return sign_in  # the provider remembered the person: straight back
    assert "Example Corp sign-in" in sign_in.text
    found = re.search(r'<form method="post" action="([^"]+)"', sign_in.text)
    assert found is not None
    action = found.group(1)
    return browser.post(
        urljoin(sign_in.url, action),
        data={"login": person, "password": PEOPLE[person]},
        timeout=10,
    )


def who(page: requests.Response) -> str | None:
    """The name in the dashboard's top bar, when someone is logged in."""
    found = re.search(r'<span class="who">([^<]*)</span>', page.text)
    return found.group(1) if found else None


def messages_on(page: requests.Response) -> str:
    return " ".join(re.findall(r'<li class="message[^"]*">([^<]*)</li>', page.text))


def log_out(browser, live_server, page: requests.Response) -> requests.Response:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert found is not None
    token = found.group(1)
    return browser.post(
        f"{live_server.url}/accounts/logout/",
        data={"csrfmiddlewaretoken": token},
        headers={"Referer": page.url},
        timeout=10,
    )


def test_the_first_company_log_in_creates_the_user_in_the_groups_the_provider_names(
    company_login, browser, live_server
):
    page = log_in_at_company(browser, live_server, "dana")
    # New here, with no SignalWire credentials yet: the dashboard asks for them first.
    assert page.url == f"{live_server.url}/credentials/add/"
    assert who(page) == "dana"
    dana = User.objects.get(username="dana")
    assert (dana.email, dana.get_full_name()) == ("dana@example.com", "Dana Scully")
    assert not dana.has_usable_password()
    # "Everyone at Example" is no group here: ignored.
    assert [group.name for group in dana.groups.all()] == ["Support"]
    assert ">Costs<" not in page.text  # Support has no cost report


def test_a_supervisor_at_the_company_is_a_supervisor_here(company_login, browser, live_server):
    page = log_in_at_company(browser, live_server, "erin")
    assert who(page) == "erin"
    assert ">Costs<" in page.text


def test_a_group_the_provider_no_longer_names_is_taken_away_at_the_next_log_in(
    company_login, browser, live_server
):
    from django.contrib.auth.models import Group

    dana = User.objects.create_user("dana")  # no password: a company account
    dana.groups.add(Group.objects.get(name="Supervisor"))
    page = log_in_at_company(browser, live_server, "dana")
    assert who(page) == "dana"
    assert ">Costs<" not in page.text
    assert [group.name for group in dana.groups.all()] == ["Support"]
    assert User.objects.filter(username="dana").count() == 1


def test_the_company_log_in_goes_on_to_the_page_asked_for(company_login, browser, live_server):
    page = log_in_at_company(browser, live_server, "dana", next_url="/profile/")
    assert page.url == f"{live_server.url}/profile/"
    assert who(page) == "dana"


def test_an_id_token_for_another_application_is_refused_with_a_message(
    company_login, browser, live_server
):
    company_login.next_id_token(aud="another-application")
    page = log_in_at_company(browser, live_server, "dana")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    assert who(page) is None
    assert "Example Corp sent a sign-in meant for another application" in messages_on(page)
    assert not User.objects.filter(username="dana").exists()


def test_an_expired_id_token_is_refused_with_a_message(company_login, browser, live_server):
    company_login.next_id_token(iat=-7200, exp=-3600)
    page = log_in_at_company(browser, live_server, "dana")
    assert who(page) is None
    assert "Example Corp sent a sign-in that had already expired" in messages_on(page)
    assert browser.get(f"{live_server.url}/recordings/").url.startswith(
        f"{live_server.url}/accounts/login/"
    )


def test_an_id_token_from_another_issuer_is_refused(company_login, browser, live_server):
    company_login.next_id_token(iss="https://impostor.example.com")
    page = log_in_at_company(browser, live_server, "dana")
    assert who(page) is None
    assert "could not be verified, so it was refused" in messages_on(page)


def test_a_local_account_of_the_same_name_is_not_taken_over(
    company_login, browser, live_server, db
):
    User.objects.create_user("dana", password="dana-local-password")
    page = log_in_at_company(browser, live_server, "dana")
    assert who(page) is None
    assert "already an account named dana here that logs in with a password" in messages_on(page)


def test_an_account_switched_off_here_stays_out(company_login, browser, live_server):
    User.objects.create_user("dana", is_active=False)
    page = log_in_at_company(browser, live_server, "dana")
    assert who(page) is None
    assert "Your account here is switched off" in messages_on(page)


def test_log_out_ends_the_dashboard_session_and_the_provider_still_knows_the_person(
    company_login, browser, live_server
):
    page = log_in_at_company(browser, live_server, "dana")
    after = log_out(browser, live_server, page)
    assert after.url == f"{live_server.url}/accounts/login/"
    assert who(after) is None
    assert browser.get(f"{live_server.url}/recordings/").url.startswith(
        f"{live_server.url}/accounts/login/"
    )
    # Single sign-on: the provider's session goes on, so the button lets dana straight in.
    again = log_in_at_company(browser, live_server, "dana")
    assert "/interaction/" not in again.url and who(again) == "dana"


def test_log_out_can_end_the_session_at_the_provider_too(
    company_login, browser, live_server, settings
):
    settings.OIDC_LOGOUT_AT_PROVIDER = True
    page = log_in_at_company(browser, live_server, "dana")
    confirm = log_out(browser, live_server, page)
    assert confirm.url.startswith(f"{company_login.issuer}/session/end")
    form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', confirm.text, re.S)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form[2]))
    back = browser.post(urljoin(confirm.url, form[1]), data={**fields, "logout": "yes"})
    assert back.url == f"{live_server.url}/accounts/login/"
    assert browser.get(f"{live_server.url}/recordings/").url.startswith(
        f"{live_server.url}/accounts/login/"
    )
    # The provider asks for the password again.
    again = browser.post(
        f"{live_server.url}/oidc/authenticate/",
        data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": back.url},
    )
    assert "Example Corp sign-in" in again.text


def test_with_local_log_in_switched_off_the_page_offers_only_the_company(
    company_login, browser, live_server, settings, alice
):
    settings.LOCAL_LOGIN = False
    settings.AUTHENTICATION_BACKENDS = [
        b for b in settings.AUTHENTICATION_BACKENDS if b != PASSWORD_BACKEND
    ]
    page = browser.get(f"{live_server.url}/accounts/login/")
    assert "Log in with Example Corp" in page.text
    assert 'type="password"' not in page.text
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert found is not None
    token = found.group(1)
    refused = browser.post(
        page.url,
        data={"csrfmiddlewaretoken": token, "username": "alice", "password": "alice-password"},
        headers={"Referer": page.url},
    )
    assert refused.status_code == 403
    assert "Logging in with a password is switched off here: use Example Corp." in messages_on(
        refused
    )
    assert who(browser.get(f"{live_server.url}/recordings/")) is None
    # Nor does the admin's log-in take a password.
    admin = browser.get(f"{live_server.url}/admin/login/")
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', admin.text)
    assert found is not None
    token = found.group(1)
    alice.is_staff = True
    alice.save()
    browser.post(
        admin.url,
        data={"csrfmiddlewaretoken": token, "username": "alice", "password": "alice-password"},
        headers={"Referer": admin.url},
    )
    assert who(browser.get(f"{live_server.url}/recordings/")) is None
    # The company log-in still works.
    assert who(log_in_at_company(browser, live_server, "dana")) == "dana"


def test_a_provider_that_does_not_answer_gets_a_message_not_an_error_page(
    company_login, browser, live_server, settings
):
    settings.OIDC_ISSUER = "http://127.0.0.1:9"  # nothing listens there
    settings.OIDC_TIMEOUT = 1
    page = log_in_at_company(browser, live_server, "dana", next_url="/profile/")
    assert page.url == f"{live_server.url}/accounts/login/?next=%2Fprofile%2F"
    assert "Example Corp did not answer as expected. Please try again in a minute." in (
        messages_on(page)
    )


# ----------------------------------------------------------------- switched off, settings


@pytest.mark.no_upstream
def test_without_oidc_the_log_in_page_has_no_company_button(client, db):
    page = client.get("/accounts/login/")
    assert "Log in with" not in page.content.decode()
    assert 'type="password"' in page.content.decode()
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404


def test_the_client_secret_can_come_from_a_file(tmp_path):
    secret = tmp_path / "oidc-secret"
    secret.write_text("s3cret-from-a-file\n")
    found = production_settings(
        "OIDC_RP_CLIENT_SECRET",
        "AUTHENTICATION_BACKENDS",
        "CONTENT_SECURITY_POLICY",
        SECRET_KEY=SECRET,
        OIDC_ISSUER="https://login.example.com/",
        OIDC_CLIENT_ID="dashboard",
        OIDC_CLIENT_SECRET_FILE=str(secret),
        LOCAL_LOGIN="0",
    )
    assert found["OIDC_RP_CLIENT_SECRET"] == "s3cret-from-a-file"
    # The company button's redirect to the provider is a form action the browser allows.
    assert (
        "https://login.example.com" in found["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["form-action"]
    )
    assert PASSWORD_BACKEND not in found["AUTHENTICATION_BACKENDS"]
    assert COMPANY_BACKEND in found["AUTHENTICATION_BACKENDS"]


@pytest.mark.parametrize(
    ("environment", "error"),
    [
        ({"LOCAL_LOGIN": "0"}, "LOCAL_LOGIN=0 needs OIDC_ISSUER: nobody could log in"),
        (
            {"OIDC_ISSUER": "https://login.example.com", "OIDC_CLIENT_ID": "dashboard"},
            "OIDC_ISSUER needs OIDC_CLIENT_ID and OIDC_CLIENT_SECRET",
        ),
        (
            {
                "OIDC_ISSUER": "http://login.example.com",
                "OIDC_CLIENT_ID": "dashboard",
                "OIDC_CLIENT_SECRET": "secret",
            },
            "OIDC_ISSUER must be an https:// URL when DEBUG=0",
        ),
    ],
)
def test_settings_refuse_a_company_log_in_that_cannot_work(environment, error):
    assert error in production_settings("OIDC_ISSUER", SECRET_KEY=SECRET, **environment)["error"]
