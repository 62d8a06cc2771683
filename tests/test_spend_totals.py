"""The spend report's running totals (recordings_app.rollups, issue 16): whatever the sync,
a delete or a vanished recording does to the index, the report read from them is the
report read from the rows themselves, in every time zone."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from demo_space import DEMO_PROJECT_ID
from recordings_app import index, reports
from recordings_app.models import Credential, DayFigures, QuarterHourFigures
from tests.conftest import text
from tests.index_rows import index_row

ZONES = ["UTC", "Europe/Berlin", "Asia/Kathmandu", "America/St_Johns", "Pacific/Chatham"]


def periods(today: date) -> list[reports.Period]:
    return [
        reports.Period("today", today, today),
        reports.Period("7d", today - timedelta(days=6), today),
        reports.Period("30d", today - timedelta(days=29), today),
        reports.Period("custom", today - timedelta(days=365), today),
        # Spring and autumn clock changes in Europe and North America.
        reports.Period("custom", date(2026, 3, 1), date(2026, 4, 10)),
        reports.Period("custom", date(2026, 10, 20), date(2026, 11, 5)),
    ]


def shown(report: dict):
    """What the costs page shows, as plain values."""
    return (
        report["totals"].count,
        report["totals"].seconds,
        report["totals"].currencies(),
        report["previous"].count,
        report["previous"].currencies(),
        report["changes"],
        [
            (b["title"], [(name, f.count, f.seconds, f.currencies()) for name, f in b["rows"]])
            for b in report["breakdowns"]
        ],
        (report["failed_charged"].count, report["failed_charged"].currencies()),
        report["days"],
        [(recording.id, recording.price) for recording in report["top"]],
    )


def assert_same_as_the_rows(credential):
    for name in ZONES:
        zone = ZoneInfo(name)
        for period in periods(timezone.localdate(timezone=zone)):
            fast = reports.report(credential, period, zone)
            assert shown(fast) == shown(reports.report_from_rows(credential, period, zone)), (
                name,
                period,
            )


def test_after_a_first_sync_the_totals_are_the_rows_sums_in_every_zone(alice, demo_space):
    credential = Credential.objects.get(user=alice)
    index.run_sync(credential)

    assert DayFigures.objects.filter(credential=credential).exists()
    year = reports.report(
        credential,
        reports.Period("custom", timezone.localdate() - timedelta(days=365), timezone.localdate()),
        ZoneInfo("UTC"),
    )
    assert year["totals"].count == index.indexed_recordings(credential).count() > 2000
    assert_same_as_the_rows(credential)


def test_a_changed_price_a_vanished_and_a_deleted_recording_keep_them_exact(
    alice, alice_client, demo_space
):
    credential = Credential.objects.get(user=alice)
    changing = demo_space.add_recording(DEMO_PROJECT_ID, status="in-progress", price=0.0)
    index.run_sync(credential)
    upstream = demo_space.recordings(DEMO_PROJECT_ID)
    gone_upstream, deleted_here = upstream[2]["id"], upstream[3]["id"]

    demo_space.delete_recording(DEMO_PROJECT_ID, changing["id"])
    demo_space.add_recording(
        DEMO_PROJECT_ID,
        id=changing["id"],
        created_at=changing["created_at"],
        status="completed",
        price=7.25,
    )
    demo_space.delete_recording(DEMO_PROJECT_ID, gone_upstream)
    assert alice_client.post(f"/recordings/{deleted_here}/delete/").status_code in (200, 302)
    assert_same_as_the_rows(credential)  # the delete, before any sync
    index.run_sync(credential)

    # The recording's own day (the demo space's clock may still be on yesterday's).
    made = datetime.fromisoformat(changing["created_at"].replace("Z", "+00:00")).date()
    figures = reports.report(credential, reports.Period("custom", made, made), ZoneInfo("UTC"))
    assert Decimal("7.25") in [recording.price for recording in figures["top"]]
    assert_same_as_the_rows(credential)


def test_the_costs_page_counts_what_the_list_counts(alice, alice_client, demo_space):
    credential = Credential.objects.get(user=alice)
    alice.groups.add(Group.objects.get(name="Supervisor"))
    index.run_sync(credential)
    first = timezone.localdate() - timedelta(days=365)
    html = text(alice_client.get(f"/costs/?from={first}&to={timezone.localdate()}"))
    live = index.indexed_recordings(credential).count()
    assert f"Recordings</span><strong>{live}</strong>" in html


@pytest.mark.parametrize("name", ["Europe/Berlin", "Australia/Lord_Howe"])
def test_a_day_whose_clock_changes_is_one_day_of_23_or_25_hours(alice, name):
    credential = Credential.objects.get(user=alice)
    zone = ZoneInfo(name)
    # 2026-10-25: Berlin's clocks go back an hour; 2026-10-04: Lord Howe's go forward 30 min.
    day = date(2026, 10, 25) if name == "Europe/Berlin" else date(2026, 10, 4)
    for hour in (0, 1, 2, 3, 12, 23):
        index_row(
            credential,
            datetime.combine(day, datetime.min.time(), zone) + timedelta(hours=hour, minutes=50),
        )
    period = reports.Period("custom", day - timedelta(days=1), day + timedelta(days=1))
    series = reports.report(credential, period, zone)["days"]["USD"]
    assert [entry["count"] for entry in series] == [0, 6, 0]
    assert shown(reports.report(credential, period, zone)) == shown(
        reports.report_from_rows(credential, period, zone)
    )
    assert QuarterHourFigures.objects.filter(credential=credential).count() == 6
