from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from recordings_app import index
from recordings_app.models import Credential
from recordings_app.reports import Period, period_from
from tests.conftest import csv_lines
from tests.index_rows import index_row

pytestmark = pytest.mark.no_upstream
BERLIN = ZoneInfo("Europe/Berlin")


def local(days_ago: int, hour: int, minute: int = 0) -> datetime:
    today = timezone.localdate(timezone=BERLIN)
    return datetime.combine(today - timedelta(days=days_ago), time(hour, minute), BERLIN)


def price_by_currency(totals) -> dict:
    """Currency -> what the recordings in `totals` cost in it."""
    return {r["currency"]: r["price"] for r in totals.currencies()}


# (days ago, hour, minute, price, currency, seconds, status)
KNOWN = [
    (0, 10, 0, "0.50", "USD", 120, "completed"),
    (0, 0, 30, "0.25", "USD", 60, "completed"),  # 23:30 UTC the day before: still today
    (1, 12, 0, "1.20", "EUR", 300, "failed"),  # failed, but charged
    (1, 13, 0, "0", "EUR", 0, "failed"),  # failed and free
    (6, 9, 0, "0.10", "USD", 30, "completed"),
    (7, 9, 0, "2.00", "USD", 600, "completed"),
    (29, 9, 0, "1.00", "USD", 60, "completed"),
    (30, 9, 0, "3.00", "USD", 180, "completed"),
    (45, 9, 0, "0.40", "EUR", 90, "completed"),
]


@pytest.fixture
def known(alice, bob):
    credential = Credential.objects.get(user=alice)
    for days_ago, hour, minute, price, unit, seconds, status in KNOWN:
        index_row(
            credential,
            local(days_ago, hour, minute),
            price=price,
            unit=unit,
            seconds=seconds,
            status=status,
        )
    gone = index_row(credential, local(0, 11), price="9.99")
    index.forget_recording(credential, gone.recording_id)  # as a delete in the dashboard
    index_row(Credential.objects.get(user=bob), local(0, 11), price="100")  # bob's, not alice's
    return credential


def figures(client, query):
    response = client.get(f"/costs/?{query}")
    assert response.status_code == 200
    return response, response.context["report"]


def expected(first, last):
    """The known rows whose Berlin day is within [first, last]: (count, seconds, {unit: price})."""
    count = seconds = 0
    prices = {}
    for days_ago, hour, minute, price, unit, secs, _ in KNOWN:
        if first <= local(days_ago, hour, minute).date() <= last:
            count, seconds = count + 1, seconds + secs
            prices[unit] = prices.get(unit, Decimal(0)) + Decimal(price)
    return count, seconds, prices


def test_today_counts_what_happened_today_in_the_users_zone(berlin_client, known):
    response, report = figures(berlin_client, "period=today")
    totals = report["totals"]
    assert (totals.count, totals.seconds) == (2, 180)
    assert [(r["currency"], r["price"], r["per_minute"]) for r in totals.currencies()] == [
        ("USD", Decimal("0.75"), Decimal("0.2500"))
    ]
    previous = report["previous"]  # yesterday
    assert (previous.count, previous.seconds) == (2, 300)
    assert report["changes"]["count"] == Decimal("0.0")
    assert report["changes"]["seconds"] == Decimal("-40.0")
    page = response.content.decode()
    assert "$0.75" in page and "$0.25 per minute" in page
    assert "$9.99" not in page and "$100" not in page


def test_the_last_7_days_and_the_7_before(berlin_client, known):
    _, report = figures(berlin_client, "period=7d")
    totals, previous = report["totals"], report["previous"]
    assert (totals.count, totals.seconds) == (5, 510)
    assert price_by_currency(totals) == {"EUR": Decimal("1.20"), "USD": Decimal("0.85")}
    assert (previous.count, previous.seconds) == (1, 600)
    assert report["changes"]["price"] == {"EUR": None, "USD": Decimal("-57.5")}
    assert report["changes"]["count"] == Decimal("400.0")


def test_the_last_30_days_and_the_30_before(berlin_client, known):
    response, report = figures(berlin_client, "period=30d")
    totals, previous = report["totals"], report["previous"]
    assert (totals.count, totals.seconds) == (7, 1170)
    assert price_by_currency(totals) == {"EUR": Decimal("1.20"), "USD": Decimal("3.85")}
    assert (previous.count, previous.seconds) == (2, 270)
    assert price_by_currency(previous) == {"EUR": Decimal("0.40"), "USD": Decimal("3.00")}
    assert report["changes"]["price"] == {"EUR": Decimal("200.0"), "USD": Decimal("28.3")}
    assert [r.price for r in report["top"]][:3] == [Decimal("2"), Decimal("1.2"), Decimal("1")]
    page = response.content.decode()
    assert "Failed recordings that still cost money" in page
    assert "1 failed recording was charged" in page


@pytest.mark.parametrize("key", ["month", "last-month"])
def test_calendar_months_add_up_the_known_rows(berlin_client, known, key):
    today = timezone.localdate(timezone=BERLIN)
    period = period_from({"period": key}, today)
    count, seconds, prices = expected(period.first, period.last)
    _, report = figures(berlin_client, f"period={key}")
    assert (report["totals"].count, report["totals"].seconds) == (count, seconds)
    assert price_by_currency(report["totals"]) == prices


def test_a_custom_range_includes_both_days(berlin_client, known):
    first, last = local(7, 0).date(), local(6, 0).date()
    _, report = figures(berlin_client, f"from={first}&to={last}")
    assert report["totals"].count == 2
    assert price_by_currency(report["totals"]) == {"USD": Decimal("2.10")}


def test_the_failed_but_charged_callout_counts_only_charged_failures(berlin_client, known):
    _, report = figures(berlin_client, "period=7d")
    failed = report["failed_charged"]
    assert failed.count == 1
    assert [(r["currency"], r["price"]) for r in failed.currencies()] == [("EUR", Decimal("1.20"))]


def test_breakdowns_split_by_status(berlin_client, known):
    _, report = figures(berlin_client, "period=7d")
    status = next(b for b in report["breakdowns"] if b["title"] == "Status")
    assert [(label, f.count) for label, f in status["rows"]] == [
        ("Done", 3),
        ("Failed", 2),
    ]  # by status family


def test_the_daily_csv_has_one_row_per_day_and_currency(berlin_client, known):
    response = berlin_client.get("/costs/daily.csv?period=7d")
    assert response["Content-Type"].startswith("text/csv")
    lines = csv_lines(response)
    assert lines[0] == ["date", "currency", "recordings", "seconds", "price"]
    day = {n: local(n, 0).date().isoformat() for n in range(7)}
    assert len(lines) == 1 + 7 * 2
    assert [day[0], "USD", "2", "180", "0.75"] in lines
    assert [day[1], "EUR", "2", "300", "1.20"] in lines
    assert [day[1], "USD", "0", "0", "0.00"] in lines
    assert [day[6], "USD", "1", "30", "0.10"] in lines
    assert lines[1:] == sorted(lines[1:])


def test_the_recordings_csv_lists_the_periods_recordings(berlin_client, known):
    response = berlin_client.get("/costs/recordings.csv?period=today")
    lines = csv_lines(response)
    assert [(line[3], line[4]) for line in lines[1:]] == [("0.25", "USD"), ("0.50", "USD")]


def test_the_chart_draws_one_bar_per_day_per_currency_with_a_text_alternative(berlin_client, known):
    response, report = figures(berlin_client, "period=7d")
    assert [c["currency"] for c in report["charts"]] == ["EUR", "USD"]
    assert all(len(c["bars"]) == 7 for c in report["charts"])
    page = response.content.decode()
    assert page.count('role="img"') == 2
    assert "Spend per day in USD" in page and "as a table" in page


@pytest.mark.parametrize(
    "query",
    [
        "period=forever",
        "from=2026-01-01",
        "from=2026-02-01&to=2026-01-01",
        "from=2020-01-01&to=2026-01-01",
        "from=yesterday&to=today",
        "period=7d&from=2026-01-01&to=2026-01-02",
    ],
)
def test_a_bad_period_is_a_400_that_says_why(berlin_client, known, query):
    response = berlin_client.get(f"/costs/?{query}")
    assert response.status_code == 400
    assert "This period is not valid" in response.content.decode()
    assert berlin_client.get(f"/costs/daily.csv?{query}").status_code == 400


def test_costs_need_their_own_permission(bob_client, alice_client, db):
    for url in ("/costs/", "/costs/daily.csv", "/costs/recordings.csv"):
        assert bob_client.get(url).status_code == 403
    assert 'href="/costs/"' not in bob_client.get("/credentials/").content.decode()
    assert 'href="/costs/"' in alice_client.get("/credentials/").content.decode()


def test_a_fresh_install_has_support_and_supervisor_groups(db):
    supervisor = {p.codename for p in Group.objects.get(name="Supervisor").permissions.all()}
    assert {"view_costs", "delete_recording"} <= supervisor
    assert not Group.objects.get(name="Support").permissions.filter(codename="view_costs")
    support_user = User.objects.create_user("sam")
    support_user.groups.add(Group.objects.get(name="Support"))
    assert not support_user.has_perm("recordings_app.view_costs")


def test_periods_have_the_documented_bounds():
    today = datetime(2026, 3, 15).date()
    assert period_from({}, today) == Period("30d", datetime(2026, 2, 14).date(), today)
    assert period_from({"period": "month"}, today).first == datetime(2026, 3, 1).date()
    last = period_from({"period": "last-month"}, today)
    assert (last.first, last.last) == (datetime(2026, 2, 1).date(), datetime(2026, 2, 28).date())
    assert last.previous() == Period(
        "previous", datetime(2026, 1, 1).date(), datetime(2026, 1, 31).date()
    )


def test_a_calendar_month_is_compared_with_the_calendar_month_before():
    october = period_from({"period": "last-month"}, datetime(2026, 11, 20).date())
    assert (october.first, october.last) == (
        datetime(2026, 10, 1).date(),
        datetime(2026, 10, 31).date(),
    )
    september = october.previous()
    assert (september.first, september.last) == (
        datetime(2026, 9, 1).date(),
        datetime(2026, 9, 30).date(),
    )
    assert october.compared_with == "the month before"


def test_this_month_so_far_is_compared_with_the_same_days_of_last_month():
    so_far = period_from({"period": "month"}, datetime(2026, 3, 31).date())
    before = so_far.previous()
    # February has 28 days: March 1-31 is compared with all of February, not 31 days.
    assert (before.first, before.last) == (
        datetime(2026, 2, 1).date(),
        datetime(2026, 2, 28).date(),
    )
    five_days = period_from({"period": "month"}, datetime(2026, 12, 5).date()).previous()
    assert (five_days.first, five_days.last) == (
        datetime(2026, 11, 1).date(),
        datetime(2026, 11, 5).date(),
    )


def test_days_are_local_days_across_a_daylight_saving_change(berlin_client, alice):
    credential = Credential.objects.get(user=alice)
    # Berlin moves from UTC+1 to UTC+2 on 2026-03-29.
    index_row(credential, datetime(2026, 3, 28, 23, 30, tzinfo=BERLIN), price="0.10")
    index_row(credential, datetime(2026, 3, 29, 0, 30, tzinfo=BERLIN), price="0.20")
    index_row(credential, datetime(2026, 3, 30, 0, 30, tzinfo=BERLIN), price="0.40")
    for query in ("from=2026-03-28&to=2026-03-30", "from=2026-03-28&to=2026-03-28"):
        response = berlin_client.get(f"/costs/daily.csv?{query}")
        lines = csv_lines(response)
        assert lines[1] == ["2026-03-28", "USD", "1", "60", "0.10"]
    response = berlin_client.get("/costs/daily.csv?from=2026-03-28&to=2026-03-30")
    lines = csv_lines(response)
    assert lines[2:] == [
        ["2026-03-29", "USD", "1", "60", "0.20"],
        ["2026-03-30", "USD", "1", "60", "0.40"],
    ]
