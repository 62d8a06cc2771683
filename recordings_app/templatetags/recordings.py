from decimal import Decimal

from django import template

register = template.Library()

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}


@register.filter
def duration(seconds) -> str:
    """123 -> 0:02:03. Missing values show a dash."""
    if seconds is None or seconds == "":
        return "—"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@register.simple_tag
def money(amount, currency) -> str:
    """$0.0025, €1.20, 0.50 CHF: at least cents, and every sub-cent digit there is."""
    if amount is None:
        return "—"
    amount = Decimal(amount)
    if amount.as_tuple().exponent > -2:
        amount = amount.quantize(Decimal("0.01"))
    else:
        amount = amount.normalize()
        if amount.as_tuple().exponent > -2:
            amount = amount.quantize(Decimal("0.01"))
    text = f"{amount:f}"
    symbol = CURRENCY_SYMBOLS.get(currency or "")
    if symbol:
        return f"-{symbol}{text[1:]}" if text.startswith("-") else f"{symbol}{text}"
    return f"{text} {currency}" if currency else text
