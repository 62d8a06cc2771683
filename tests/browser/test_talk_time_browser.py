"""Talk time in a real browser: the panel polls while the analysis is queued and shows
the figures, and the speaking bars under the waveform, when the worker is done."""

from playwright.sync_api import expect

from demo_space import DEMO_PROJECT_ID
from recordings_app import index, tasks
from recordings_app.models import Credential


def test_the_panel_shows_analysing_then_the_figures_without_a_reload(
    alice_page, alice, demo_space, axe
):
    page = alice_page
    call = demo_space.add_recording(
        DEMO_PROJECT_ID, duration_in_seconds=90, stereo=True, track="both"
    )
    credential = Credential.objects.get(user=alice)
    index.run_sync(credential)
    page.goto(f"/recordings/{call['id']}/")
    expect(page.get_by_text("Analysing…")).to_be_visible()
    page.evaluate("window.talkTimeMarker = 'same page'")  # gone if the page reloads

    tasks.analyse_talk_time.call(credential.pk, call["id"])  # what the worker runs

    expect(page.locator("[data-talk='left']")).to_be_visible(timeout=10_000)
    expect(page.get_by_text("Right channel speaking")).to_be_visible()
    expect(page.get_by_text("Longest silence")).to_be_visible()
    expect(page.locator("#talk-bars .talk-bar-left rect").first).to_be_attached()
    expect(page.locator("#talk-bars .talk-bar-right rect").first).to_be_attached()
    assert page.evaluate("window.talkTimeMarker") == "same page"
    assert axe(page) == []
