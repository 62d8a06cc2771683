"""Talk time: each channel's speaking time, the longest silence and the time both talk at
once, from the recording's audio (recordings_app/talk_time.py). The demo space's calls
are made second by second of known turns (demo_space.talk_spans): the detector has to
find about those."""

import io
import wave
from array import array
from datetime import timedelta
from fractions import Fraction

import av
import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from demo_space import DEMO_PROJECT_ID, iter_wav, talk_spans
from recordings_app import index, talk_time, tasks
from recordings_app.models import Credential, IndexedRecording


def close_to(found: float, made: float, share: float = 0.03, slack: float = 1.0) -> bool:
    """A detector's figure against how the audio was made: its 30 ms frames and hangover
    blur each edge of a turn by a fraction of a second."""
    return abs(found - made) <= made * share + slack


@pytest.fixture
def credential(alice):
    return Credential.objects.get(user=alice)


def synced(credential, demo_space, **overrides) -> dict:
    """A recording added to the demo space and then indexed by a sync."""
    raw = demo_space.add_recording(DEMO_PROJECT_ID, **overrides)
    index.run_sync(credential)
    return raw


def row_of(credential, raw) -> IndexedRecording:
    return IndexedRecording.objects.get(credential=credential, recording_id=raw["id"])


def test_a_stereo_call_gets_each_sides_speaking_time_overlap_and_longest_silence(
    credential, demo_space
):
    # A call with both to find: talking at once, and a hold (the demo's calls differ).
    for _ in range(10):
        raw = demo_space.add_recording(DEMO_PROJECT_ID, stereo=True, duration_in_seconds=600)
        made = talk_spans(600, True, raw["id"])
        if made.overlap > 0 and made.longest_silence >= 6:
            break
    assert made.overlap > 0 and made.longest_silence >= 6
    index.run_sync(credential)

    assert talk_time.analyse_recording(credential, raw["id"]) == "done"

    row = row_of(credential, raw)
    assert row.talk_channels == 2 and row.talk_duration_seconds == pytest.approx(600, abs=0.1)
    assert close_to(row.talk_left_seconds, made.speaking[0])
    assert close_to(row.talk_right_seconds, made.speaking[1])
    assert close_to(row.talk_overlap_seconds, made.overlap, share=0.1)
    assert row.talk_silence_seconds == pytest.approx(made.longest_silence, abs=0.5)
    left, right = row.talk_segments
    assert sum(e - s for s, e in left) == pytest.approx(row.talk_left_seconds, abs=0.1)
    assert all(0 <= s < e <= 600 for s, e in left + right)


def test_a_mono_call_gets_one_speaking_time_and_no_overlap(alice_client, credential, demo_space):
    raw = synced(credential, demo_space, stereo=False, duration_in_seconds=180)
    made = talk_spans(180, False, raw["id"])

    tasks.analyse_talk_time.call(credential.pk, raw["id"])

    row = row_of(credential, raw)
    assert row.talk_channels == 1 and row.talk_right_seconds is None
    assert row.talk_overlap_seconds is None
    assert close_to(row.talk_left_seconds, made.speaking[0])
    assert row.talk_silence_seconds == pytest.approx(made.longest_silence, abs=0.5)
    html = alice_client.get(f"/recordings/{raw['id']}/").content.decode()
    assert "<dt>Speaking</dt>" in html and "Both at once" not in html
    assert "Mono recording: both parties are on one channel" in html
    assert 'class="talk-bar talk-bar-mono"' in html


def test_the_page_queues_the_analysis_shows_analysing_and_then_the_figures(
    alice_client, credential, demo_space
):
    raw = synced(credential, demo_space, stereo=True, duration_in_seconds=120)

    html = alice_client.get(f"/recordings/{raw['id']}/").content.decode()

    assert "Analysing…" in html
    assert f'hx-get="/recordings/{raw["id"]}/talk-time/"' in html  # htmx polls the panel
    queued = DBTaskResult.objects.filter(task_path=tasks.analyse_talk_time.module_path)
    assert [r.args_kwargs["args"] for r in queued] == [[credential.pk, raw["id"]]]
    # Opening it again while it is queued queues nothing more.
    alice_client.get(f"/recordings/{raw['id']}/")
    assert queued.count() == 1

    tasks.analyse_talk_time.call(credential.pk, raw["id"])  # what the worker runs

    panel = alice_client.get(f"/recordings/{raw['id']}/talk-time/").content.decode()
    row = row_of(credential, raw)
    assert "Analysing…" not in panel and "hx-trigger" not in panel  # polling stops
    assert f'<dd data-talk="left">{talk_time.say(row.talk_left_seconds)}' in panel
    assert f'<dd data-talk="silence">{talk_time.say(row.talk_silence_seconds)}' in panel
    share = talk_time.share(row.talk_left_seconds, row.talk_right_seconds)
    assert f"({share}% of the talking)" in panel
    assert 'id="talk-bars" class="talk-bars" hx-swap-oob="true"' in panel  # under the waveform
    assert panel.count("<rect ") == len(row.talk_segments[0]) + len(row.talk_segments[1])
    page = alice_client.get(f"/recordings/{raw['id']}/").content.decode()
    assert "Left channel speaking" in page and "Right channel speaking" in page
    # Named as the waveform's lanes are: track "both" is the caller left, the callee right.
    assert " left channel (caller)</span>" in page  # the lane's Mute button
    assert " right channel (callee)</span>" in page
    assert "Left channel speaking (caller)" in page and "Right channel speaking (callee)" in page
    assert "Left · caller speaking" in page and "Right · callee speaking" in page
    assert "does not say which is which" not in page
    assert queued.count() == 1  # analysed once: not queued again


def test_a_stereo_recording_of_one_track_names_its_channels_by_side_only(
    alice_client, credential, demo_space
):
    raw = synced(credential, demo_space, stereo=True, track="inbound", duration_in_seconds=30)
    tasks.analyse_talk_time.call(credential.pk, raw["id"])

    page = alice_client.get(f"/recordings/{raw['id']}/").content.decode()

    assert "<dt>Left channel speaking</dt>" in page and "<dt>Right channel speaking</dt>" in page
    assert "caller" not in page.split('id="talk-time"')[1].split("</section>")[0]
    assert "SignalWire does not say which is which for this recording" in page


@pytest.mark.parametrize(
    ("fault", "state", "words"),
    [
        ({"status": 503}, "upstream", "It will be tried again later."),
        (
            {"status": 200, "body": "<html>Sign in</html>", "content_type": "text/html"},
            "failed",
            "The recording&#x27;s address answered with a web page, not audio.",
        ),
    ],
)
def test_a_recording_whose_media_fails_stores_and_shows_why(
    alice_client, credential, demo_space, fault, state, words
):
    raw = synced(credential, demo_space, stereo=True, duration_in_seconds=60)
    demo_space.add_fault(path_prefix="/media/", **fault)

    assert talk_time.analyse_recording(credential, raw["id"]) == state

    row = row_of(credential, raw)
    assert row.talk_state == state and row.talk_reason and row.talk_left_seconds is None
    demo_space.clear_faults()
    html = alice_client.get(f"/recordings/{raw['id']}/").content.decode()
    assert "No talk time for this recording." in html and words in html
    assert "Traceback" not in html


def test_a_worker_pass_analyses_at_most_its_bound_newest_first(credential, demo_space, monkeypatch):
    index.run_sync(credential)
    monkeypatch.setattr(talk_time, "PER_PASS", 3)
    due = list(talk_time.analysable(credential).order_by("-created_at").values_list("recording_id"))
    assert len(due) > 3  # a first sync leaves many to do

    assert tasks.analyse_talk_time.call(credential.pk) == 3

    analysed = IndexedRecording.objects.filter(credential=credential).exclude(talk_state="")
    assert sorted(analysed.values_list("recording_id")) == sorted(due[:3])
    assert talk_time.analysable(credential).count() == len(due) - 3  # the next pass goes on


def test_a_finished_sync_queues_a_talk_time_pass(credential, demo_space):
    tasks.sync_credential.call(credential.pk)

    queued = DBTaskResult.objects.filter(task_path=tasks.analyse_talk_time.module_path)
    assert [r.args_kwargs["args"] for r in queued] == [[credential.pk]]


def test_recordings_without_audio_are_not_analysed(alice_client, credential, demo_space):
    raw = synced(credential, demo_space, status="failed", error_code="30005")

    assert raw["id"] not in set(
        talk_time.analysable(credential).values_list("recording_id", flat=True)
    )
    html = alice_client.get(f"/recordings/{raw['id']}/").content.decode()
    assert "There is no audio to analyse." in html
    assert not DBTaskResult.objects.filter(task_path=tasks.analyse_talk_time.module_path).exists()


def talk(credential, recording_id, left, right, silence):
    IndexedRecording.objects.filter(credential=credential, recording_id=recording_id).update(
        talk_state="done",
        talk_channels=2,
        talk_left_seconds=left,
        talk_right_seconds=right,
        talk_overlap_seconds=0,
        talk_silence_seconds=silence,
    )


def listed_ids(response) -> set[str]:
    return {r.id for r in response.context["table"].recordings}


def test_the_list_filters_by_longest_silence_and_left_share_of_the_talking(
    alice_client, credential, demo_space
):
    quiet_agent = synced(credential, demo_space, stereo=True)
    talkative = demo_space.add_recording(DEMO_PROJECT_ID, stereo=True)
    index.run_sync(credential)
    # Figures as the analysis stores them (its own accuracy is tested above).
    talk(credential, quiet_agent["id"], left=20, right=80, silence=75)
    talk(credential, talkative["id"], left=90, right=30, silence=4)

    assert listed_ids(alice_client.get("/recordings/?min_silence=60")) == {quiet_agent["id"]}
    assert listed_ids(alice_client.get("/recordings/?max_left_share=30")) == {quiet_agent["id"]}
    assert listed_ids(alice_client.get("/recordings/?min_left_share=70")) == {talkative["id"]}
    both = alice_client.get("/recordings/?min_left_share=10&max_left_share=70&min_silence=1")
    assert listed_ids(both) == {quiet_agent["id"]}
    # Not analysed: matched by no talk-time filter.
    assert len(listed_ids(alice_client.get("/recordings/?max_left_share=100"))) == 2


def test_a_talk_share_out_of_range_is_refused_with_the_reason(alice_client, credential):
    response = alice_client.get("/recordings/?max_left_share=150")
    assert response.status_code == 400
    assert "Ensure this value is less than or equal to 100." in response.content.decode()
    backwards = alice_client.get("/recordings/?min_left_share=60&max_left_share=20")
    assert "The talk share range ends before it starts." in backwards.content.decode()


def test_analysis_does_not_depend_on_how_the_bytes_arrive():
    whole = b"".join(iter_wav(90, True, "chunks"))
    pieces = (whole[i : i + 333] for i in range(0, len(whole), 333))
    assert talk_time.analyse_media([whole]) == talk_time.analyse_media(pieces)


def mp3_of(pcm_wav: bytes, stereo: bool) -> bytes:
    """The WAV's audio encoded as MP3 by PyAV (libmp3lame, 8 kHz), as SignalWire's MP3s."""
    layout, width = ("stereo", 4) if stereo else ("mono", 2)
    pcm = pcm_wav[44:]
    out = io.BytesIO()
    with av.open(out, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=8000, layout=layout)
        frame = av.AudioFrame(format="s16", layout=layout, samples=len(pcm) // width)
        frame.planes[0].update(pcm)
        frame.sample_rate = 8000
        frame.pts = 0
        frame.time_base = Fraction(1, 8000)
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def test_an_mp3_call_is_decoded_and_gets_about_the_same_figures():
    made = talk_spans(120, True, "mp3 call")
    mp3 = mp3_of(b"".join(iter_wav(120, True, "mp3 call")), stereo=True)

    found = talk_time.analyse_media(mp3[i : i + 4096] for i in range(0, len(mp3), 4096))

    assert found.channels == 2 and found.duration == pytest.approx(120, abs=0.2)
    assert close_to(found.speaking[0], made.speaking[0], share=0.05)
    assert close_to(found.speaking[1], made.speaking[1], share=0.05)
    assert found.longest_silence == pytest.approx(made.longest_silence, abs=0.6)


def test_an_analysis_nobody_picked_up_says_so_and_is_queued_again_on_open(
    alice_client, credential, demo_space
):
    raw = synced(credential, demo_space, stereo=True, duration_in_seconds=30)
    alice_client.get(f"/recordings/{raw['id']}/")  # queued; no worker runs in this test
    IndexedRecording.objects.filter(recording_id=raw["id"]).update(
        talk_queued_at=timezone.now() - timedelta(minutes=11)
    )

    panel = alice_client.get(f"/recordings/{raw['id']}/talk-time/").content.decode()
    assert "may not be running" in panel

    alice_client.get(f"/recordings/{raw['id']}/")
    queued = DBTaskResult.objects.filter(task_path=tasks.analyse_talk_time.module_path)
    assert queued.count() == 2
    panel = alice_client.get(f"/recordings/{raw['id']}/talk-time/").content.decode()
    assert "Analysing…" in panel and "may not be running" not in panel


def test_a_short_16_khz_wav_is_resampled_and_analysed_whole():
    """Not SignalWire's 8 kHz: decoded and resampled by PyAV; shorter than the blocks
    the detector is fed in, so the last, partial block counts too."""
    pcm = array("h", b"".join(iter_wav(2, False, "short"))[44:])
    doubled = array("h", bytes(len(pcm) * 4))
    doubled[0::2], doubled[1::2] = pcm, pcm  # each sample twice: the same sound at 16 kHz
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(doubled.tobytes())

    found = talk_time.analyse_media([out.getvalue()])

    assert found.channels == 1 and found.duration == pytest.approx(2, abs=0.05)
    assert close_to(found.speaking[0], talk_spans(2, False, "short").speaking[0], slack=0.5)


def test_a_wav_with_no_samples_says_so():
    empty = b"".join(iter_wav(0, True, "empty"))
    with pytest.raises(talk_time.NoTalkTime, match="The recording has no audio samples."):
        talk_time.analyse_media([empty])
