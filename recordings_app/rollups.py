"""The spend report's running totals: what the index holds, summed ahead of time, so a
year of a call centre's recordings is a few thousand rows to add up, not millions.

Two tables, both exact copies of sums over the index's live rows (`vanished_at` unset):

- `DayFigures`: per UTC day and per group the report breaks down by (status family,
  track, source, channels, currency, charged or not): count, seconds, price. The
  report's totals and breakdowns read it for the whole UTC days inside a period and the
  rows themselves for the hours at either end (a user's midnight is rarely UTC's).
- `QuarterHourFigures`: per 15 minutes and currency. Every time zone's offset is a
  multiple of 15 minutes, so a user's days and periods are whole quarter hours: the
  daily chart and the previous period read it.

Kept exact by recomputing, never by adding: whatever writes index rows names the UTC
days it touched (`days_of`) and `refresh` sums those days again from the rows, in the
writer's transaction. Recomputing a day costs one grouped read of that day's rows; the
sync touches a handful of days per page.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from recordings_app.models import DayFigures, IndexedRecording, QuarterHourFigures

DAY = 86400
QUARTER_HOUR = 900


def days_of(epochs: Iterable[int]) -> set[int]:
    """The UTC day numbers (days since 1970-01-01) of these `created_epoch` values."""
    return {epoch // DAY for epoch in epochs}


def refresh(credential_id: int, days: set[int]) -> None:
    """Sum these UTC days of the credential's index again into both tables."""
    if not days:
        return
    with transaction.atomic():
        for first, last in _runs(sorted(days)):
            start, end = first * DAY, (last + 1) * DAY
            DayFigures.objects.filter(
                credential_id=credential_id, day__gte=first, day__lte=last
            ).delete()
            QuarterHourFigures.objects.filter(
                credential_id=credential_id,
                bucket__gte=start // QUARTER_HOUR,
                bucket__lt=end // QUARTER_HOUR,
            ).delete()
            _sum_into(credential_id, start, end)


def rebuild(credential) -> int:
    """Both tables for the whole of one credential's index, from scratch (the migration
    that made them, and benchmarks that fill the index by hand). Returns the day rows."""
    with transaction.atomic():
        DayFigures.objects.filter(credential=credential).delete()
        QuarterHourFigures.objects.filter(credential=credential).delete()
        _sum_into(credential.pk, None, None)
    return DayFigures.objects.filter(credential=credential).count()


def _runs(days: list[int]) -> Iterable[tuple[int, int]]:
    """[3, 4, 5, 9] -> (3, 5), (9, 9): one delete and one insert per stretch of days."""
    first = last = days[0]
    for day in days[1:]:
        if day != last + 1:
            yield first, last
            first = day
        last = day
    yield first, last


def _sum_into(credential_id: int, start: int | None, end: int | None) -> None:
    """INSERT ... SELECT the sums of [start, end) (epoch seconds; None: everything)."""
    quote = connection.ops.quote_name
    rows = quote(IndexedRecording._meta.db_table)
    where = "credential_id = %s AND vanished_at IS NULL"
    params: list[int] = [credential_id]
    if start is not None and end is not None:
        where += " AND created_epoch >= %s AND created_epoch < %s"
        params += [start, end]
    charged = "CASE WHEN price > 0 THEN TRUE ELSE FALSE END"
    # Only our own table and column names go into the text; values are parameters.
    day_sql = (
        f"INSERT INTO {quote(DayFigures._meta.db_table)} "  # noqa: S608
        "(credential_id, day, status_family, track, source, stereo, price_unit, charged, "
        "count, seconds, price) "
        f"SELECT credential_id, created_epoch / {DAY}, status_family, track, source, stereo, "
        f"price_unit, {charged}, COUNT(*), COALESCE(SUM(duration_seconds), 0), SUM(price) "
        f"FROM {rows} WHERE {where} "
        f"GROUP BY credential_id, created_epoch / {DAY}, status_family, track, source, "
        f"stereo, price_unit, {charged}"
    )
    quarter_sql = (
        f"INSERT INTO {quote(QuarterHourFigures._meta.db_table)} "  # noqa: S608
        "(credential_id, bucket, price_unit, count, seconds, price) "
        f"SELECT credential_id, created_epoch / {QUARTER_HOUR}, price_unit, COUNT(*), "
        f"COALESCE(SUM(duration_seconds), 0), SUM(price) FROM {rows} WHERE {where} "
        f"GROUP BY credential_id, created_epoch / {QUARTER_HOUR}, price_unit"
    )
    with connection.cursor() as cursor:
        cursor.execute(day_sql, params)
        cursor.execute(quarter_sql, params)
