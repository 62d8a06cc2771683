"""The spend report (/costs/), from the index: the period, its figures, the chart.

- Days are the user's days (the active time zone: the profile's, else the browser's).
  The database puts each recording in its local day with one integer division per
  stretch of 24-hour days (`_day_number`), so a day whose clock changes is exact too.
- Figures come from running totals the sync keeps exact (recordings_app.rollups): a
  year of a call centre is a few thousand summed rows, not millions of recordings.
  `report_from_rows` computes the same from the recordings themselves; the tests and
  bench/costs_year.py check that the two agree.
- Periods: today; the last 7 and 30 days including today; this month so far; last
  month; or ?from=YYYY-MM-DD&to=YYYY-MM-DD, both days included, at most 366 days.
- The previous period, for the change: a calendar month is compared with the month
  before it (October with September), this month so far with the same days of last
  month (December 1-5 with November 1-5), and any other period with the one of equal
  length just before it.
- A currency's average price per minute is its price over its recordings' minutes.
- Statuses are grouped by family (signalwire.STATUS_FAMILIES: in progress, done, no
  audio, failed, other), since RELAY and Compatibility use different words; "failed
  recordings that still cost money" are the failed family's (a failure word, or any
  status with an error code).
- Currencies are never added together: every price is per currency. The top 20 is
  ordered by the number, whatever the currency.
- daily.csv has a row for every day of the period and every currency seen in it,
  zeros included, so a spreadsheet gets a continuous series.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.db.models import Case, Count, Expression, F, IntegerField, Sum, Value, When

from recordings_app import index, rollups
from recordings_app.errors import Problem
from recordings_app.models import DayFigures, QuarterHourFigures
from recordings_app.signalwire import SOURCE_LABELS, STATUS_FAMILIES

PERIODS = {
    "today": "Today",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "month": "This month",
    "last-month": "Last month",
}
DEFAULT_PERIOD = "30d"
MAX_DAYS = 366
TOP = 20
ZERO = Decimal(0)


# ------------------------------------------------------------------------- the period


@dataclass(frozen=True)
class Period:
    key: str  # one of PERIODS, or "custom"
    first: date
    last: date  # included

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def label(self) -> str:
        if self.key in PERIODS:
            return PERIODS[self.key]
        return f"{self.first:%b %-d, %Y} – {self.last:%b %-d, %Y}"

    def previous(self) -> Period:
        """The period this one is compared with (see the module's docstring)."""
        last = self.first - timedelta(days=1)
        if self.key == "last-month":
            return Period("previous", last.replace(day=1), last)
        if self.key == "month":
            first = last.replace(day=1)
            return Period("previous", first, first.replace(day=min(self.last.day, last.day)))
        return Period("previous", last - timedelta(days=self.days - 1), last)

    @property
    def compared_with(self) -> str:
        """How the previous period relates to this one, in words."""
        if self.key == "last-month":
            return "the month before"
        if self.key == "month":
            return "the same days of last month"
        return f"the {self.days} day{'' if self.days == 1 else 's'} before"

    def bounds(self, zone) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes: local midnight to the midnight after `last`."""
        start = datetime.combine(self.first, time.min, zone)
        end = datetime.combine(self.last + timedelta(days=1), time.min, zone)
        return start, end

    def recordings(self, credential, zone):
        """The credential's indexed recordings created within the period, in `zone`."""
        start, end = self.bounds(zone)
        return index.indexed_recordings(credential).filter(
            created_at__gte=start, created_at__lt=end
        )

    def each_day(self):
        for offset in range(self.days):
            yield self.first + timedelta(days=offset)

    def query(self) -> str:
        if self.key == "custom":
            return urlencode({"from": self.first.isoformat(), "to": self.last.isoformat()})
        return urlencode({"period": self.key})


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        required=False, choices=[("", "")] + list(PERIODS.items()) + [("custom", "custom")]
    )

    def clean(self):
        data = super().clean()
        first, last = data.get("from"), data.get("to")
        if first or last:
            if not (first and last):
                raise forms.ValidationError("A custom period needs both from and to.")
            if data.get("period") not in ("", "custom", None):
                raise forms.ValidationError("Give a period or a from/to range, not both.")
            if first > last:
                raise forms.ValidationError("The period ends before it starts.")
            if (last - first).days + 1 > MAX_DAYS:
                raise forms.ValidationError(f"A period is at most {MAX_DAYS} days.")
        elif data.get("period") == "custom":
            raise forms.ValidationError("A custom period needs from and to dates.")
        return data


for _name in ("from", "to"):  # `from` is a Python keyword
    PeriodForm.base_fields[_name] = forms.DateField(
        required=False, input_formats=["%Y-%m-%d"], widget=forms.DateInput(attrs={"type": "date"})
    )


def period_from(query, today: date) -> Period:
    form = PeriodForm(query)
    if not form.is_valid():
        reasons = " ".join(" ".join(map(str, errors)) for errors in form.errors.values())
        raise Problem(400, "This period is not valid", reasons)
    data = form.cleaned_data
    if data.get("from"):
        return Period("custom", data["from"], data["to"])
    key = data.get("period") or DEFAULT_PERIOD
    if key == "today":
        return Period(key, today, today)
    if key == "7d":
        return Period(key, today - timedelta(days=6), today)
    if key == "30d":
        return Period(key, today - timedelta(days=29), today)
    if key == "month":
        return Period(key, today.replace(day=1), today)
    last = today.replace(day=1) - timedelta(days=1)  # last-month
    return Period(key, last.replace(day=1), last)


# ------------------------------------------------------------------------ the figures


@dataclass
class Figures:
    """Count and seconds, and per currency: count, seconds, price."""

    count: int = 0
    seconds: int = 0

    def __post_init__(self):
        self.by_currency: dict[str, dict] = {}

    def add(self, currency: str, count: int, seconds: int | None, price: Decimal | None):
        seconds = seconds or 0
        self.count += count
        self.seconds += seconds
        if not currency:
            return
        entry = self.by_currency.setdefault(currency, {"count": 0, "seconds": 0, "price": ZERO})
        entry["count"] += count
        entry["seconds"] += seconds
        entry["price"] += index.exact(price) or ZERO

    @property
    def minutes(self) -> Decimal:
        return (Decimal(self.seconds) / 60).quantize(Decimal("0.1"))

    def currencies(self):
        """[(currency, count, price, average price per minute)], sorted by currency."""
        rows = []
        for currency, entry in sorted(self.by_currency.items()):
            per_minute = None
            if entry["seconds"]:
                per_minute = (entry["price"] * 60 / entry["seconds"]).quantize(Decimal("0.0001"))
            rows.append(
                {
                    "currency": currency,
                    "count": entry["count"],
                    "price": entry["price"],
                    "per_minute": per_minute,
                }
            )
        return rows


def change(now, before) -> Decimal | None:
    """Percent change from `before` to `now`; None where there was nothing before."""
    if not before:
        return None
    return ((Decimal(now) - Decimal(before)) * 100 / Decimal(before)).quantize(Decimal("0.1"))


DIMENSIONS = ("status_family", "track", "source", "stereo")
CHARGED = Case(When(price__gt=0, then=Value(True)), default=Value(False))


def _grouped(rows, *names):
    return (
        rows.order_by()
        .values(*names)
        .annotate(n=Count("key"), seconds=Sum("duration_seconds"), price=Sum("price"))
    )


def _summed(figures, *names):
    """The same shape as _grouped, from DayFigures or QuarterHourFigures."""
    return (
        figures.order_by()
        .values(*names)
        .annotate(n=Sum("count"), seconds=Sum("seconds"), price=Sum("price"))
    )


def report(credential, period: Period, zone) -> dict:
    """Everything on the page, from the running totals (recordings_app.rollups): the
    whole UTC days of the period from DayFigures and the hours at its ends from the
    rows; the previous period and the chart from QuarterHourFigures. Identical to
    report_from_rows, which tests and benchmarks check."""
    start, end = _epochs(period, zone)
    previous_start, previous_end = _epochs(period.previous(), zone)
    if any(moment % rollups.QUARTER_HOUR for moment in (start, end, previous_start)):
        # A zone whose midnight is not a whole quarter hour (none today; some did
        # before 1980): the quarter hours cannot be cut there.
        return report_from_rows(credential, period, zone)
    first_day, end_day = -(-start // rollups.DAY), end // rollups.DAY
    rows = period.recordings(credential, zone)
    if first_day < end_day:
        # Each end its own range read of the index (an OR of the two made Postgres read
        # the whole period's entries to pick the ends out).
        ends = (
            rows.filter(created_at__lt=_moment(first_day * rollups.DAY)),
            rows.filter(created_at__gte=_moment(end_day * rollups.DAY)),
        )
        whole_days = DayFigures.objects.filter(
            credential=credential, day__gte=first_day, day__lt=end_day
        )
        groups = [
            *(
                group
                for end_rows in ends
                for group in _grouped(
                    end_rows.annotate(charged=CHARGED), *DIMENSIONS, "price_unit", "charged"
                )
            ),
            *_summed(whole_days, *DIMENSIONS, "price_unit", "charged"),
        ]
    else:
        groups = list(
            _grouped(rows.annotate(charged=CHARGED), *DIMENSIONS, "price_unit", "charged")
        )
    previous = _summed(_quarters(credential, previous_start, previous_end), "price_unit")
    quarters = _quarters(credential, start, end).annotate(epoch=F("bucket") * rollups.QUARTER_HOUR)
    return _assembled(groups, previous, _daily(quarters, period, zone, _summed), rows, period)


def report_from_rows(credential, period: Period, zone) -> dict:
    """The same report, from the index's rows alone: what the running totals must equal."""
    rows = period.recordings(credential, zone)
    groups = _grouped(rows.annotate(charged=CHARGED), *DIMENSIONS, "price_unit", "charged")
    previous = _grouped(period.previous().recordings(credential, zone), "price_unit")
    return _assembled(groups, previous, daily(rows, period, zone), rows, period)


def _assembled(groups, previous_groups, days, rows, period: Period) -> dict:
    totals = Figures()
    dimensions: dict[str, defaultdict[str | bool | None, Figures]] = {
        name: defaultdict(Figures) for name in DIMENSIONS
    }
    failed_charged = Figures()
    for group in groups:
        figures = (group["price_unit"], group["n"], group["seconds"], group["price"])
        totals.add(*figures)
        for name, breakdown in dimensions.items():
            breakdown[group[name]].add(*figures)
        if group["status_family"] == "failed" and group["charged"]:
            failed_charged.add(*figures)
    previous = Figures()
    for group in previous_groups:
        previous.add(group["price_unit"], group["n"], group["seconds"], group["price"])
    top = [
        row.as_recording()
        for row in rows.filter(price__isnull=False).order_by("-price", "-created_at")[:TOP]
    ]
    return {
        "totals": totals,
        "previous": previous,
        "changes": _changes(totals, previous),
        "breakdowns": _breakdowns(dimensions),
        "failed_charged": failed_charged,
        "days": days,
        "charts": [chart(currency, series, period) for currency, series in days.items()],
        "top": top,
    }


def _epochs(period: Period, zone) -> tuple[int, int]:
    start, end = period.bounds(zone)
    return int(start.timestamp()), int(end.timestamp())


def _moment(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _quarters(credential, start: int, end: int):
    """QuarterHourFigures of [start, end): local midnights are whole quarter hours."""
    return QuarterHourFigures.objects.filter(
        credential=credential,
        bucket__gte=start // rollups.QUARTER_HOUR,
        bucket__lt=end // rollups.QUARTER_HOUR,
    )


def daily(rows, period: Period, zone) -> dict[str, list[dict]]:
    """{currency: [{day, count, seconds, price}] for every day of the period}."""
    return _daily(rows.annotate(epoch=F("created_epoch")), period, zone, _grouped)


def _daily(rows, period: Period, zone, group) -> dict[str, list[dict]]:
    """`rows` annotated with `epoch`, grouped into the period's local days in SQL."""
    sums: dict[tuple[date, str], list] = {}
    for entry in group(rows.annotate(day=_day_number(period, zone)), "day", "price_unit"):
        day = period.first + timedelta(days=entry["day"])
        sums[(day, entry["price_unit"])] = [
            entry["n"],
            entry["seconds"] or 0,
            index.exact(entry["price"]) or ZERO,
        ]
    currencies = sorted({currency for _, currency in sums if currency})
    return {
        currency: [
            dict(
                zip(
                    ("day", "count", "seconds", "price"),
                    (day, *sums.get((day, currency), (0, 0, ZERO))),
                    strict=True,
                )
            )
            for day in period.each_day()
        ]
        for currency in currencies
    }


def _day_number(period: Period, zone):
    """Which of the period's local days (0 for the first) an `epoch` falls in, as SQL:
    stretches of 24-hour days are one division each, a day whose offset changes (23 or
    25 hours) a constant, so any zone's days are exact."""
    midnights = [
        int(datetime.combine(day, time.min, zone).timestamp()) for day in period.each_day()
    ]
    midnights.append(_epochs(period, zone)[1])
    whens = []
    number = 0
    while number < period.days:
        last = number
        if midnights[number + 1] - midnights[number] == rollups.DAY:
            while (
                last + 1 < period.days and midnights[last + 2] - midnights[last + 1] == rollups.DAY
            ):
                last += 1
            value: Expression = (F("epoch") - midnights[number]) / rollups.DAY + number
        else:
            value = Value(number)
        whens.append(When(epoch__lt=midnights[last + 1], then=value))
        number = last + 1
    return Case(*whens, output_field=IntegerField())


def _changes(totals: Figures, previous: Figures) -> dict:
    prices = {}
    for currency, entry in totals.by_currency.items():
        before = previous.by_currency.get(currency, {}).get("price")
        prices[currency] = change(entry["price"], before)
    return {
        "count": change(totals.count, previous.count),
        "seconds": change(totals.seconds, previous.seconds),
        "price": prices,
    }


def _breakdowns(dimensions) -> list[dict]:
    def label(name, value):
        if name == "source":
            return SOURCE_LABELS.get(value, "Unknown")
        if name == "stereo":
            return {True: "Stereo", False: "Mono"}.get(value, "Unknown")
        if name == "status_family":
            return STATUS_FAMILIES.get(value, STATUS_FAMILIES["other"])
        return value or "unknown"

    titles = {
        "status_family": "Status",
        "track": "Track",
        "source": "Source",
        "stereo": "Channels",
    }
    return [
        {
            "title": titles[name],
            "rows": sorted(
                ((label(name, value), figures) for value, figures in breakdown.items()),
                key=lambda pair: (-pair[1].count, pair[0]),
            ),
        }
        for name, breakdown in dimensions.items()
    ]


# ------------------------------------------------------------------------- the chart

CHART_WIDTH, CHART_HEIGHT, CHART_LEFT, CHART_BOTTOM = 720, 200, 64, 24


def chart(currency: str, series: list[dict], period: Period) -> dict:
    """Bar geometry for a server-rendered SVG of one currency's spend per day."""
    peak = max((day["price"] for day in series), default=ZERO)
    plot_width = CHART_WIDTH - CHART_LEFT - 8
    plot_height = CHART_HEIGHT - CHART_BOTTOM - 8
    slot = plot_width / max(1, len(series))
    bars = []
    for number, day in enumerate(series):
        height = float(day["price"] / peak) * plot_height if peak else 0.0
        bars.append(
            {
                **day,
                "x": round(CHART_LEFT + number * slot + slot * 0.1, 2),
                "y": round(8 + plot_height - height, 2),
                "width": round(max(1.0, slot * 0.8), 2),
                "height": round(height, 2),
                "label": number == 0 or number == len(series) - 1 or day["day"].day == 1,
                "label_x": round(CHART_LEFT + number * slot + slot / 2, 2),
            }
        )
    busiest = max(series, key=lambda day: day["price"], default=None)
    return {
        "currency": currency,
        "bars": bars,
        "peak": peak,
        "total": sum((day["price"] for day in series), ZERO),
        "busiest": busiest if peak else None,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "axis_y": CHART_HEIGHT - CHART_BOTTOM,
        "mid_y": 8 + plot_height / 2,
        "label_y": CHART_HEIGHT - 6,
    }
