"""Status families in search and the spend report: RELAY and Compatibility use different
status words, so the filter and the report group them (in progress, done, no audio,
failed, other); a raw status word still filters by that word."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from recordings_app.models import Credential
from tests.index_rows import index_row

pytestmark = pytest.mark.no_upstream
BERLIN = ZoneInfo("Europe/Berlin")

# name: (status word, error code, family)
WORDS = {
    "queued": ("queued", "", "in_progress"),
    "recording": ("recording", "", "in_progress"),
    "in-progress": ("in-progress", "", "in_progress"),
    "completed": ("completed", "", "done"),
    "finished": ("finished", "", "done"),
    "stopped": ("stopped", "", "done"),
    "absent": ("absent", "", "no_audio"),
    "no_input": ("no_input", "", "no_audio"),
    "failed": ("failed", "30005", "failed"),
    "error": ("error", "", "failed"),
    "completed-with-error": ("completed", "30007", "failed"),  # an error code wins
    "archived": ("archived", "", "other"),  # a word nobody documents
}


def yesterday(hour: int) -> datetime:
    return datetime.combine(timezone.localdate(timezone=BERLIN) - timedelta(1), time(hour), BERLIN)


@pytest.fixture
def words(alice):
    """One indexed recording per status word, of both families, all charged."""
    credential = Credential.objects.get(user=alice)
    made = {}
    for number, (name, (status, error_code, _)) in enumerate(WORDS.items()):
        family = "compat" if status in ("queued", "in-progress", "stopped", "absent") else "relay"
        made[name] = index_row(
            credential,
            yesterday(8) + timedelta(minutes=number),
            price="0.50",
            status=status,
            error_code=error_code,
            family=family,
            source="cxml" if family == "compat" else "pstn",
        )
    return made


def shown(response) -> set[str]:
    assert response.status_code == 200
    return {recording.id for recording in response.context["table"].recordings}


@pytest.mark.parametrize("family", ["in_progress", "done", "no_audio", "failed", "other"])
def test_the_status_filter_finds_each_family_whatever_the_word(berlin_client, words, family):
    expected = {words[name].recording_id for name, spec in WORDS.items() if spec[2] == family}
    assert shown(berlin_client.get(f"/recordings/?status={family}")) == expected


def test_a_raw_status_word_still_filters_by_that_word(berlin_client, words):
    response = berlin_client.get("/recordings/?status=completed")
    assert shown(response) == {
        words["completed"].recording_id,
        words["completed-with-error"].recording_id,
    }
    # The menu shows what the list is filtered by, next to the families.
    page = response.content.decode()
    assert '<option value="completed" selected>Status “completed”</option>' in page
    assert '<option value="no_audio">No audio</option>' in page


def test_the_status_menu_offers_the_families(berlin_client, words):
    page = berlin_client.get("/recordings/?status=failed").content.decode()
    assert '<option value="failed" selected>Failed</option>' in page
    for value, label in (("in_progress", "In progress"), ("done", "Done"), ("other", "Other")):
        assert f'<option value="{value}">{label}</option>' in page


def test_the_costs_report_groups_statuses_by_family(berlin_client, words):
    report = berlin_client.get("/costs/?period=7d").context["report"]
    status = next(b for b in report["breakdowns"] if b["title"] == "Status")
    assert [(label, figures.count) for label, figures in status["rows"]] == [
        ("Done", 3),
        ("Failed", 3),
        ("In progress", 3),
        ("No audio", 2),
        ("Other", 1),
    ]


def test_failed_recordings_that_cost_money_are_the_failed_familys(berlin_client, alice, words):
    credential = Credential.objects.get(user=alice)
    index_row(credential, yesterday(9), price="0", status="error")  # failed, but free
    response = berlin_client.get("/costs/?period=7d")
    failed = response.context["report"]["failed_charged"]
    assert failed.count == 3  # "failed", "error", and "completed" with an error code
    # Its link lists the same recordings: status=failed is the family.
    link = response.context["failed_url"]
    assert "status=failed" in link
    assert shown(berlin_client.get(link)) == {
        words[name].recording_id for name in ("failed", "error", "completed-with-error")
    }
