def test_pressing_play_advances_the_current_time(alice_page, stereo_recording, axe):
    page = alice_page
    page.goto(f"/recordings/{stereo_recording['id']}/")
    page.locator(".waveform[data-drawn='true']").wait_for()
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function("window.recordingsPlayer.state().currentTime > 1")
    assert page.evaluate("window.recordingsPlayer.state().paused") is False
    assert axe(page) == []
    assert page.js_errors == []
