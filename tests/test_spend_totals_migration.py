"""Upgrading: migration 0015 sums the index as it stands into the running totals, so a
team's costs page is right the moment it is upgraded, before any sync."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("recordings_app", "0014_talk_time")]
AFTER = [("recordings_app", "0015_spend_running_totals")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_sums_the_existing_index(alice):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    credential = old.get_model("recordings_app", "Credential").objects.get(user_id=alice.pk)
    rows = old.get_model("recordings_app", "IndexedRecording")
    when = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    for number, (price, vanished) in enumerate(
        [("0.0025", None), ("1.20", None), (None, None), ("9.99", timezone.now())]
    ):
        rows.objects.create(
            credential=credential,
            recording_id=f"00000000-0000-4000-8000-{number:012d}",
            created_at=when,
            created_epoch=int(when.timestamp()),
            duration_seconds=60,
            price=None if price is None else Decimal(price),
            price_unit="" if price is None else "USD",
            status="completed",
            status_family="done",
            track="both",
            source="pstn",
            last_seen=timezone.now(),
            vanished_at=vanished,
        )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    days = list(
        new.get_model("recordings_app", "DayFigures").objects.filter(credential=credential.pk)
    )
    quarters = list(
        new.get_model("recordings_app", "QuarterHourFigures").objects.filter(
            credential=credential.pk
        )
    )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    usd = [day for day in days if day.price_unit == "USD"]
    assert sum(day.count for day in days) == 3  # the vanished one is not counted
    assert sum(day.seconds for day in days) == 180
    assert [(day.charged, day.count) for day in usd] == [(True, 2)]
    assert Decimal(sum(day.price for day in usd)).quantize(Decimal("0.000001")) == Decimal("1.2025")
    assert sum(quarter.count for quarter in quarters) == 3
    assert {quarter.bucket for quarter in quarters} == {int(when.timestamp()) // 900}
