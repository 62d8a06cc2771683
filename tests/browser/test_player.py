"""The player in a real browser: the shared <audio>, the waveform, the controls."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect

from demo_space import DEMO_API_TOKEN, DEMO_PROJECT_ID

BERLIN = ZoneInfo("Europe/Berlin")


def state(page) -> dict:
    return page.evaluate("window.recordingsPlayer.state()")


def wait_until_playing_past(page, seconds: float) -> None:
    page.wait_for_function(
        "s => { const p = window.recordingsPlayer.state(); return !p.paused && p.currentTime > s }",
        arg=seconds,
    )


def open_recording(page, recording) -> None:
    page.goto(f"/recordings/{recording['id']}/")
    page.locator(".waveform[data-drawn='true']").wait_for()


def test_pressing_play_advances_the_current_time(alice_page, demo_space, axe, docs_screenshot):
    page = alice_page
    # Short enough that the parties' turns show in the waveform of the README's screenshot.
    call = demo_space.add_recording(
        DEMO_PROJECT_ID, duration_in_seconds=150, stereo=True, track="both"
    )
    open_recording(page, call)
    expect(page.get_by_text("Left · caller")).to_be_visible()
    expect(page.get_by_text("Right · callee")).to_be_visible()
    page.get_by_role("button", name="Play", exact=True).click()
    wait_until_playing_past(page, 1.5)
    expect(page.get_by_role("button", name="Pause", exact=True)).to_be_visible()
    assert axe(page) == []
    docs_screenshot(page, "detail")


def test_seeking_to_80_percent_resumes_there_from_a_range_request(alice_page, stereo_recording):
    page = alice_page
    audio = []
    page.on(
        "response",
        lambda r: (
            audio.append((r.status, r.headers.get("content-range", "")))
            if "/audio/" in r.url
            else None
        ),
    )
    open_recording(page, stereo_recording)
    page.get_by_role("button", name="Play", exact=True).click()
    wait_until_playing_past(page, 0.5)

    waveform = page.locator(".waveform")
    box = waveform.bounding_box()
    waveform.click(position={"x": box["width"] * 0.8, "y": box["height"] / 2})
    wait_until_playing_past(page, 480)
    assert state(page)["currentTime"] < 490
    later = state(page)["currentTime"] + 0.5
    wait_until_playing_past(page, later)  # it plays on from there

    # The browser asked for the bytes from about 80% on, and got just those: a 206.
    starts = [
        int(m.group(1)) / int(m.group(2))
        for status, header in audio
        if status == 206 and (m := re.match(r"bytes (\d+)-\d+/(\d+)", header))
    ]
    assert any(0.75 < start < 0.85 for start in starts), audio


def test_changing_speed_and_volume(alice_page, stereo_recording):
    page = alice_page
    open_recording(page, stereo_recording)
    page.get_by_label("Speed").select_option("1.5")
    assert state(page)["rate"] == 1.5
    page.locator("h1").click()  # focus leaves the menu, so the keys reach the player
    page.keyboard.press("]")
    assert state(page)["rate"] == 1.75
    page.keyboard.press("[")
    page.keyboard.press("[")
    assert state(page)["rate"] == 1.25
    expect(page.get_by_label("Speed")).to_have_value("1.25")
    for _ in range(5):
        page.keyboard.press("[")
    assert state(page)["rate"] == 0.75  # the slowest there is

    page.get_by_label("Volume").fill("0.4")
    assert state(page)["volume"] == 0.4


def test_space_plays_and_pauses_and_arrows_skip_as_the_help_says(alice_page, stereo_recording):
    page = alice_page
    open_recording(page, stereo_recording)
    page.get_by_role("button", name="Keys").click()
    expect(page.get_by_role("tooltip")).to_contain_text("Space play/pause")
    page.keyboard.press("Escape")
    expect(page.get_by_role("tooltip")).to_be_hidden()
    page.locator("h1").click()
    page.keyboard.press(" ")
    wait_until_playing_past(page, 0.3)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert state(page)["currentTime"] > 20
    page.keyboard.press("ArrowLeft")
    assert 10 < state(page)["currentTime"] < 20
    page.keyboard.press(" ")
    page.wait_for_function("window.recordingsPlayer.state().paused")


def test_muting_one_stereo_lane_silences_just_that_channel(alice_page, stereo_recording):
    page = alice_page
    open_recording(page, stereo_recording)
    page.get_by_role("button", name="Play", exact=True).click()
    wait_until_playing_past(page, 0.3)
    left = page.get_by_role("button", name="Mute left channel (caller)")
    left.click()
    expect(left).to_have_attribute("aria-pressed", "true")
    expect(left).to_have_attribute("data-gain", "0")
    assert state(page)["gains"] == [0, 1]
    left.click()
    expect(left).to_have_attribute("aria-pressed", "false")
    assert state(page)["gains"] == [1, 1]


def test_playing_goes_on_while_moving_to_other_pages(stereo_recording, alice_page, axe):
    page = alice_page
    page.goto("/recordings/")
    first_row = page.locator("#recordings-table tbody tr").first
    first_row.get_by_role("button", name=re.compile("^Play the recording")).click()
    wait_until_playing_past(page, 1)
    page.evaluate("document.getElementById('now-playing-audio').dataset.mark = 'same'")
    bar = page.get_by_role("region", name="Now playing")
    expect(bar).to_be_visible()

    page.get_by_role("link", name="Older ›").click()
    page.wait_for_url(re.compile(r"page="))
    page.get_by_label("Per page").select_option("25")
    page.wait_for_url(re.compile(r"size=25"))
    page.get_by_role("link", name="Credentials").click()
    expect(page.get_by_role("heading", name="SignalWire credentials")).to_be_visible()
    page.go_back()  # htmx restores the list from the server; the bar stays
    expect(page.get_by_label("Per page")).to_have_value("25")
    page.get_by_role("link", name="Credentials").click()
    expect(page.get_by_role("heading", name="SignalWire credentials")).to_be_visible()
    before = state(page)["currentTime"]
    wait_until_playing_past(page, before + 0.5)
    assert page.evaluate("document.getElementById('now-playing-audio').dataset.mark") == "same"
    assert state(page)["id"] == stereo_recording["id"]
    assert axe(page) == []  # the now-playing bar too

    # The bar leads to the recording, which takes over without starting again.
    bar.get_by_role("link").click()
    page.locator(".waveform[data-drawn='true']").wait_for()
    expect(bar).to_be_hidden()
    assert state(page)["currentTime"] >= before and not state(page)["paused"]


def test_a_t_link_opens_at_that_moment_and_the_place_is_remembered(alice_page, stereo_recording):
    page = alice_page
    page.goto(f"/recordings/{stereo_recording['id']}/#t=95")
    page.wait_for_function("Math.abs(window.recordingsPlayer.state().currentTime - 95) < 0.5")
    expect(page.locator("[data-show='current']")).to_have_text("0:01:35")

    page.evaluate("location.hash = '#t=3:20'")
    page.wait_for_function("Math.abs(window.recordingsPlayer.state().currentTime - 200) < 0.5")
    page.get_by_role("button", name="Copy link to this moment").click()
    link = f"{page.url.split('#')[0]}#t=200"
    expect(page.locator("output.copied")).to_have_text(f"Copied {link}")
    assert page.evaluate("navigator.clipboard.readText()") == link

    page.get_by_role("button", name="Play", exact=True).click()
    wait_until_playing_past(page, 201.5)
    page.get_by_role("button", name="Pause", exact=True).click()
    page.goto(f"/recordings/{stereo_recording['id']}/")
    page.wait_for_function("window.recordingsPlayer.state().currentTime > 201")


def test_download_gives_the_whole_file(alice_page, stereo_recording):
    page = alice_page
    open_recording(page, stereo_recording)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    # Named with when it was made, in the browser's time zone (Europe/Berlin here).
    made = datetime.fromisoformat(stereo_recording["created_at"]).astimezone(BERLIN)
    assert download.value.suggested_filename == (
        f"{made:%Y-%m-%d_%H%M}_recording-{stereo_recording['id']}.wav"
    )
    with open(download.value.path(), "rb") as file:
        data = file.read()
    assert len(data) == stereo_recording["byte_size"]
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def test_audio_that_cannot_load_says_so_and_offers_a_retry(
    stereo_recording, alice_page, demo_space
):
    page = alice_page
    open_recording(page, stereo_recording)
    expect(page.get_by_role("alert")).to_be_hidden()
    # The recording's facts are cached; its audio comes from a stopped upstream.
    demo_space.add_fault(status=503, path_prefix="/media/", times=None)
    page.evaluate("document.getElementById('now-playing-audio').load()")
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("The audio could not be loaded")

    demo_space.clear_faults()
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("alert")).to_be_hidden()
    wait_until_playing_past(page, 0.5)


def test_a_mono_recording_has_one_lane_and_plays(alice_page, demo_space):
    page = alice_page
    mono = demo_space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=30, track="inbound")
    open_recording(page, mono)
    expect(page.get_by_role("list", name="Channels")).to_have_text("Mono")
    expect(page.get_by_role("button", name=re.compile("^Mute"))).to_have_count(0)
    page.get_by_role("button", name="Play", exact=True).click()
    wait_until_playing_past(page, 0.5)


@pytest.mark.parametrize("media_format", ["mp3", "mp4"])
def test_mp3_and_mp4_recordings_play_with_a_waveform(alice_page, demo_space, media_format):
    page = alice_page
    call = demo_space.add_recording(
        DEMO_PROJECT_ID, duration_in_seconds=20, stereo=True, media_format=media_format
    )
    # The demo space encodes its MP3/MP4 clip on first use: do that here, not within the
    # tests' 3 s deadline for the media's first byte, on a busy machine.
    requests.get(call["url"], auth=(DEMO_PROJECT_ID, DEMO_API_TOKEN), timeout=30).close()
    page.goto(f"/recordings/{call['id']}/")
    page.locator(".waveform[data-drawn='true']").wait_for()
    expect(page.locator(".waveform-note")).to_be_hidden()
    page.get_by_role("button", name="Play", exact=True).click()
    wait_until_playing_past(page, 0.5)


def test_audio_that_cannot_be_decoded_plays_with_a_plain_position_bar(alice_page, demo_space):
    page = alice_page
    call = demo_space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=30)
    # An MP3's tag and then nothing a decoder can read.
    demo_space.add_fault(
        status=200, body=b"ID3\x04" + bytes(500), content_type="audio/mpeg", path_prefix="/media/"
    )
    page.goto(f"/recordings/{call['id']}/")
    expect(page.locator(".waveform-note")).to_contain_text(
        "No waveform: The MP3 file could not be read"
    )
    expect(page.locator(".waveform-note")).to_contain_text("The bar below shows the position.")
    expect(page.get_by_label("Position")).to_be_visible()


def test_playing_goes_on_while_filtering(stereo_recording, indexed, alice_page):
    page = alice_page
    page.locator("#recordings-table tbody tr").first.get_by_role(
        "button", name=re.compile("^Play the recording")
    ).click()
    wait_until_playing_past(page, 0.5)
    page.evaluate("document.getElementById('now-playing-audio').dataset.mark = 'same'")

    page.get_by_text("Search and filter", exact=True).click()
    page.get_by_label("Channels").select_option("Mono")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(re.compile(r"stereo=no"))
    expect(page.locator("#recordings-table")).not_to_contain_text(stereo_recording["id"])
    before = state(page)["currentTime"]
    wait_until_playing_past(page, before + 0.3)
    assert page.evaluate("document.getElementById('now-playing-audio').dataset.mark") == "same"

    # A filtered row plays too, in the same bar.
    row = page.locator("#recordings-table tbody tr").filter(
        has=page.get_by_role("button", name=re.compile("^Play the recording"))
    )
    row.first.get_by_role("button").click()
    page.wait_for_function(
        "id => window.recordingsPlayer.state().id !== id", arg=stereo_recording["id"]
    )
    wait_until_playing_past(page, 0.3)


def listeners(page) -> str:
    return page.locator(".listeners").inner_text()


def test_opening_a_page_is_not_listening_pressing_play_is(alice_page, stereo_recording):
    page = alice_page
    page.goto(f"/recordings/{stereo_recording['id']}/")
    # The browser reads the audio's start on its own (its length) and the waveform draws.
    page.locator(".waveform[data-drawn='true']").wait_for()
    page.wait_for_function("window.recordingsPlayer.state().id !== null")
    page.wait_for_timeout(500)
    page.reload()
    assert "Nobody has played it here yet." in listeners(page)

    page.get_by_role("button", name="Play", exact=True).click()
    wait_until_playing_past(page, 0.5)
    page.reload()
    expect(page.locator(".listeners li")).to_have_count(1)
    assert listeners(page).startswith("Who listened\nalice, ")


def test_deleting_the_recording_in_the_now_playing_bar_stops_it(stereo_recording, alice_page):
    page = alice_page
    page.goto("/recordings/")
    row = page.locator(
        f"#recordings-table tbody tr:has(a[href='/recordings/{stereo_recording['id']}/'])"
    )
    row.get_by_role("button", name=re.compile("^Play the recording")).click()
    wait_until_playing_past(page, 0.5)
    bar = page.get_by_role("region", name="Now playing")
    expect(bar).to_be_visible()

    row.get_by_role("link").click()  # its page takes the player over
    page.get_by_role("link", name="Delete…").first.click()
    expect(bar).to_be_visible()  # still playing while the question is asked
    assert not state(page)["paused"]
    page.get_by_role("button", name="Delete for good").click()
    expect(page.get_by_text(f"Recording {stereo_recording['id']} was deleted.")).to_be_visible()
    expect(bar).to_be_hidden()
    assert state(page)["id"] is None and state(page)["paused"]
    assert page.evaluate("document.getElementById('now-playing-audio').getAttribute('src')") is None
