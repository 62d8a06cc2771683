"""An agent's first hour (issue 13, part 3), in a real browser: what they press and see."""

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from demo_space import DEMO_PROJECT_ID


def test_date_shortcuts_filter_the_list_by_day(indexed, alice_page):
    page = alice_page
    page.get_by_text("Search and filter", exact=True).click()
    page.get_by_role("link", name="Yesterday", exact=True).click()
    yesterday = (datetime.now(UTC) - timedelta(days=1)).astimezone().date()
    expect(page).to_have_url(re.compile(rf"from={yesterday:%Y-%m-%d}T00%3A00"))
    expect(page.get_by_label("From")).to_have_value(f"{yesterday:%Y-%m-%d}T00:00")
    for label in ("Today", "Last 7 days", "This month"):
        expect(page.get_by_role("link", name=label, exact=True)).to_be_visible()


def test_a_slow_signalwire_shows_loading_then_still_waiting(alice_page, demo_space, settings):
    page = alice_page
    settings.SIGNALWIRE_READ_TIMEOUT = 5.0  # slow, not failed
    demo_space.add_fault(delay=2.6, path_prefix="/api/relay/rest/recordings?", times=1)
    page.get_by_role("link", name="Older ›").click()
    loading = page.locator("#loading")
    expect(loading).to_have_text("Loading…", timeout=1500)
    expect(loading).to_have_text("Still waiting for SignalWire…", timeout=2500)
    page.wait_for_url(re.compile(r"page="))
    expect(loading).to_be_hidden()


def test_space_on_a_focused_player_button_plays_and_pauses(alice_page, stereo_recording):
    page = alice_page
    page.goto(f"/recordings/{stereo_recording['id']}/")
    forward = page.get_by_role("button", name=re.compile("forward"))
    forward.focus()
    page.keyboard.press("Space")
    page.wait_for_function("!window.recordingsPlayer.state().paused")
    page.keyboard.press("Space")
    page.wait_for_function("window.recordingsPlayer.state().paused")
    # Space did not press the focused "10 s forward" button as well.
    assert page.evaluate("window.recordingsPlayer.state().currentTime") < 5


def test_a_link_to_a_moment_survives_logging_in(page, alice, demo_space):
    recording = demo_space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=300)
    page.goto(f"/recordings/{recording['id']}/#t=95")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("alice-password")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(rf"/recordings/{recording['id']}/#t=95$"))
    expect(page.locator("[data-show='current']")).to_have_text("0:01:35")


def test_on_a_phone_the_list_shows_status_and_price_without_a_sideways_swipe(alice_page):
    page = alice_page
    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    wrap = page.locator(".table-wrap")
    widths = wrap.evaluate(
        "w => [w.scrollWidth, w.clientWidth, ...[...w.querySelectorAll('tbody tr:first-child td')]"
        ".map(c => Math.round(c.getBoundingClientRect().width))]"
    )
    assert widths[0] <= widths[1] + 1, str(widths)
    first = page.locator("#recordings-table tbody tr").first
    for column in (4, 6):  # price, status
        cell = first.locator(f"td:nth-child({column})")
        expect(cell).to_be_visible()
        assert cell.evaluate("c => c.getBoundingClientRect().right") <= 375
