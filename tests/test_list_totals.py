"""The list's totals ("N recordings, H:MM:SS total, $x matching the filters") and its
pager read the running totals when every filter is one they keep (issue 16): they must
say exactly what counting the matching recordings says."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from demo_space import DEMO_PROJECT_ID
from recordings_app import index, search
from recordings_app.models import Credential
from tests.conftest import text

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def synced(alice, demo_space):
    credential = Credential.objects.get(user=alice)
    index.run_sync(credential)
    return credential


def checked(query: dict) -> dict:
    with timezone.override(BERLIN):
        return search.RecordingFilters(query, region="DE").checked()


def days_ago(days: int, hour: int = 0, minute: int = 0) -> str:
    day = timezone.localdate(timezone=BERLIN) - timedelta(days=days)
    return (
        datetime.combine(day, datetime.min.time())
        .replace(hour=hour, minute=minute)
        .strftime("%Y-%m-%dT%H:%M")
    )


QUERIES = [
    {},
    {"status": "done"},
    {"status": "failed"},
    {"status": "in_progress"},
    {"track": "both"},
    {"source": "pstn"},
    {"stereo": "yes"},
    {"stereo": "no"},
    {"from": days_ago(20, 7, 15)},
    {"to": days_ago(3, 16, 59)},
    {"from": days_ago(40, 13, 0), "to": days_ago(2, 9, 30), "status": "done"},
    {"from": days_ago(9, 23, 45), "to": days_ago(8, 0, 14)},  # across one midnight
    {"from": days_ago(5), "to": days_ago(5, 23, 59), "track": "both", "sort": "-price"},
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()))
def test_the_totals_from_the_running_totals_are_the_rows_totals(synced, query):
    data = checked(query)
    rows = search.filtered(synced, data)
    assert search.filtered_totals(synced, data, rows) == search.totals(rows)


def test_a_broad_filter_reads_the_running_totals_not_every_row(synced):
    data = checked({"status": "done"})
    rows = search.filtered(synced, data)
    with CaptureQueriesContext(connection) as queries:
        shown = search.filtered_totals(synced, data, rows)
    assert shown.count > 1000
    assert any("dayfigures" in query["sql"].lower() for query in queries.captured_queries)


def test_other_filters_count_the_rows(synced):
    data = checked({"min_duration": "30"})
    rows = search.filtered(synced, data)
    with CaptureQueriesContext(connection) as queries:
        shown = search.filtered_totals(synced, data, rows)
    assert shown == search.totals(rows)
    assert not any("dayfigures" in query["sql"].lower() for query in queries.captured_queries)


def test_the_list_says_how_many_match_and_pages_them(synced, berlin_client, demo_space):
    failed = index.indexed_recordings(synced).filter(status_family="failed").count()
    html = text(berlin_client.get("/recordings/?status=failed&size=25"))
    assert f"{failed} recordings" in html.replace("<strong>", "").replace("</strong>", "")
    last = -(-failed // 25)
    assert f"page 1 of {last}" in html
    assert berlin_client.get(f"/recordings/?status=failed&size=25&p={last}").status_code == 200
    # A recording deleted upstream and found gone by the next full pass leaves the count.
    gone = index.indexed_recordings(synced).filter(status_family="failed", family="relay")
    demo_space.delete_recording(DEMO_PROJECT_ID, gone.first().recording_id)
    index.run_sync(synced, full=True)
    html = text(berlin_client.get("/recordings/?status=failed&size=25"))
    assert f"{failed - 1} recordings" in html.replace("<strong>", "").replace("</strong>", "")
