"""An agent's first hour (issue 13, part 3), in a real browser: what they press and see."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from demo_space import DEMO_PROJECT_ID

BERLIN = ZoneInfo("Europe/Berlin")


def test_date_shortcuts_filter_the_list_by_day(indexed, alice_page):
    page = alice_page
    page.get_by_text("Search and filter", exact=True).click()
    page.get_by_role("link", name="Yesterday", exact=True).click()
    # The browser is in Europe/Berlin (see conftest) and the dashboard follows it: between
    # 23:00 and 24:00 UTC Berlin's yesterday is the machine's today.
    yesterday = datetime.now(BERLIN).date() - timedelta(days=1)
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
    for column in (7, 9):  # price, status (after From, To and Direction)
        cell = first.locator(f"td:nth-child({column})")
        expect(cell).to_be_visible()
        assert cell.evaluate("c => c.getBoundingClientRect().right") <= 375


def box(locator) -> dict:
    return locator.evaluate(
        "e => { const r = e.getBoundingClientRect();"
        " return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; }"
    )


def overlap(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and (b["top"] < a["bottom"])
    )


@pytest.fixture
def timed_out(demo_space):
    """A recording that failed with media_timeout, the newest (ask before alice_page)."""
    return demo_space.add_recording(
        DEMO_PROJECT_ID, status="failed", error_code="media_timeout", duration_in_seconds=0
    )


def test_a_failed_recording_says_what_its_error_code_means(timed_out, alice_page):
    page = alice_page
    failed = timed_out
    page.goto("/recordings/")
    code = page.locator("#recordings-table .error-code", has_text="media_timeout").first
    expect(code).to_have_attribute("title", re.compile("No audio reached SignalWire"))
    page.goto(f"/recordings/{failed['id']}/")
    expect(page.locator(".no-audio")).to_contain_text(
        "No audio reached SignalWire's recorder in time (a media timeout)."
    )


def test_an_invalid_filter_marks_the_field_and_keeps_the_page(alice_page, axe):
    page = alice_page
    response = page.goto("/recordings/?min_duration=-5")
    assert response.status == 400
    expect(page.get_by_role("heading", name="Recordings", exact=True)).to_be_visible()
    field = page.get_by_label("Shortest, in seconds")
    expect(field).to_be_visible()  # the filters are open
    expect(field).to_have_attribute("aria-invalid", "true")
    message = page.locator("#f-min-duration-error")
    expect(message).to_contain_text("greater than or equal to 0")
    expect(field).to_have_accessible_description(re.compile("greater than or equal to 0"))
    near, mine = box(field), box(message)
    assert 0 <= mine["top"] - near["bottom"] < 40 and abs(mine["left"] - near["left"]) < 300
    expect(page.get_by_role("heading", name="The filters need fixing")).to_be_visible()
    expect(page.get_by_role("link", name="Try again")).to_have_count(0)
    expect(page.get_by_role("button", name="Search")).to_be_visible()
    assert axe(page) == []


def test_a_muted_lane_is_dimmed(stereo_recording, alice_page):
    page = alice_page
    page.goto(f"/recordings/{stereo_recording['id']}/")
    wave = page.locator(".waveform[data-drawn='true']")
    wave.wait_for()
    page.get_by_role("button", name="Mute left channel (caller)").click()
    left, right = page.locator(".lane-left .lane-label"), page.locator(".lane-right .lane-label")
    expect(left).to_have_css("opacity", "0.45")
    expect(right).to_have_css("opacity", "1")
    # The left half of the waveform (the muted channel) is shaded, the right one is not.
    shade = wave.evaluate(
        "w => { const s = getComputedStyle(w, '::before'), r = w.getBoundingClientRect();"
        " return {content: s.content, top: r.top + parseFloat(s.top),"
        " height: parseFloat(s.height), wave: r.height,"
        " other: getComputedStyle(w, '::after').content}; }"
    )
    assert shade["content"] != "none" and shade["other"] == "none", shade
    lane = box(page.locator(".lane-left"))
    assert abs(shade["top"] - box(wave)["top"]) < 1 and abs(shade["height"] - shade["wave"] / 2) < 1
    assert shade["top"] < lane["bottom"] and lane["top"] < shade["top"] + shade["height"]
    page.get_by_role("button", name="Unmute left channel (caller)").click()
    expect(left).to_have_css("opacity", "1")


def test_the_keys_help_covers_no_control(stereo_recording, alice_page):
    page = alice_page
    for width in (1280, 900, 375):
        page.set_viewport_size({"width": width, "height": 860})
        page.goto(f"/recordings/{stereo_recording['id']}/")
        page.get_by_role("button", name="Keys").click()
        tip = page.locator("#keys-help")
        expect(tip).to_be_visible()
        covered = box(tip)
        controls = page.locator(
            ".player-ui .controls button, .player-ui .controls select, "
            ".player-ui .controls input, .player-ui .seek input"
        )
        for i in range(controls.count()):
            control = controls.nth(i)
            if control.is_visible() and control.get_attribute("id") != "keys-help":
                assert not overlap(covered, box(control)), (
                    width,
                    control.evaluate("e => e.outerHTML"),
                )


def test_the_copy_link_message_does_not_move_delete(stereo_recording, alice_page):
    page = alice_page
    page.goto(f"/recordings/{stereo_recording['id']}/")
    page.locator(".waveform[data-drawn='true']").wait_for()
    delete = page.get_by_role("link", name="Delete…")
    before = box(delete)
    page.get_by_role("button", name="Copy link to this moment").click()
    expect(page.locator(".copied")).to_contain_text("#t=0")
    assert box(delete) == before


def test_delete_for_good_and_cancel_do_not_touch(stereo_recording, alice_page):
    page = alice_page
    page.goto(f"/recordings/{stereo_recording['id']}/delete/")
    confirm = box(page.get_by_role("button", name="Delete for good"))
    cancel = box(page.get_by_role("link", name="Cancel"))
    assert cancel["left"] - confirm["right"] >= 8 or cancel["top"] - confirm["bottom"] >= 8


def test_the_activity_table_fits_1366_pixels(alice, alice_page):
    from recordings_app.models import AuditEvent

    page = alice_page
    for number in range(5):
        AuditEvent.objects.create(
            user=alice,
            username="alice.longname@example.com",
            action=AuditEvent.Action.DOWNLOAD_CROSS_SITE,
            recording_id=f"3f1c2a9e-8b7d-4e21-9a55-0c6d2b1e7f4{number}",
            credential_label="Acme production, the team's shared one",
            space="acme-customer-support-eu",
            remote_addr="2001:db8:85a3:1234:5678:8a2e:370:7334",
            user_agent="Mozilla/5.0",
            detail="Outcome unknown: SignalWire did not answer within 10 seconds, "
            "Sec-Fetch-Site: cross-site",
        )
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/activity/")
    wrap = page.locator(".table-wrap")
    sizes = wrap.evaluate(
        "w => [w.scrollWidth, w.clientWidth, ...[...w.querySelectorAll('tbody tr:first-child td')]"
        ".map(c => Math.round(c.getBoundingClientRect().width))]"
    )
    assert sizes[0] <= sizes[1] + 1, sizes
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
