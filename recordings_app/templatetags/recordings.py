from datetime import UTC
from decimal import Decimal

import phonenumbers
from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from recordings_app import error_codes
from recordings_app.signalwire import STATUS_FAMILIES, phone_number, status_family

register = template.Library()

# Characters that reorder the text around them (overrides, embeddings, isolates, marks):
# in upstream text they would let a status read "completed" while it says otherwise.
# No status word, code, track or currency needs one.
BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}


@register.filter(is_safe=True)
def without_bidi(value):
    """Text from elsewhere (SignalWire's fields, a browser's user agent) without the
    characters that reorder what is shown. Removing characters keeps escaped text
    escaped, so the filter is safe on safe strings."""
    if not isinstance(value, str):
        return value
    return value.translate(BIDI_CONTROLS)


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
    currency = without_bidi(currency)
    symbol = CURRENCY_SYMBOLS.get(currency or "")
    if symbol:
        return f"-{symbol}{text[1:]}" if text.startswith("-") else f"{symbol}{text}"
    return f"{text} {currency}" if currency else text


@register.simple_tag
def when(value, seconds=False, text_only=False):
    """The one way a template shows an instant: a <time> in the active time zone (the
    profile's, else the browser's), with UTC on hover. `text_only` gives just the local
    text, for an attribute. Built in Python rather than with three |date filters: a list
    page has one per row and this is ten times faster."""
    if value is None:
        if text_only:
            return ""
        return mark_safe('<span class="missing">—</span>')  # noqa: S308 - a constant
    local = timezone.localtime(value)
    text = f"{local:%b} {local.day}, {local:%Y %H:%M}"
    if seconds:
        text += f":{local:%S} {local:%Z}"
    if text_only:
        return text
    utc = value.astimezone(UTC)
    return format_html(
        '<time datetime="{}" title="{} UTC">{}</time>',
        utc.isoformat().replace("+00:00", "Z"),
        f"{utc:%Y-%m-%d %H:%M:%S}",
        text,
    )


@register.simple_tag
def status_badge(recording):
    """SignalWire's own status word as a badge coloured by its family (done, in progress,
    no audio, failed, other), the family named on hover; a failed one with its error
    code."""
    if recording.status:
        family = status_family(recording.status, recording.error_code)
        badge = format_html(
            '<span class="badge status-{}" title="{}">{}</span>',
            family,
            STATUS_FAMILIES[family],
            without_bidi(recording.status),
        )
    else:
        badge = mark_safe('<span class="missing">—</span>')  # noqa: S308 - a constant
    if recording.error_code:
        badge += format_html(
            ' <span class="error-code" title="{}">{}</span>',
            error_meaning(recording.error_code) or "Error code",
            without_bidi(recording.error_code),
        )
    return badge


@register.filter
def error_meaning(code) -> str | None:
    """A failed recording's error code in words, None where we do not know it."""
    return error_codes.describe(code if isinstance(code, str) else None)


@register.filter
def lanes(recording) -> list[dict]:
    """The waveform lanes of a recording: one for mono, left and right for stereo, each
    with its party where it can be said (Recording.channel_parties)."""
    if not recording.stereo:
        return [{"channel": 0, "side": "mono", "label": "Mono", "party": ""}]
    parties = recording.channel_parties
    return [
        {"channel": 0, "side": "left", "label": "Left", "party": parties[0]},
        {"channel": 1, "side": "right", "label": "Right", "party": parties[1]},
    ]


DIRECTION_LABELS = {
    "inbound": "Inbound",
    "outbound": "Outbound",
    "outbound-api": "Outbound (API)",
    "outbound-dial": "Outbound (dialed)",
}


@register.simple_tag(takes_context=True)
def party(context, address):
    """One end of a call for reading: a phone number of the reader's region in national
    form ("(415) 555-0100"), any other in international form ("+44 20 7946 0000"), the
    E.164 form on hover; a SIP URI, a client name or "anonymous" as it came."""
    if not address:
        return mark_safe('<span class="missing">—</span>')  # noqa: S308 - a constant
    number = phone_number(address)
    if number is None:
        shown = without_bidi(address)
        # Titled, since a long SIP URI is cut short in the list (app.css).
        return format_html('<span class="party" title="{}">{}</span>', shown, shown)
    region = context.get("phone_region") or settings.PHONE_REGION
    national = phonenumbers.region_code_for_number(number) == region
    style = phonenumbers.PhoneNumberFormat.NATIONAL if national else None
    shown = phonenumbers.format_number(
        number, style or phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return format_html('<span class="party" title="{}">{}</span>', e164, shown)


@register.filter
def direction_label(direction) -> str:
    """SignalWire's direction word in words; one we do not know, as it came."""
    if not direction:
        return "—"
    return DIRECTION_LABELS.get(direction, without_bidi(direction))
