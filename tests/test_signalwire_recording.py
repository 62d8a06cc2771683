"""Status words grouped into families, and what a recording says about its audio."""

import pytest

from recordings_app import signalwire as sw

pytestmark = pytest.mark.no_upstream


@pytest.mark.parametrize(
    ("status", "error_code", "family"),
    [
        ("queued", None, "in_progress"),
        ("in-progress", None, "in_progress"),
        ("recording", None, "in_progress"),
        ("paused", None, "in_progress"),
        ("resumed", None, "in_progress"),
        ("completed", None, "done"),
        ("finished", None, "done"),
        ("stopped", None, "done"),
        ("absent", None, "no_audio"),
        ("no_input", None, "no_audio"),
        ("failed", None, "failed"),
        ("error", None, "failed"),
        ("completed", "13610", "failed"),
        ("queued", "x", "failed"),
        (None, "x", "failed"),
        ("deleted", None, "other"),
        ("transcoding", None, "other"),
        ("Completed", None, "other"),
        ("", None, "other"),
        (None, None, "other"),
        ("completed", "", "done"),
    ],
)
def test_status_words_fall_into_families(status, error_code, family):
    assert sw.status_family(status, error_code) == family
    assert sw.Recording(id="x", status=status, error_code=error_code).status_family == family


def test_every_family_has_a_label_and_its_words_as_data():
    assert set(sw.STATUS_FAMILIES) == set(sw.STATUS_FAMILY_WORDS)
    assert sw.STATUS_FAMILIES["in_progress"] == "In progress"
    assert sw.STATUS_FAMILIES["no_audio"] == "No audio"
    words = [word for family in sw.STATUS_FAMILY_WORDS.values() for word in family]
    assert len(words) == len(set(words))  # a word is in one family only
    for family, members in sw.STATUS_FAMILY_WORDS.items():
        assert all(sw.status_family(word) == family for word in members)


@pytest.mark.parametrize(
    ("fields", "playable"),
    [
        ({"status": "completed", "duration_seconds": 12}, True),
        ({"status": "finished", "duration_seconds": None}, True),
        ({"status": "in-progress", "duration_seconds": 3}, True),
        ({"status": "mystery", "duration_seconds": 3}, True),
        ({"status": "completed", "duration_seconds": 0}, False),
        ({"status": "absent", "duration_seconds": 12}, False),
        ({"status": "no_input", "duration_seconds": 12}, False),
        ({"status": "error", "duration_seconds": 12}, False),
        ({"status": "failed", "duration_seconds": 12}, False),
        ({"status": "completed", "error_code": "13610", "duration_seconds": 12}, False),
        ({"status": "deleted", "duration_seconds": 12}, False),
        ({"status": "completed", "duration_seconds": 12, "url": None}, False),
    ],
)
def test_has_audio_follows_the_status_family(fields, playable):
    recording = sw.Recording(id="x", **({"url": "https://files.signalwire.com/a.wav"} | fields))
    assert recording.has_audio is playable


def test_the_source_label_names_the_cxml_source_when_known():
    assert sw.Recording(id="x", source="pstn").source_label == "PSTN"
    assert sw.Recording(id="x", source="cxml", cxml_source="DialVerb").source_label == (
        "cXML (DialVerb)"
    )
    assert sw.Recording(id="x", source="cxml").source_label == "cXML"


def test_relay_recordings_keep_their_defaults_for_the_new_fields():
    recording = sw.Recording.from_api({"id": "9b2f6c1e-0b0a-4c59-8d0e-3f0f2d1c7a11"})
    assert (recording.family, recording.cxml_source, recording.call_sid) == ("relay", None, None)
    assert sw.RecordingPage((), None, None, None).unavailable == ()
