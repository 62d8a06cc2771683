"""An agent with a customer on the phone, in a real browser: they type the number the way
the customer said it and get that customer's recordings, with who called whom."""

import re

from playwright.sync_api import expect

from demo_space import DEMO_PROJECT_ID
from tests.browser.conftest import log_in

CUSTOMER = "+14155550100"


def customer_recordings(space) -> set[str]:
    ids = set()
    for rec in space.recordings(DEMO_PROJECT_ID):
        leg = next((rec[k] for k in ("relay_pstn_leg_id", "relay_sip_leg_id") if rec.get(k)), None)
        log = leg and space.voice_log(DEMO_PROJECT_ID, leg)
        if log and CUSTOMER in (log["from"], log["to"]):
            ids.add(rec["id"])
    for rec in space.compat_recordings(DEMO_PROJECT_ID):
        call = rec["call_sid"] and space.call(DEMO_PROJECT_ID, rec["call_sid"])
        if call and CUSTOMER in (call["from"], call["to"]):
            ids.add(rec["sid"])
    return ids


def test_typing_a_number_in_the_search_box_shows_that_customers_recordings(
    indexed, alice_page, demo_space, axe
):
    page = alice_page
    expected = customer_recordings(demo_space)
    page.get_by_text("Search and filter", exact=True).click()
    page.get_by_label("Phone number or ID").fill("(415) 555-0100")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"q=(\(|%28)415"))
    rows = page.locator("#recordings-table tbody tr")
    expect(rows).to_have_count(len(expected))
    links = rows.locator("td:nth-child(2) a")
    shown = {href.split("/")[-2] for href in links.evaluate_all("as => as.map(a => a.href)")}
    assert shown == expected
    for index in range(rows.count()):
        expect(rows.nth(index)).to_contain_text("(415) 555-0100")
    assert axe(page) == []

    # On a phone: From and To fold under the time, with no sideways swipe.
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"/recordings/?q={CUSTOMER[1:]}")
    first = page.locator("#recordings-table tbody tr").first
    expect(first.locator("td:nth-child(2) .party-inline")).to_contain_text("(415) 555-0100")
    expect(first.locator("td.party-col").first).to_be_hidden()
    wrap = page.locator(".table-wrap")
    assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth + 1")


LONG_SIP = "sip:overflow-desk-escalations-team-emea@acme-contact-centre.sip.signalwire.com"


def test_price_and_status_stay_in_view_on_a_laptop_beside_a_long_address(
    alice, stereo_recording, demo_space, page
):
    """1366 px, the commonest laptop: From, To and Direction must not push Price and Status
    out of view. A long SIP URI is cut short in the list, whole in its title."""
    from recordings_app import index
    from recordings_app.models import Credential

    demo_space.add_voice_log(DEMO_PROJECT_ID, stereo_recording["relay_pstn_leg_id"], to=LONG_SIP)
    index.run_sync(Credential.objects.get(user=alice))
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, "alice", "alice-password")
    page.wait_for_url("**/recordings/")
    address = page.locator("#recordings-table td.party-col .party", has_text="sip:overflow")
    expect(address).to_have_attribute("title", LONG_SIP)
    wrap = page.locator(".table-wrap").bounding_box()
    for name in ("Price", "Status"):
        header = page.locator("#recordings-table thead th", has_text=name).bounding_box()
        assert header["x"] + header["width"] <= wrap["x"] + wrap["width"] + 1, name
