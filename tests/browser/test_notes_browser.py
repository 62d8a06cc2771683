"""Notes in a real browser (issue 15): a note written at a moment shows in the list
beside the player and as a marker on the waveform; clicking its time, or the marker,
seeks there."""

import pytest
from playwright.sync_api import expect

from demo_space import DEMO_PROJECT_ID


def state(page) -> dict:
    return page.evaluate("window.recordingsPlayer.state()")


@pytest.fixture
def call(demo_space):
    """A two-minute stereo call, added before alice logs in so her list holds it."""
    return demo_space.add_recording(
        DEMO_PROJECT_ID, duration_in_seconds=120, stereo=True, track="both"
    )


def test_a_note_at_a_moment_is_a_marker_on_the_waveform_and_seeks_from_the_list(
    call, alice_page, axe
):
    page = alice_page
    page.goto(f"/recordings/{call['id']}/")
    page.locator(".waveform[data-drawn='true']").wait_for()
    page.get_by_label("Add a note").fill("At 1:30 the caller gives the <b>order</b> number")
    page.get_by_label("At the moment (optional)").fill("1:30")
    page.get_by_role("button", name="Add note").click()

    note = page.locator(".notes-list .note")
    expect(note).to_have_count(1)
    expect(note).to_contain_text("the caller gives the <b>order</b> number")  # as typed
    marker = page.locator(".waveform .note-marker")
    expect(marker).to_have_count(1)
    # 90 s of 120: three quarters along the waveform.
    box, wave = marker.bounding_box(), page.locator(".waveform").bounding_box()
    centre = box["x"] + box["width"] / 2 - wave["x"]
    assert abs(centre / wave["width"] - 0.75) < 0.02

    page.get_by_role("button", name="Go to 0:01:30").click()
    page.wait_for_function("() => Math.abs(window.recordingsPlayer.state().currentTime - 90) < 1")
    assert state(page)["id"] == call["id"]

    page.get_by_label("Add a note").fill("Early")
    page.get_by_label("At the moment (optional)").fill("")
    page.get_by_role("button", name="Use the player’s time").click()
    expect(page.get_by_label("At the moment (optional)")).to_have_value("0:01:30")
    page.get_by_label("At the moment (optional)").fill("0:15")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".waveform .note-marker")).to_have_count(2)

    page.locator(".waveform .note-marker").first.click()  # the first written
    page.wait_for_function("() => Math.abs(window.recordingsPlayer.state().currentTime - 90) < 1")
    page.locator(".waveform .note-marker").nth(1).click()
    page.wait_for_function("() => Math.abs(window.recordingsPlayer.state().currentTime - 15) < 1")
    assert axe(page) == []
