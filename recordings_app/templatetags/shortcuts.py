"""Date shortcuts for the list's filters: Today, Yesterday, Last 7 days, This month, in
the user's time zone (as the costs page offers periods). Dates only: no database."""

from datetime import timedelta
from urllib.parse import urlencode

from django import template
from django.utils import timezone

register = template.Library()


@register.simple_tag
def date_shortcuts() -> list[tuple[str, str]]:
    """[(label, query string)] with `from` at the first minute and `to` at the last."""
    today = timezone.localdate()
    spans = [
        ("Today", today, today),
        ("Yesterday", today - timedelta(days=1), today - timedelta(days=1)),
        ("Last 7 days", today - timedelta(days=6), today),
        ("This month", today.replace(day=1), today),
    ]
    return [
        (
            label,
            "?" + urlencode({"from": f"{first:%Y-%m-%d}T00:00", "to": f"{last:%Y-%m-%d}T23:59"}),
        )
        for label, first, last in spans
    ]
