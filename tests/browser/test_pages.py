"""Every page in a real browser: logging in, credentials, paging with htmx, the profile,
deleting, failures; an axe-core check on each page and a phone-sized layout."""

import re

from playwright.sync_api import expect

from demo_space import DEMO_API_TOKEN, DEMO_PROJECT_ID
from tests.conftest import listed

# What sticks out past a phone's width, for the failure message.
WIDER_THAN_PHONE = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 375).slice(0, 5)
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


def row_ids(page) -> list[str]:
    links = page.locator("#recordings-table tbody tr td:nth-child(2) a")
    return [href.split("/")[2] for href in links.evaluate_all("as => as.map(a => a.pathname)")]


def test_logging_in_through_the_form(page, alice, demo_space, axe, docs_screenshot):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert axe(page) == []
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("didn't match")

    page.get_by_label("Password").fill("alice-password")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/recordings/$"))
    expect(page.get_by_role("heading", name="Recordings")).to_be_visible()
    assert row_ids(page) == [r["id"] for r in listed(demo_space, DEMO_PROJECT_ID)[:50]]
    assert axe(page) == []
    docs_screenshot(page, "list")


def test_adding_credentials_through_the_form(page, carol, demo_space, axe):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password").fill("carol-password")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/credentials/add/$"))
    expect(page.get_by_text("Add your SignalWire credentials")).to_be_visible()
    assert axe(page) == []

    page.get_by_label("Label").fill("Support line")
    page.get_by_label("Space").fill("https://demo.signalwire.com/dashboard")
    page.get_by_label("Project ID").fill(DEMO_PROJECT_ID)
    page.get_by_label("API token").fill("PTwrong")
    page.get_by_role("button", name="Check and save").click()
    expect(page.get_by_role("alert")).to_contain_text("401")
    assert axe(page) == []

    page.get_by_label("API token").fill(DEMO_API_TOKEN)
    page.get_by_role("button", name="Check and save").click()
    expect(page).to_have_url(re.compile(r"/recordings/$"))
    expect(page.get_by_text("Credentials “Support line” work and are now in use.")).to_be_visible()
    page.get_by_role("link", name="Credentials").click()
    expect(page.get_by_text(f"••••{DEMO_API_TOKEN[-4:]}")).to_be_visible()
    assert DEMO_API_TOKEN not in page.content()
    assert axe(page) == []


def test_paging_with_htmx_keeps_the_address_bar_reload_and_back_true(alice_page, demo_space):
    page = alice_page
    newest = [r["id"] for r in listed(demo_space, DEMO_PROJECT_ID)]
    page.evaluate("window.__sameDocument = true")

    page.get_by_role("link", name="Older ›").click()
    expect(page).to_have_url(re.compile(r"/recordings/\?size=50&page="))
    page.wait_for_function("document.querySelector('#recordings-table a[rel=prev]') !== null")
    assert row_ids(page) == newest[50:100]
    page.get_by_role("link", name="Older ›").click()
    expect(page).to_have_url(re.compile(r"page="))
    page.wait_for_function(
        "id => !document.querySelector('#recordings-table').innerHTML.includes(id)",
        arg=newest[50],
    )
    assert row_ids(page) == newest[100:150]
    assert page.evaluate("window.__sameDocument") is True  # htmx swapped, no reload
    third = page.url

    page.reload()
    assert page.url == third and row_ids(page) == newest[100:150]
    page.go_back()
    expect(page).not_to_have_url(third)
    page.wait_for_function(
        "id => document.querySelector('#recordings-table').innerHTML.includes(id)",
        arg=newest[50],
    )
    assert row_ids(page) == newest[50:100]
    page.go_back()
    expect(page).to_have_url(re.compile(r"/recordings/$"))
    page.wait_for_function(
        "id => document.querySelector('#recordings-table').innerHTML.includes(id)", arg=newest[0]
    )
    assert row_ids(page) == newest[:50]

    page.get_by_label("Per page").select_option("25")
    expect(page).to_have_url(re.compile(r"size=25"))
    page.wait_for_function("document.querySelectorAll('#recordings-table tbody tr').length == 25")


def test_opening_a_recording_from_the_list(stereo_recording, alice_page):
    page = alice_page
    page.locator("#recordings-table tbody tr").first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/recordings/{stereo_recording['id']}/$"))
    expect(page.get_by_role("heading", name="Recording", exact=True)).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("Stereo (one party per channel)")
    expect(page.locator(".facts")).to_contain_text("0:10:00")

    page.get_by_role("link", name="← Recordings").click()
    expect(page).to_have_url(re.compile(r"/recordings/$"))
    page.get_by_label("Open recording by ID").fill(f"  {stereo_recording['id'].upper()} ")
    page.get_by_role("button", name="Open").click()
    expect(page).to_have_url(re.compile(rf"/recordings/{stereo_recording['id']}/$"))
    expect(page.locator(".facts")).to_contain_text("0:10:00")


def opens_as_a_whole_page(page, recording_id):
    """The recording's page, and only it: one site header, one h1, the address bar true."""
    expect(page).to_have_url(re.compile(rf"/recordings/{recording_id}/$"))
    expect(page.get_by_role("heading", name="Recording", exact=True)).to_be_visible()
    expect(page.locator("header.topbar")).to_have_count(1)
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("#recordings-table")).to_have_count(0)


def test_a_row_opens_the_recordings_page_not_a_page_inside_the_list(
    stereo_recording, indexed, alice_page
):
    page = alice_page
    # The live list.
    page.locator("#recordings-table tbody tr").first.get_by_role("link").click()
    opens_as_a_whole_page(page, stereo_recording["id"])
    page.go_back()
    expect(page).to_have_url(re.compile(r"/recordings/$"))
    expect(page.locator("h1")).to_have_count(1)

    # The filtered list: Back returns to it with its filters.
    page.goto("/recordings/?track=both&stereo=yes")
    page.locator("#recordings-table tbody tr").first.get_by_role("link").click()
    opens_as_a_whole_page(page, stereo_recording["id"])
    page.go_back()
    expect(page).to_have_url(re.compile(r"/recordings/\?track=both&stereo=yes$"))
    expect(page.get_by_label("Track")).to_have_value("both")
    expect(page.get_by_label("Channels")).to_have_value("yes")
    expect(page.locator("header.topbar")).to_have_count(1)
    expect(page.locator("h1")).to_have_count(1)

    # After paging with htmx (which swaps only the table), a row still opens a page.
    page.goto("/recordings/")
    page.get_by_role("link", name="Older ›").click()
    page.wait_for_url(re.compile(r"page="))
    link = page.locator("#recordings-table tbody tr").first.get_by_role("link")
    other_id = link.evaluate("a => a.pathname.split('/')[2]")
    link.click()
    opens_as_a_whole_page(page, other_id)


def test_the_profile_time_zone_wins_over_the_browsers(alice_page, demo_space, axe):
    page = alice_page
    raw = demo_space.add_recording(DEMO_PROJECT_ID, created_at="2099-01-01T10:00:00Z")
    page.goto(f"/recordings/{raw['id']}/")
    created = page.locator("time").first
    expect(created).to_have_text("Jan 1, 2099 11:00:00 CET")  # the browser is in Berlin
    expect(created).to_have_attribute("title", "2099-01-01 10:00:00 UTC")

    page.get_by_role("link", name="Profile").click()
    assert axe(page) == []
    page.get_by_label("Time zone").select_option("Asia/Tokyo")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Times are now shown in Asia/Tokyo.")).to_be_visible()
    page.goto(f"/recordings/{raw['id']}/")
    expect(page.locator("time").first).to_have_text("Jan 1, 2099 19:00:00 JST")


def test_deleting_asks_for_confirmation_first(alice_page, stereo_recording, demo_space, axe):
    page = alice_page
    page.goto(f"/recordings/{stereo_recording['id']}/")
    page.get_by_role("link", name="Delete…").click()
    expect(page.get_by_role("heading", name="Delete this recording?")).to_be_visible()
    assert axe(page) == []
    assert stereo_recording["id"] in [r["id"] for r in demo_space.recordings(DEMO_PROJECT_ID)]

    page.get_by_role("button", name="Delete for good").click()
    expect(page).to_have_url(re.compile(r"/recordings/$"))
    expect(page.get_by_text(f"Recording {stereo_recording['id']} was deleted.")).to_be_visible()
    assert stereo_recording["id"] not in [r["id"] for r in demo_space.recordings(DEMO_PROJECT_ID)]
    assert stereo_recording["id"] not in row_ids(page)


def test_a_stopped_upstream_says_what_happened_and_offers_a_retry(
    alice_page, settings, demo_space, axe
):
    page = alice_page
    settings.SIGNALWIRE_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.SIGNALWIRE_CACHE_SECONDS = 0  # as if the answers cached before had expired
    page.get_by_role("link", name="Older ›").click()
    expect(page.get_by_role("alert")).to_contain_text("SignalWire is unreachable")

    page.goto("/recordings/")
    expect(page.get_by_role("heading", name="SignalWire is unreachable")).to_be_visible()
    assert axe(page) == []
    settings.SIGNALWIRE_BASE_URL = demo_space.base_url
    page.get_by_role("link", name="Try again").click()
    expect(page.get_by_role("heading", name="Recordings")).to_be_visible()


def test_a_page_that_is_not_there_is_a_friendly_404(alice_page, axe):
    page = alice_page
    response = page.goto("/nothing-here/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert axe(page) == []


def test_pages_fit_a_phone_and_are_keyboard_reachable(
    browser, live_server, alice, stereo_recording
):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740})
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("alice-password")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/recordings/")
        for path in (
            "/recordings/",
            f"/recordings/{stereo_recording['id']}/",
            "/credentials/",
            "/credentials/add/",
            "/profile/",
            f"/recordings/{stereo_recording['id']}/delete/",
            "/nothing-here/",
            "/costs/",
        ):
            page.goto(path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"{path} is {width} px wide: {page.evaluate(WIDER_THAN_PHONE)}"

        # Tab from the top of the detail page reaches the play button, visibly focused.
        page.goto(f"/recordings/{stereo_recording['id']}/")
        page.locator(".waveform[data-drawn='true']").wait_for()
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.dataset.action") == "toggle":
                break
        else:
            raise AssertionError("Tab never reached the play button")
        shadow = page.evaluate("getComputedStyle(document.activeElement).boxShadow")
        assert shadow != "none"
    finally:
        context.close()


def test_the_costs_page(indexed, alice_page, axe, docs_screenshot):
    page = alice_page
    page.get_by_role("link", name="Costs").click()
    expect(page).to_have_url(re.compile(r"/costs/$"))
    expect(page.locator("main")).to_contain_text("$")
    assert axe(page) == []
    docs_screenshot(page, "costs")
