"""Every CSV the dashboard writes follows one rule against spreadsheet formulas."""

import csv
import io
from datetime import UTC, datetime

import pytest

from recordings_app.exports import defuse
from recordings_app.models import AuditEvent, Credential
from tests.index_rows import index_row


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-1+1", "'-1+1"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        (" =1+1", "' =1+1"),
        ("-0.0025", "-0.0025"),  # a plain negative number stays a number
        ("-12", "-12"),
        ("completed", "completed"),
        (None, ""),
        (60, "60"),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_defused(cell, written):
    assert defuse(cell) == written


@pytest.mark.no_upstream
def test_the_recordings_csv_defuses_upstream_text(alice_client, alice):
    credential = Credential.objects.get(user=alice)
    index_row(
        credential,
        datetime(2026, 3, 10, 14, 0, tzinfo=UTC),
        status="\tfailed",
        error_code="\r=HYPERLINK(1)",
        track="=cmd()",
    )
    (row,) = csv_rows(alice_client.get("/recordings/export.csv?sort=created"))
    assert (row["status"], row["error_code"], row["track"]) == (
        "'\tfailed",
        "'\r=HYPERLINK(1)",
        "'=cmd()",
    )
    assert row["price"] == "0.0025" and row["duration_seconds"] == "60"


@pytest.mark.no_upstream
def test_the_activity_csv_follows_the_same_rule(alice_client, alice):
    AuditEvent.objects.create(
        username="alice", action=AuditEvent.Action.VIEW, user_agent="\t=HYPERLINK(1)"
    )
    AuditEvent.objects.create(username="alice", action=AuditEvent.Action.VIEW, detail="-1")
    rows = csv_rows(alice_client.get("/activity/export.csv"))
    assert {row["user_agent"] for row in rows} == {"'\t=HYPERLINK(1)", ""}
    assert {row["detail"] for row in rows} == {"-1", ""}


@pytest.mark.no_upstream
def test_the_costs_csvs_follow_the_same_rule(alice_client, alice):
    credential = Credential.objects.get(user=alice)
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    index_row(credential, today, status=" =cmd()", price="0.25", unit="USD")
    (row,) = csv_rows(alice_client.get("/costs/recordings.csv?period=today"))
    assert row["status"] == "' =cmd()" and row["price"] == "0.25"
